"""Comparison: our evaluated rows beside published ones, anatomy and curves, in the page."""

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer.compare import NOT_REGISTERED, comparison_table, filter_table
from explorer.tasks.registry import read_dataset
from explorer.evaluate import ResultStore, evaluate, split_of
from explorer.loading import load_model
from explorer.registry import folder_entry
from test_evaluate import _write_cola

APP = str(Path(__file__).resolve().parent.parent / "app.py")

OVERFIT = {
    "best_model_checkpoint": "x/checkpoint-30", "best_metric": 0.42, "best_global_step": 30,
    "log_history": [
        {"step": 10, "epoch": 1.0, "eval_loss": 0.60, "eval_mcc": 0.20},
        {"step": 20, "epoch": 2.0, "eval_loss": 0.65, "eval_mcc": 0.31},
        {"step": 30, "epoch": 3.0, "eval_loss": 0.72, "eval_mcc": 0.42},
        {"step": 30, "epoch": 3.0, "loss": 0.2},
    ],
}


@pytest.fixture
def env(tmp_path, monkeypatch, make_checkpoint):
    ckpts = tmp_path / "checkpoints"
    ckpts.mkdir()
    shutil.copytree(make_checkpoint("electra", name="c1", finetuning_task="cola", seed=1), ckpts / "cmp-electra-cola")
    shutil.copytree(make_checkpoint("bert", name="c2", finetuning_task="cola", seed=2), ckpts / "cmp-bert-cola")
    (ckpts / "cmp-bert-cola" / "trainer_state.json").write_text(json.dumps(OVERFIT))
    data = read_dataset(_write_cola(tmp_path / "NIKL_CoLA_dev.tsv", 30))
    store = ResultStore(tmp_path / "results")
    loaded = load_model(folder_entry(ckpts / "cmp-electra-cola", "checkpoints"), "cpu")
    result = evaluate(loaded, loaded.entry, data)
    store.save(result)
    # A model evaluated by path from the command line, never registered: its result is saved all the same.
    elsewhere = shutil.copytree(ckpts / "cmp-bert-cola", tmp_path / "elsewhere" / "cli-bert-cola")
    by_path = load_model(folder_entry(elsewhere, "path"), "cpu")
    store.save(evaluate(by_path, by_path.entry, data))
    for key, value in {"EXPLORER_CHECKPOINTS": ckpts, "EXPLORER_MODELS": tmp_path / "models.toml", "EXPLORER_DEFAULTS": "0",
                       "EXPLORER_RESULTS": tmp_path / "results"}.items():
        monkeypatch.setenv(key, str(value))
    st.cache_resource.clear()
    yield result
    st.cache_resource.clear()


