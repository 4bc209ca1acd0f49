"""AppTest: the Evaluate page from a file in the data folder to metrics and saved results."""

import html
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer.tasks.registry import read_dataset
from explorer.evaluate import ResultStore, evaluate
from explorer.loading import load_model
from explorer.registry import folder_entry
from conftest import SHARED_DATA
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
    shown = [html.unescape(e.value) for e in at.error]  # the escapes taken off: what the reader sees
    assert any("row 2" in e and "acceptability_label" in e for e in shown)


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


# --- demo-ready: readable confusion matrices, slices in order, a data folder that says what it wants, stale results

def _evaluated(env) -> AppTest:
    at = _page()
    at.selectbox(key="eval-path").set_value(env / "data" / "nikl" / "NIKL_CoLA_dev.tsv").run()
    at.button(key="eval_run").click().run()
    assert not at.exception and not at.error
    return at


def _find(at: AppTest, kind: str) -> list:
    """Every element or block of a type on the page (``vega_lite_chart``, ``status``), in page order."""
    found = []

    def walk(node) -> None:
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", None) == kind:
                found.append(child)
            walk(child)

    walk(at.main)
    return found


def _charts(at: AppTest) -> list[dict]:
    """The Vega-Lite specs of the page's charts, as drawn."""
    import json

    return [json.loads(chart.proto.spec) for chart in _find(at, "vega_lite_chart")]


def test_each_confusion_matrix_names_its_axes_and_each_class_once(env):
    at = _evaluated(env)
    charts = _charts(at)
    assert sorted(c["title"]["text"] for c in charts) == ["ev-bert-cola", "ev-electra-cola"]  # one per model
    names = ["unacceptable", "acceptable"]
    for spec in charts:
        for layer in spec["layer"]:  # the cells and their counts, both on the same axes
            x, y = layer["encoding"]["x"], layer["encoding"]["y"]
            assert (x["title"], y["title"]) == ("predicted", "gold")
            assert x["sort"] == names and y["sort"] == names  # each class once per axis, in label order
            assert x["axis"]["labelAngle"] == 0 == y["axis"]["labelAngle"]  # level, never slanted into each other
        # every cell is wide enough for the longest name at the axis's font size
        assert spec["width"]["step"] >= len("unacceptable") * 12 * 0.6
        counts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
        assert counts and counts[0]["encoding"]["text"]["field"] == "count"


def test_confusion_chart_cells_hold_the_counts_of_the_result():
    from explorer.evaluate import EvalResult
    from explorer.ui.evaluate import confusion_chart

    result = EvalResult("m", "m", "wic", {"name": "d.tsv", "n": 10}, {"confusion": [[3, 1], [2, 4]]}, [], 0.1)
    spec = confusion_chart(result, "wic").to_dict()
    rows = next(iter(spec["datasets"].values()))
    cells = {(r["gold"], r["predicted"]): r["count"] for r in rows}
    assert cells == {("different senses", "different senses"): 3, ("different senses", "same sense"): 1,
                     ("same sense", "different senses"): 2, ("same sense", "same sense"): 4}


def test_slices_read_in_order_of_length(env):
    from explorer.tasks.base import LENGTH_SLICES

    at = _evaluated(env)
    slices = next(d.value for d in at.dataframe if "slice" in d.value.columns)
    shown = list(slices.loc[slices["slice"] == "length", "value"])
    order = [name for _, name in LENGTH_SLICES]
    assert len(shown) >= 2 and shown == sorted(shown, key=order.index)
    assert list(slices.columns[3:]) == list(at.dataframe[0].value["model"])  # models as the metrics list them


