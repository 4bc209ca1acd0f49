"""AppTest: the Evaluate page from a file in the data folder to metrics and saved results."""

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer.tasks.registry import read_dataset
from explorer.evaluate import ResultStore, evaluate
from explorer.loading import load_model
from explorer.registry import folder_entry
from test_evaluate import _write_cola

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def env(tmp_path, monkeypatch, make_checkpoint):
    ckpts = tmp_path / "checkpoints"
    ckpts.mkdir()
    shutil.copytree(make_checkpoint("electra", name="e1", finetuning_task="cola", seed=1), ckpts / "ev-electra-cola")
    shutil.copytree(make_checkpoint("bert", name="b1", finetuning_task="cola", seed=2), ckpts / "ev-bert-cola")
    data = tmp_path / "data"
    (data / "nikl").mkdir(parents=True)
    _write_cola(data / "nikl" / "NIKL_CoLA_dev.tsv", 30)
    (data / "broken.tsv").write_text("source\tacceptability_label\tsource_annotation\tsentence\nX\tmaybe\t\t문장.\n", encoding="utf-8")
    for key, value in {"EXPLORER_CHECKPOINTS": ckpts, "EXPLORER_MODELS": tmp_path / "models.toml", "EXPLORER_DEFAULTS": "0",
                       "EXPLORER_DATA": data, "EXPLORER_RESULTS": tmp_path / "results"}.items():
        monkeypatch.setenv(key, str(value))
    st.cache_resource.clear()
    yield tmp_path
    st.cache_resource.clear()


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/evaluate.py")
    at.run()
    at.segmented_control(key="eval-src").set_value("From the data folder").run()
    return at


def test_evaluate_two_models_on_a_file(env):
    at = _page()
    at.selectbox(key="eval-path").set_value(env / "data" / "nikl" / "NIKL_CoLA_dev.tsv").run()
    at.button(key="eval_run").click().run()
    assert not at.exception and not at.error
    metrics = at.dataframe[0].value.set_index("model")
    dataset = read_dataset(env / "data" / "nikl" / "NIKL_CoLA_dev.tsv")
    for name in ("ev-electra-cola", "ev-bert-cola"):
        loaded = load_model(folder_entry(env / "checkpoints" / name, "checkpoints"), "cpu")
        expected = evaluate(loaded, loaded.entry, dataset).metrics
        assert metrics.loc[name, "MCC"] == pytest.approx(expected["mcc"])
        assert metrics.loc[name, "accuracy"] == pytest.approx(expected["accuracy"])
    saved = ResultStore(env / "results").load_all()
    assert sorted(r.model for r in saved) == ["ev-bert-cola", "ev-electra-cola"]
    # the error browser filters to one model's mistakes
    at.selectbox(key="eval_filter-who").set_value("wrong · ev-bert-cola").run()
    browser = at.dataframe[2].value
    assert (browser["pred · ev-bert-cola"] != browser["gold"]).all()


def test_malformed_file_names_row_and_column(env):
    at = _page()
    at.selectbox(key="eval-path").set_value(env / "data" / "broken.tsv").run()
    assert not at.exception
    assert any("row 2" in e.value and "acceptability_label" in e.value for e in at.error)


def test_a_result_that_cannot_be_saved_is_still_shown_with_a_message(env, monkeypatch):
    (env / "not-a-folder").write_text("a file where the results folder should be")
    monkeypatch.setenv("EXPLORER_RESULTS", str(env / "not-a-folder"))
    st.cache_resource.clear()
    at = _page()
    at.selectbox(key="eval-path").set_value(env / "data" / "nikl" / "NIKL_CoLA_dev.tsv").run()
    at.button(key="eval_run").click().run()
    assert not at.exception
    assert sum("could not be saved for later" in e.value for e in at.error) == 2
    assert set(at.dataframe[0].value["model"]) == {"ev-electra-cola", "ev-bert-cola"}


def test_a_task_with_a_slice_upload_asks_for_its_file_and_slices_by_it(env, make_checkpoint):
    """WiC declares ``slice_upload`` (its train file): the page asks for it and adds the seen/unseen slice."""
    from test_finetune import WIC_HEADER, _wic_rows

    shutil.copytree(make_checkpoint("bert", name="w1", finetuning_task="wic", seed=3), env / "checkpoints" / "ev-wic")
    header = WIC_HEADER.encode() + b"\n"
    dev = header + "\n".join("\t".join(map(str, r)) for r in _wic_rows(6, 2)).encode() + b"\n"
    train = header + "\n".join("\t".join(map(str, r)) for r in _wic_rows(4, 1)).encode() + b"\n"
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/evaluate.py")
    at.run()
    at.segmented_control(key="eval_task").set_value("wic").run()
    at.file_uploader(key="eval-up").set_value(("NIKL_SKT_WiC_Dev.tsv", dev, "text/tab-separated-values")).run()
    at.file_uploader(key="eval_train_wic").set_value(("NIKL_SKT_WiC_Train.tsv", train, "text/tab-separated-values")).run()
    at.button(key="eval_run").click().run()
    assert not at.exception and not at.error
    slices = next(d.value for d in at.dataframe if "slice" in d.value.columns)
    assert ("target in train", "seen") in set(zip(slices["slice"], slices["value"]))