def _compare_page(link: dict[str, str] | None = None) -> AppTest:
    """The Comparison page, run once, opened from ``link`` (its query parameters) when given."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (link or {}).items():
        at.query_params[key] = value
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception
    return at


def test_table_puts_our_result_beside_published_rows_with_sources(env):
    at = _compare_page()
    table = at.dataframe[0].value
    ours = table[table["ours"]]
    assert list(ours["model"]) == ["cmp-electra-cola"]
    assert ours["CoLA MCC"].iloc[0] == pytest.approx(100 * env.metrics["mcc"])
    assert list(ours["split"]) == ["dev"] and list(ours["data"]) == ["CoLA: NIKL_CoLA_dev.tsv"]
    # the model evaluated by path is listed, marked, and not one of ours, even with published rows off
    marked = table[table["model"] == f"cli-bert-cola ({NOT_REGISTERED})"]
    assert len(marked) == 1 and not marked["ours"].iloc[0] and marked["split"].iloc[0] == "dev"
    assert filter_table(table, published=False)["model"].str.startswith("cli-bert-cola").any()
    published = table[~table["ours"]]
    assert published["source"].notna().all() and (published["source"] != "").all()
    assert {"Team_BC (rank 1, round 1)", "Team_BC (rank 1, round 2)"} <= set(published["model"])
    # anatomy of both checkpoints sums to their parameter counts
    facts = at.dataframe[1].value.set_index("model")
    assert facts.loc["cmp-electra-cola", "embedding_size"] < facts.loc["cmp-electra-cola", "hidden_size"]
    # the rising-eval-loss pattern is flagged for the run that shows it
    assert any("cmp-bert-cola" in w.value and "loss" in w.value for w in at.warning)


def test_filters_keep_the_chosen_metric_and_rows_that_have_it(env):
    table = comparison_table([], ResultStore(Path(env.data["path"]).parent / "results").load_all())
    cola = filter_table(table, tasks=["CoLA MCC"])
    assert not cola.empty
    assert "WiC acc" not in cola.columns and cola["CoLA MCC"].notna().all()
    assert filter_table(table, published=False)["evaluated here"].all()
    bert_only = filter_table(table, families=["bert"])
    assert set(bert_only["family"]) == {"bert"}


def test_live_side_by_side_sends_one_input_to_every_task_that_has_its_fields(env):
    at = _compare_page()
    at.text_input(key="live_s").input("나는 어제 학교에 갔다.")
    at.button(key="live_run").click().run()
    assert not at.exception
    live = next(d.value for d in at.dataframe if "task" in d.value.columns)
    assert set(live["task"]) == {"cola"} and set(live["model"]) == {"cmp-electra-cola", "cmp-bert-cola"}
    assert live["agreement"].between(0.5, 1.0).all()
    assert at.query_params["s"] == "나는 어제 학교에 갔다."


def test_a_live_link_restores_its_inputs_and_answers_them(env):
    # a link may say 원인/결과 as well as cause/effect
    at = _compare_page({"s": "나는 어제 학교에 갔다.", "q": "학교에 갔나요?", "cq": "결과"})
    assert at.text_input(key="live_s").value == "나는 어제 학교에 갔다."
    assert at.text_input(key="live_q").value == "학교에 갔나요?" and at.selectbox(key="live_cq").value == "effect"
    live = next(d.value for d in at.dataframe if "task" in d.value.columns)
    assert set(live["task"]) == {"cola"}  # the only task with models here
    assert at.query_params["s"] == "나는 어제 학교에 갔다." and at.query_params["q"] == "학교에 갔나요?"


def test_live_items_cover_every_task_whose_fields_are_filled():
    from explorer.compare import live_fields, live_items

    form = {"s": "비가 많이 왔다.", "t": "비", "s2": "비가 그쳤다.", "q": "비가 왔나요?", "cq": "결과", "a1": "길이 젖었다.",
            "a2": "해가 떴다."}
    assert set(form) == set(live_fields())  # the page's form is the registry's live fields
    items = live_items(form)
    assert set(items) == {"cola", "sentineg", "wic", "boolq", "copa"}  # every one-sentence task takes the sentence
    assert items["wic"].span1 == (0, 1) and items["copa"].question == "effect" and items["boolq"].passage == "비가 많이 왔다."
    assert set(live_items({"s": "비가 왔다.", "t": "비"})) == {"cola", "sentineg"}  # WiC needs its second sentence too
    assert live_items({"s": "  "}) == {}  # nothing typed, nothing judged


# ---- provenance: every number names its file and split ------------------------------------------------------------

@pytest.mark.parametrize("name, split", [
    ("NIKL_CoLA_dev.tsv", "dev"), ("NIKL_SKT_WiC_Dev.tsv", "dev"), ("SKT_COPA_Test.tsv", "test"),
    ("NIKL_CoLA_test.tsv", "test"), ("SKT_BoolQ_Train.tsv", "train"), ("dev.tsv", "dev"), ("train.tsv", "train"),
    ("/data/kobest_v1/copa/dev.tsv", "dev"), ("NIKL_CoLA_dev (1).tsv", "dev"), ("klue_validation.csv", "dev"),
    ("generated_cola_test.tsv", "generated"), ("demo-wic-dev.tsv", "generated"),
    ("my_sentences.tsv", "unknown"), ("devices.tsv", "unknown"), ("latest.tsv", "unknown"),
    ("train_dev_merged.tsv", "unknown"), ("", "unknown"),
])
def test_split_of_reads_the_split_from_nikl_and_kobest_names(name, split):
    assert split_of(name) == split


def test_a_result_records_its_split_and_an_old_one_gets_it_from_its_file_name(env, tmp_path):
    saved = json.loads(next((tmp_path / "results").glob("cola__cmp-electra-cola__*.json")).read_text(encoding="utf-8"))
    assert saved["split"] == "dev" == env.split
    # a result saved before the split was recorded: read with the split its file name says
    old = {k: v for k, v in saved.items() if k != "split"} | {"data": saved["data"] | {"name": "SKT_COPA_Test.tsv"},
                                                              "model": "old-run"}
    (tmp_path / "results" / "cola__old-run__0.json").write_text(json.dumps(old), encoding="utf-8")
    loaded = {r.model: r for r in ResultStore(tmp_path / "results").load_all()}
    assert loaded["old-run"].split == "test" and loaded["cmp-electra-cola"].split == "dev"


def _result(result, split_file: str, model: str | None = None):
    """A copy of ``result`` as if measured on ``split_file`` (its split read from the name, as on load)."""
    from dataclasses import replace

    return replace(result, data=result.data | {"name": split_file}, split=None, model=model or result.model)


def test_dev_and_test_numbers_of_one_model_never_share_a_row(env):
    entry = folder_entry(Path(env.model_source), "checkpoints")
    results = [_result(env, "NIKL_CoLA_dev.tsv"), _result(env, "NIKL_CoLA_test.tsv"), _result(env, "generated_cola.tsv")]
    table = comparison_table([entry], results)
    ours = table[table["ours"]].set_index("split")
    assert sorted(ours.index) == ["dev", "generated", "test"]
    assert ours.loc["test", "data"] == "CoLA: NIKL_CoLA_test.tsv" and ours.loc["dev", "data"] == "CoLA: NIKL_CoLA_dev.tsv"
    assert set(ours["model"]) == {"cmp-electra-cola"}
    # test numbers alone: ours on the test file beside the leaderboard, no dev or generated row among them
    tests = filter_table(table, splits=["test"])
    assert set(tests["split"]) == {"test"} and "Team_BC (rank 1, round 1)" in set(tests["model"])
    assert list(tests.loc[tests["ours"], "data"]) == ["CoLA: NIKL_CoLA_test.tsv"]


def test_the_best_number_is_marked_per_split_never_dev_against_test():
    """A model tuned on dev looks better on dev: a dev number never takes the test best's mark, nor the reverse."""
    import pandas as pd

    from explorer.compare import best_cells

    frame = pd.DataFrame({
        "model": ["ours", "leader", "runner-up", "demo"],
        "split": ["dev", "test", "test", "generated"],
        "CoLA MCC": [81.0, 75.0, 70.0, 99.0],
        "COPA acc": [None, 60.0, 90.0, None],
    })
    best = best_cells(frame, ["CoLA MCC", "COPA acc"])
    assert list(best["CoLA MCC"]) == [True, True, False, False]  # dev's best and test's best; generated never
    assert list(best["COPA acc"]) == [False, False, True, False]


