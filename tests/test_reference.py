"""The published reference tables: transcribed cell for cell, sourced, empty where the sources are."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest

from explorer.reference import DATA_DIR, TABLES, checkpoint_size_mb, load_reference, reference_long

SHARED_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
TRANSCRIBED = ["seed_bert_family.csv", "koelectra_readme.csv", "nikl2021_leaderboard.csv"]
LEADERBOARD_SCORES = [
    f"round{r}_{m}" for r in (1, 2) for m in ("cola_mcc", "wic_acc", "copa_acc", "boolq_acc")
]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.skipif(not SHARED_REFERENCE.is_dir(), reason="../shared/reference is not present")
@pytest.mark.parametrize("file", TRANSCRIBED)
def test_transcription_matches_the_shared_files_cell_for_cell(file):
    shared, ours = _rows(SHARED_REFERENCE / file), _rows(DATA_DIR / file)
    assert len(ours) == len(shared)
    for theirs, mine in zip(shared, ours):
        assert {k: mine[k] for k in theirs} == theirs
        assert mine["source"]


@pytest.mark.skipif(not SHARED_REFERENCE.is_dir(), reason="../shared/reference is not present")
@pytest.mark.parametrize("file", TRANSCRIBED)
def test_loaded_numbers_equal_the_shared_text(file):
    table = next(name for name, (f, _) in TABLES.items() if f == file)
    frame = load_reference()[table]
    for i, row in enumerate(_rows(SHARED_REFERENCE / file)):
        for column, text in row.items():
            value = frame.at[i, column]
            if column in TABLES[table][1]:
                assert (value if value is not None else "") == text, (table, i, column)
            elif text == "":
                assert math.isnan(value), (table, i, column)
            else:
                assert value == float(text), (table, i, column)


def test_every_row_has_a_source_and_numbers_are_floats():
    for name, frame in load_reference().items():
        assert frame["source"].map(lambda s: isinstance(s, str) and s.strip() != "").all(), name
        labels = set(TABLES[name][1])
        for column in frame.columns:
            if column not in labels:
                assert pd.api.types.is_float_dtype(frame[column]), (name, column)


def test_sources_are_the_ones_the_readme_names():
    tables = load_reference()
    seed = tables["seed_bert_family"].set_index("model")["source"]
    lmkor = {"albert-kor-base", "bert-kor-base", "electra-kor-base", "funnel-kor-base"}
    assert {m for m, s in seed.items() if s == "kiyoungkim1/LMkor"} == lmkor
    assert set(seed.drop(list(lmkor))) == {"monologg/KoELECTRA README, Result on Subtask"}
    assert set(tables["koelectra_readme"]["source"]) == {"monologg/KoELECTRA README, Result on Subtask"}
    assert set(tables["nikl2021_leaderboard"]["source"]) == {"NIKL-Team-BC/NIKL-KLUE Img/Leaderboard.png"}


def test_empty_cells_stay_empty():
    seed = load_reference()["seed_bert_family"].set_index("model")
    funnel = seed.loc["funnel-kor-base"]
    assert math.isnan(funnel["kornli_acc"]) and math.isnan(funnel["korsts_spearman"])
    assert "84.52" in funnel["note"]
    # Nowhere did an empty cell turn into a zero.
    long = reference_long()
    assert not (long["value"] == 0).any()
    assert not ((long["model"] == "funnel-kor-base") & long["metric"].isin(["kornli_acc", "korsts_spearman"])).any()


def test_rows_shared_by_both_tables_agree():
    tables = load_reference()
    seed = tables["seed_bert_family"].set_index("model")
    koelectra = tables["koelectra_readme"].set_index("model")
    metrics = [c for c in seed.columns if c not in ("note", "source")]
    for model in ("KoBERT", "HanBERT", "KoELECTRA-Base-v3"):
        assert seed.loc[model, metrics].tolist() == koelectra.loc[model, metrics].tolist(), model


def test_leaderboard_overall_is_the_mean_of_the_eight_scores():
    board = load_reference()["nikl2021_leaderboard"]
    means = board[LEADERBOARD_SCORES].mean(axis=1)
    # The published overall is the mean to two decimals (the means end in ...375, and are shown cut/rounded).
    assert ((means - board["overall"]).abs() < 0.005).all()
    assert board["rank"].tolist() == [1.0, 2.0, 3.0]
    assert board["overall"].is_monotonic_decreasing


def test_single_model_results_and_parameter_counts():
    tables = load_reference()
    single = tables["single_model_results"]
    assert set(single["metric"]) == {"dev_accuracy"}
    # The CoLA figures are published as fractions, the others as percentages.
    assert (single.loc[single["task"] == "cola", "value"] < 1).all()
    assert (single.loc[single["task"] != "cola", "value"] > 1).all()
    counts = tables["parameter_counts"]
    by_source = counts.set_index(["model", "source"])["params_millions"]
    assert by_source[("KcELECTRA-base", "tunib/electra-ko-base model card")] == 124
    # The two sources disagree on KcBERT-base; both figures are kept.
    assert by_source[("KcBERT-base", "KcBERT README")] == 108


def test_checkpoint_sizes_are_parsed():
    assert checkpoint_size_mb("351M") == 351
    assert checkpoint_size_mb("1.03G") == pytest.approx(1.03 * 1024)
    assert checkpoint_size_mb("614M (includes tokenizer DB)") == 614
    assert math.isnan(checkpoint_size_mb("")) and math.isnan(checkpoint_size_mb(None))
    sizes = load_reference()["koelectra_readme"]["checkpoint_size_mb"]
    assert sizes.notna().all()


def test_long_form_has_one_row_per_published_number():
    tables = load_reference()
    long = reference_long(tables)
    assert list(long.columns) == ["table", "model", "metric", "value", "source"]
    assert long["source"].notna().all() and long["model"].notna().all()
    assert set(long["table"]) == set(TABLES)
    seed = long[long["table"] == "seed_bert_family"]
    assert len(seed) == 8 * 7 - 2  # two cells are empty in the source
    board = long[long["table"] == "nikl2021_leaderboard"]
    assert "rank" not in set(board["metric"]) and set(board["model"]) == {"Team_BC", "DICE Lab NLP", "eclipse"}
    row = long[(long["model"] == "KoELECTRA-Small-v3") & (long["metric"] == "paws_acc")]
    assert row["value"].tolist() == [77.45]


def test_every_table_of_scores_states_its_split():
    """Dev and test numbers never sit together unmarked: each published row says which it is."""
    tables = load_reference()
    for name, frame in tables.items():
        if name != "parameter_counts":
            assert frame["split"].isin(["dev", "test"]).all(), name
    assert set(tables["nikl2021_leaderboard"]["split"]) == {"test"}  # ranked on the competition's test files
    assert set(tables["single_model_results"]["split"]) == {"dev"}  # "dev accuracy" in the report
    # KoELECTRA's finetune scores its final model on each task's test file; LMkor used that code
    assert set(tables["koelectra_readme"]["split"]) == {"test"} == set(tables["seed_bert_family"]["split"])
    assert tables["single_model_results"]["metric"].str.startswith("dev_").all()