def test_slice_table_orders_every_kind_by_the_task():
    from explorer.evaluate import slice_table

    rows = [{"model": "m", "slice": kind, "value": value, "n": 1, "accuracy": 1.0, "mcc": 0.0}
            for kind, value in [("question", "effect"), ("length", ">160"), ("length", "21–40"), ("question", "cause"),
                                ("length", "≤20 chars")]]
    from explorer.evaluate import slice_rank
    from explorer.tasks.registry import get as get_task

    rows.sort(key=lambda r: slice_rank(get_task("copa"), r["slice"], r["value"]))
    table = slice_table(rows)
    assert list(zip(table["slice"], table["value"])) == [
        ("length", "≤20 chars"), ("length", "21–40"), ("length", ">160"), ("question", "cause"), ("question", "effect")]


def test_an_empty_data_folder_says_where_it_looks_and_which_names_it_wants(env, monkeypatch):
    from explorer.text import escape_markdown

    empty = env / "no-data-yet"
    empty.mkdir()
    monkeypatch.setenv("EXPLORER_DATA", str(empty))
    st.cache_resource.clear()
    at = _page()
    assert not at.exception
    (message,) = [i.value for i in at.info]
    assert escape_markdown(str(empty)) in message  # the folder, as the page shows it
    for words in ("NIKL_CoLA_*.tsv", "EXPLORER_DATA=DIR", "--data DIR", "Upload a file"):
        assert words in message
    at.segmented_control(key="eval_task").set_value("copa").run()
    (message,) = [i.value for i in at.info]
    assert "SKT_COPA_*.tsv" in message and "copa/*.tsv" in message


def test_a_task_s_own_files_come_first_in_the_folder(tmp_path):
    from explorer.evaluate import find_data_files
    from explorer.tasks.registry import get as get_task

    for name in ("a/other.tsv", "kobest_v1/copa/dev.tsv", "nikl/SKT_COPA_Dev.tsv", "nikl/NIKL_CoLA_dev.tsv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    found = [str(p.relative_to(tmp_path)) for p in find_data_files(tmp_path, get_task("copa").data_files)]
    assert found == ["kobest_v1/copa/dev.tsv", "nikl/SKT_COPA_Dev.tsv", "a/other.tsv", "nikl/NIKL_CoLA_dev.tsv"]


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="the shared NIKL/KoBEST data is not here")
@pytest.mark.parametrize("task_id", ["cola", "wic", "copa", "boolq", "sentineg", "hellaswag"])
def test_every_published_file_named_for_a_task_reads_as_that_task(task_id):
    from explorer.evaluate import find_data_files, name_matches
    from explorer.tasks.registry import get as get_task

    patterns = get_task(task_id).data_files
    mine = [p for p in find_data_files(SHARED_DATA, patterns) if name_matches(p, patterns)]
    assert mine, f"no {task_id} file found by {patterns}"
    for path in mine:
        assert read_dataset(path, task=task_id).task == task_id


def test_results_are_marked_stale_after_the_file_or_the_models_change(env):
    other = _write_cola(env / "data" / "nikl" / "NIKL_CoLA_test_labelled.tsv", 12)
    at = _evaluated(env)
    assert not at.warning and at.success
    at.selectbox(key="eval-path").set_value(other).run()
    assert [w.value for w in at.warning] == ["These results are for the previous file — press **Evaluate** to update."]
    assert not at.success  # the summary no longer reads as the current answer
    at.selectbox(key="eval-path").set_value(env / "data" / "nikl" / "NIKL_CoLA_dev.tsv").run()
    assert not at.warning  # back to the file the results are for
    at.multiselect(key="eval_models_cola").set_value(["ev-bert-cola"]).run()
    assert [w.value for w in at.warning] == ["These results are for the models chosen before — press **Evaluate** to update."]
    at.button(key="eval_run").click().run()
    assert not at.warning and set(at.dataframe[0].value["model"]) == {"ev-bert-cola"}


def test_the_run_says_which_model_of_how_many_and_how_far(env):
    at = _evaluated(env)
    (status,) = _find(at, "status")
    assert status.label.startswith("Done: 2 models in") and status.state == "complete"
    body = [m.value for m in status.children.values() if getattr(m, "type", None) == "markdown"]
    assert body and body[-1].startswith("2 models evaluated in") and "ev-electra-cola" in body[-1]
