"""Comparison: our evaluated rows beside published ones, anatomy and curves, in the page."""

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer.compare import comparison_table, filter_table
from explorer.tasks.registry import read_dataset
from explorer.evaluate import ResultStore, evaluate
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
    for key, value in {"EXPLORER_CHECKPOINTS": ckpts, "EXPLORER_MODELS": tmp_path / "models.toml", "EXPLORER_DEFAULTS": "0",
                       "EXPLORER_RESULTS": tmp_path / "results"}.items():
        monkeypatch.setenv(key, str(value))
    st.cache_resource.clear()
    yield result
    st.cache_resource.clear()


def test_table_puts_our_result_beside_published_rows_with_sources(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    ours = table[table["ours"]]
    assert list(ours["model"]) == ["cmp-electra-cola"]
    assert ours["CoLA MCC"].iloc[0] == pytest.approx(100 * env.metrics["mcc"])
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
    assert "WiC acc" not in cola.columns and cola["CoLA MCC"].notna().all()
    assert not filter_table(table, published=False)["ours"].eq(False).any()
    bert_only = filter_table(table, families=["bert"])
    assert set(bert_only["family"]) == {"bert"}


def test_live_side_by_side_sends_one_input_to_every_task_that_has_its_fields(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/compare.py")
    at.run()
    at.text_input(key="live_s").input("나는 어제 학교에 갔다.")
    at.button(key="live_run").click().run()
    assert not at.exception
    live = next(d.value for d in at.dataframe if "task" in d.value.columns)
    assert set(live["task"]) == {"cola"} and set(live["model"]) == {"cmp-electra-cola", "cmp-bert-cola"}
    assert live["agreement"].between(0.5, 1.0).all()
    assert at.query_params["s"] == "나는 어제 학교에 갔다."


def test_a_live_link_restores_its_inputs_and_answers_them(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["s"] = "나는 어제 학교에 갔다."
    at.query_params["q"] = "학교에 갔나요?"
    at.query_params["cq"] = "결과"  # a link may say 원인/결과 as well as cause/effect
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception
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