def test_published_rows_state_their_split(env):
    table = comparison_table([], [])
    assert not table["ours"].any() and table["split"].isin(["dev", "test"]).all()
    by_model = table.set_index("model")["split"]
    assert by_model["Team_BC (rank 1, round 1)"] == "test"  # the competition ranked on its test files
    assert by_model["KoELECTRA (winning team's single model)"] == "dev"  # the report says dev accuracy
    assert "Hate Speech F1 · dev" in table.columns  # dev in every source, whatever the row's split


def test_a_result_of_a_model_not_registered_now_is_marked_and_not_one_of_ours(env, tmp_path):
    registered = folder_entry(Path(env.model_source), "checkpoints")
    table = comparison_table([registered], ResultStore(tmp_path / "results").load_all())
    row = table[table["model"].str.startswith("cli-bert-cola")].iloc[0]
    assert row["model"] == f"cli-bert-cola ({NOT_REGISTERED})" and not row["ours"] and row["evaluated here"]
    assert NOT_REGISTERED in row["source"] and str(tmp_path / "elsewhere") in row["source"]
    # a registered model of the same name in another folder is another model: its result is not claimed either
    impostor = folder_entry(tmp_path / "checkpoints" / "cmp-bert-cola", "checkpoints")
    impostor.name = "cli-bert-cola"
    assert not comparison_table([impostor], ResultStore(tmp_path / "results").load_all()).query(
        "model.str.startswith('cli-bert-cola')")["ours"].any()


