"""`prepare --data DIR`: real models from NIKL/KoBEST files, the Kiwi-features scorer, and finetune's warning.

Files are tiny fakes in the published layouts, and the fine-tuned base is a
tiny random BERT (the recipe's e5 base is replaced through ``base``), so these
tests check the plumbing — finding, training, recording, skipping, resuming,
registering, predicting — never accuracy.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pytest

from explorer.cli import main
from explorer.defaults import from_data
from explorer.defaults.from_data import PARTIAL, RECIPES, entries, find_task_files, prepare_from_data
from explorer.defaults.korean import generate_cola
from explorer.finetune import finetune
from explorer.kiwi_features import FEATURES, FeatureModel, KiwiFeatures, analyse, fit
from explorer.kiwi_lm import KiwiLM
from explorer.metrics import constant_warning, top_class
from explorer.service import Explorer
from explorer.settings import Settings
from explorer.tasks.registry import TASKS, get, read_dataset

from conftest import SHARED_DATA

COLA_HEADER = "source\tacceptability_label\tsource_annotation\tsentence"
COPA_HEADER = "ID\tsentence\tquestion\t1\t2\tAnswer"


def _write(path: Path, header: str, rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header] + ["\t".join(map(str, r)) for r in rows]) + "\n", encoding="utf-8")
    return path


def _sentences(n: int, seed: int) -> list[str]:
    return [e.sentence for e in generate_cola(n, seed=seed)]


def _cola_rows(n: int, seed: int) -> list[list[object]]:
    return [[f"S{k // 2}", e.label, "" if e.label else "*", e.sentence] for k, e in enumerate(generate_cola(n, seed=seed))]


def _copa_rows(n: int, seed: int) -> list[list[object]]:
    s = _sentences(3 * n, seed)
    return [[k + 1, s[3 * k], "원인" if k % 2 else "결과", s[3 * k + 1], s[3 * k + 2], 1 + k % 2] for k in range(n)]


def _sentineg_rows(n: int, seed: int, label_first: bool) -> list[list[object]]:
    return [[k + 1, k % 2, s] if label_first else [k + 1, s, k % 2] for k, s in enumerate(_sentences(n, seed))]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """NIKL CoLA and COPA, KoBEST SentiNeg (its dev file orders columns differently), a test file, a stray file."""
    root = tmp_path_factory.mktemp("data")
    _write(root / "nikl2021/cola/NIKL_CoLA_train.tsv", COLA_HEADER, _cola_rows(80, 1))
    _write(root / "nikl2021/cola/NIKL_CoLA_dev.tsv", COLA_HEADER, _cola_rows(24, 2))
    _write(root / "nikl2021/cola/NIKL_CoLA_test.tsv", "index\tsentence\tacceptability_label",
           [[k, s, ""] for k, s in enumerate(_sentences(6, 3))])
    _write(root / "nikl2021/copa/SKT_COPA_Train.tsv", COPA_HEADER, _copa_rows(24, 4))
    _write(root / "nikl2021/copa/SKT_COPA_Dev.tsv", COPA_HEADER, _copa_rows(8, 5))
    _write(root / "kobest_v1/sentineg/train.tsv", "ID\tText\tLabel", _sentineg_rows(24, 6, label_first=False))
    _write(root / "kobest_v1/sentineg/dev.tsv", "ID\tLabel\tText", _sentineg_rows(8, 7, label_first=True))
    (root / "notes.txt").write_text("not a task file\n", encoding="utf-8")
    return root


def _settings(cache: Path) -> Settings:
    return Settings(checkpoints_dir=cache / "none", models_toml=cache / "none.toml", cache_dir=cache, device="cpu",
                    include_defaults=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_dir, tiny_base):
    """Every task found, trained once into one cache: ``(settings, records, lines said)``."""
    settings = _settings(tmp_path_factory.mktemp("cache"))
    lines: list[str] = []
    records = prepare_from_data(settings, data_dir, base=str(tiny_base), say=lines.append)
    return settings, records, lines


def test_every_task_has_a_recipe():
    assert set(RECIPES) == set(TASKS)


def test_finds_train_and_dev_pairs(data_dir):
    found, notes = find_task_files(data_dir)
    assert set(found) == {"cola", "copa", "sentineg"}
    assert (found["cola"].train.name, found["cola"].dev.name) == ("NIKL_CoLA_train.tsv", "NIKL_CoLA_dev.tsv")
    assert (found["sentineg"].train.name, found["sentineg"].dev.name) == ("train.tsv", "dev.tsv")
    assert not any("test" in note for note in notes)  # a test file is passed over silently, by its name


def test_prefers_the_folder_with_more_train_rows(tmp_path):
    _write(tmp_path / "a/copa/train.tsv", COPA_HEADER, _copa_rows(6, 1))
    _write(tmp_path / "a/copa/dev.tsv", COPA_HEADER, _copa_rows(4, 2))
    _write(tmp_path / "b/copa/SKT_COPA_Train.tsv", COPA_HEADER, _copa_rows(9, 3))
    _write(tmp_path / "b/copa/SKT_COPA_Dev.tsv", COPA_HEADER, _copa_rows(4, 4))
    _write(tmp_path / "c/copa/train.tsv", COPA_HEADER, _copa_rows(5, 5))  # no dev beside it
    found, notes = find_task_files(tmp_path)
    assert found["copa"].train == tmp_path / "b/copa/SKT_COPA_Train.tsv"
    assert any("a/copa" in n and "also here" in n for n in notes)
    assert any("c/copa" in n and "without its dev file" in n for n in notes)


def test_trains_records_and_registers_every_task(trained, tiny_base):
    settings, records, lines = trained
    assert set(records) == {"cola", "copa", "sentineg"}
    root = from_data.root(settings)
    assert sorted(p.name for p in root.iterdir() if p.name != ".lock") == ["cola", "copa", "sentineg"]  # no .partial
    for task, record in records.items():
        saved = json.loads((root / task / "from_data.json").read_text(encoding="utf-8"))
        assert saved == record
        assert record["metric"] == get(task).main_metric and record["metric"] in record["dev_metrics"]
        assert set(record["files"]) == {"train", "dev"} and len(record["files"]["dev"]["sha256"]) == 64
        assert record["wall_seconds"] >= 0 and record["cpu_seconds"] >= 0
    assert not list((root / "copa").glob("checkpoint-*"))  # the best epoch is at the top; copies removed
    # Progress per task, with fine-tuning steps and epochs.
    assert any(line.startswith("[copa 2/3] Step ") and "epoch" in line for line in lines)
    assert any(line.startswith("[cola 1/3]") and "train sentences analysed" in line for line in lines)

    names = {e.name: e for e in Explorer(settings).registry()[0]}
    assert set(names) == {"Kiwi features CoLA (your data)", "tiny-bert COPA (your data)", "tiny-bert SentiNeg (your data)"}
    assert names["tiny-bert COPA (your data)"].task == "copa"
    # the score first: the Home table's "about" cell shows its start on a laptop screen
    about = names["tiny-bert COPA (your data)"].description
    assert about.startswith("Dev accuracy ") and "on SKT_COPA_Dev.tsv (" in about
    assert about.endswith("tiny-bert fine-tuned on your copa files.")
    assert names["Kiwi features CoLA (your data)"].kind == "kiwi-features"


def test_registered_models_answer(trained, data_dir):
    settings, _, _ = trained
    explorer = Explorer(settings)
    entries_by_task = {e.task: e for e in explorer.registry()[0]}
    for task, path in (("cola", "nikl2021/cola/NIKL_CoLA_dev.tsv"), ("copa", "nikl2021/copa/SKT_COPA_Dev.tsv")):
        items = read_dataset(data_dir / path, task=task).items
        run = explorer.predict([entries_by_task[task]], task, items)[0]
        assert run.error is None, run.error
        assert len(run.predictions) == len(items) and all(p.label in (0, 1) for p in run.predictions)
    assert explorer.is_loaded(entries_by_task["cola"])


def test_second_run_skips_and_changed_data_retrains(trained, data_dir, tiny_base, tmp_path):
    settings, records, _ = trained
    lines: list[str] = []
    again = prepare_from_data(settings, data_dir, base=str(tiny_base), say=lines.append)
    assert again == records
    assert sum("done already" in line for line in lines) == 3 and not any(" training " in line for line in lines)

    # The same files elsewhere, one changed: only that task trains again.
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    _write(copy / "kobest_v1/sentineg/dev.tsv", "ID\tLabel\tText", _sentineg_rows(8, 9, label_first=True))
    lines.clear()
    prepare_from_data(settings, copy, tasks=["sentineg", "cola"], base=str(tiny_base), say=lines.append)
    assert any(line.startswith("[sentineg 1/2] training ") for line in lines)
    assert any(line.startswith("[cola 2/2] done already") for line in lines)


def test_a_second_run_at_once_is_refused(tmp_path, data_dir):
    import fcntl

    settings = _settings(tmp_path / "cache")
    from_data.root(settings).mkdir(parents=True)
    with (from_data.root(settings) / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a run in another process holds it
        with pytest.raises(ValueError, match="another `prepare --data` is training"):
            prepare_from_data(settings, data_dir, tasks=["cola"])
    assert not (from_data.root(settings) / "cola").exists()


def test_a_killed_run_is_restarted_cleanly(tmp_path, data_dir, tiny_base):
    settings = _settings(tmp_path / "cache")
    root = from_data.root(settings)
    # What a run killed mid-epoch leaves: a half-written folder under .partial, nothing published.
    leftover = root / f"copa{PARTIAL}"
    (leftover / "checkpoint-1").mkdir(parents=True)
    (leftover / "checkpoint-1" / "model.safetensors").write_bytes(b"half written")
    assert entries(settings) == []  # a .partial folder is never registered

    lines: list[str] = []
    records = prepare_from_data(settings, data_dir, tasks=["copa"], base=str(tiny_base), say=lines.append)
    assert set(records) == {"copa"}  # --tasks: only COPA, though three tasks are found
    assert any("interrupted run" in line for line in lines)
    assert sorted(p.name for p in root.iterdir() if p.name != ".lock") == ["copa"]
    assert (root / "copa" / "model.safetensors").is_file()
    assert [e.name for e in entries(settings)] == ["tiny-bert COPA (your data)"]


def test_cli_prepare_data(tmp_path, data_dir, tiny_base, monkeypatch, capsys):
    monkeypatch.setenv("EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EXPLORER_FROM_DATA")  # models in the cache folder, as a user's are (conftest moves them)
    monkeypatch.setenv("EXPLORER_DEFAULTS", "0")
    code = main(["prepare", "--data", str(data_dir), "--tasks", "sentineg", "--base", str(tiny_base)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "tiny-bert SentiNeg (your data): dev f1_macro" in out
    assert "[sentineg 1/1] Step " in err
    assert sorted(p.name for p in (tmp_path / "cache" / "from_data").iterdir() if p.name != ".lock") == ["sentineg"]

    assert main(["prepare", "--data", str(data_dir), "--tasks", "wic"]) == 2  # not in the folder
    assert "no train and dev files for wic" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["prepare", "--data", str(data_dir), "--tasks", "cola,nope"])
    assert main(["prepare", "--tasks", "cola"]) == 2  # --tasks only with --data


# --------------------------------------------------------------------------- the Kiwi-features scorer


@pytest.fixture(scope="module")
def kiwi() -> KiwiLM:
    return KiwiLM()


def test_kiwi_features_fit_round_trip_and_predict(kiwi, tmp_path):
    examples = generate_cola(120, seed=11)
    sentences, labels = [e.sentence for e in examples], [e.label for e in examples]
    values, pieces, reading = analyse(kiwi, sentences[0])
    assert tuple(values) == FEATURES and reading.morphemes
    assert any(p.startswith("b:") for p in pieces) and all(isinstance(n, int) for n in pieces.values())

    model = fit(kiwi, sentences, labels, "120 generated sentences", groups=[str(k // 2) for k in range(120)])
    assert model.metrics["C"] in (0.03, 0.1, 0.3) and model.piece_weights
    path = tmp_path / "model.json"
    model.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "ko-model-explorer/kiwi-features"
    loaded = FeatureModel.load(path)
    assert loaded == model

    task = get("cola")
    items = [task.make_item({"sentence": s})[0] for s in sentences[:10]]
    before, after = KiwiFeatures(kiwi, model).predict(task, items), KiwiFeatures(kiwi, loaded).predict(task, items)
    assert [p.probs for p in before] == [p.probs for p in after]
    assert all(0.0 <= p.probs[1] <= 1.0 and p.label == int(p.probs[1] >= 0.5) for p in before)
    assert before[0].details["morphemes"] and set(before[0].details["features"]) == set(FEATURES)
    with pytest.raises(ValueError, match="CoLA"):
        KiwiFeatures(kiwi, model).predict(get("copa"), [])


def test_kiwi_features_refuses_other_files(tmp_path):
    bad = tmp_path / "model.json"
    for content in ({"format": "something else"},
                    {"format": "ko-model-explorer/kiwi-features", "version": 1, "feature_names": ["logprob"]}):
        bad.write_text(json.dumps(content), encoding="utf-8")
        with pytest.raises(ValueError, match="model.json"):
            FeatureModel.load(bad)


# --------------------------------------------------------------------------- finetune's constant-classifier warning


def test_constant_warning_words():
    assert constant_warning("acceptable", 1.0) == (
        "the best epoch predicts 'acceptable' for every dev item: this model has not learned the task."
    )
    assert constant_warning("acceptable", 0.9) is None
    assert top_class([1, 0, 1, 1]) == (1, 0.75) and top_class([0, 1]) == (0, 0.5) and top_class([]) == (0, 0.0)


def test_finetune_warns_when_the_best_epoch_is_constant(tmp_path, tiny_base, capsys):
    # Every dev item is the same sentence, so whatever the model learns it answers them all alike.
    sentence = _sentences(1, 21)[0]
    train = _write(tmp_path / "train.tsv", COLA_HEADER, _cola_rows(16, 22))
    dev = _write(tmp_path / "dev.tsv", COLA_HEADER, [[f"D{k}", k % 2, "" if k % 2 else "*", sentence] for k in range(8)])
    code = main(["finetune", "--task", "cola", "--base", str(tiny_base), "--train", str(train), "--dev", str(dev),
                 "--out", str(tmp_path / "out"), "--epochs", "1", "--batch-size", "8", "--max-length", "32"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "for every dev item: this model has not learned the task." in err
    record = json.loads((tmp_path / "out" / "explorer_finetune.json").read_text(encoding="utf-8"))
    assert len(record["warnings"]) == 1 and "for every dev item" in record["warnings"][0]
    assert set(record["dev_metrics"]) == {"accuracy", "mcc", "f1_macro", "loss"}


def test_finetune_record_has_no_warning_when_predictions_vary(tmp_path, tiny_base):
    train = _write(tmp_path / "train.tsv", COLA_HEADER, _cola_rows(16, 23))
    dev = _write(tmp_path / "dev.tsv", COLA_HEADER, _cola_rows(16, 24))
    report = finetune("cola", str(tiny_base), train, dev, tmp_path / "out", epochs=1, batch_size=8, max_length=32)
    state = json.loads((tmp_path / "out" / "trainer_state.json").read_text(encoding="utf-8"))
    share = [e["eval_top_class_share"] for e in state["log_history"] if "eval_loss" in e][-1]
    assert (report["warnings"] == []) == (share < 1.0)


# --------------------------------------------------------------------------- the real files (when present)


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent (a fresh clone)")
def test_finds_every_task_in_the_real_files():
    found, notes = find_task_files(SHARED_DATA)
    assert set(found) == set(TASKS)
    assert found["cola"].train.name == "NIKL_CoLA_train.tsv" and found["cola"].dev.name == "NIKL_CoLA_dev.tsv"
    # NIKL and KoBEST both hold COPA and WiC; the NIKL files have more train rows.
    assert found["wic"].train.name == "NIKL_SKT_WiC_Train.tsv"
    assert any("kobest_v1/wic" in note for note in notes)


def test_a_task_page_says_what_a_model_from_your_data_measured(trained, monkeypatch):
    """Beside its answers, the CoLA page names the real model's dev score and what it cannot judge, so its
    (weak) answers are not read as a Korean model's best."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    settings, records, _ = trained
    monkeypatch.setenv("EXPLORER_CACHE", str(settings.cache_dir))
    monkeypatch.delenv("EXPLORER_FROM_DATA")  # the models `trained` wrote in its cache folder
    monkeypatch.setenv("EXPLORER_DEFAULTS", "0")
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(settings.cache_dir / "none"))
    monkeypatch.setenv("EXPLORER_MODELS", str(settings.cache_dir / "none.toml"))
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
        at.switch_page("pages/acceptability.py")
        at.run()
        at.text_area(key="cola_text").input("나는 어제 학교에 갔다.")
        at.button(key="cola_run").click()
        at.run()
        assert not at.exception
        value = records["cola"]["dev_metrics"][records["cola"]["metric"]]
        notes = [html.unescape(c.value) for c in at.caption]  # as the reader sees it
        notes = [n for n in notes if n.startswith("**Kiwi features CoLA (your data)**: ")]
        assert notes and f"{value:.3f}" in notes[0] and "word order" in notes[0]
    finally:
        st.cache_resource.clear()