@pytest.mark.parametrize("typed", ["", "   ", "\u200b"])
def test_live_side_by_side_refuses_an_empty_sentence_like_every_task_page(env, typed):
    at = _compare_page()
    at.text_input(key="live_s").input("나는 어제 학교에 갔다.")
    at.button(key="live_run").click().run()
    assert any("task" in d.value.columns for d in at.dataframe)
    at.text_input(key="live_s").input(typed)
    at.button(key="live_run").click().run()
    assert not at.exception
    assert any(w.value.startswith(("Fill in the sentence.", "The sentence is empty")) for w in at.warning), \
        [w.value for w in at.warning]
    assert not any("task" in d.value.columns for d in at.dataframe)  # the earlier answers are gone, not shown for ""
    assert "s" not in at.query_params  # and the link does not keep the refused input


def test_a_live_runs_link_restores_its_inputs_and_answers(env):
    at = _compare_page()
    at.text_input(key="live_s").input("비가 많이 왔다.")
    at.text_input(key="live_q").input("비가 왔나요?")
    at.button(key="live_run").click().run()
    answers = next(d.value for d in at.dataframe if "task" in d.value.columns)
    link = {key: at.query_params[key] for key in at.query_params}
    assert link["s"] == "비가 많이 왔다." and link["q"] == "비가 왔나요?"

    opened = _compare_page(link)  # a new session opened from that link
    assert opened.text_input(key="live_s").value == "비가 많이 왔다." and opened.text_input(key="live_q").value == "비가 왔나요?"
    again = next(d.value for d in opened.dataframe if "task" in d.value.columns)
    assert again[["task", "model", "answer"]].equals(answers[["task", "model", "answer"]])


def test_every_bar_of_the_chart_is_named_by_model_and_split_and_carries_its_value(env):
    from explorer.ui.compare import metric_chart

    entry = folder_entry(Path(env.model_source), "checkpoints")
    table = comparison_table([entry], [_result(env, "NIKL_CoLA_dev.tsv"), _result(env, "NIKL_CoLA_test.tsv")])
    spec = metric_chart(table, "CoLA MCC").to_dict()
    rows = next(iter(spec["datasets"].values()))
    bars = [r["bar"] for r in rows]
    assert len(bars) == len(set(bars)) == table["CoLA MCC"].notna().sum()  # dev and test of one model: two bars
    assert {"cmp-electra-cola · dev", "cmp-electra-cola · test", "Team_BC (rank 1, round 1) · test"} <= set(bars)
    assert all(r["value"] == f"{r['score']:.2f}" for r in rows)
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert texts and all(layer["encoding"]["text"]["field"] == "value" for layer in texts)
    assert spec["layer"][0]["encoding"]["y"]["sort"] == sorted(bars, key=lambda b: -next(r["score"] for r in rows if r["bar"] == b))
