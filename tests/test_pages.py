"""AppTest: the home and acceptability pages as a user drives them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer.loading import load_model
from explorer.registry import folder_entry
from explorer.tasks.cola import ColaItem
from explorer.tasks.predict import predict_items

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SENTENCES = ["나는 어제 학교에 갔다.", "책가 책상 위에 있다."]


@pytest.fixture
def checkpoints(tmp_path, monkeypatch, make_checkpoint) -> Path:
    """A checkpoints folder with two tiny working CoLA models and one broken folder; no defaults."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copytree(make_checkpoint("electra", name="e", finetuning_task="cola", seed=1), folder / "tiny-electra-cola")
    shutil.copytree(make_checkpoint("bert", name="b", finetuning_task="cola", seed=2), folder / "tiny-bert-cola")
    (folder / "half-copied").mkdir()
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(folder))
    monkeypatch.setenv("EXPLORER_MODELS", str(tmp_path / "models.toml"))
    monkeypatch.setenv("EXPLORER_DEFAULTS", "0")
    st.cache_resource.clear()  # a fresh Explorer reads the settings above
    yield folder
    st.cache_resource.clear()


def _acceptability_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/acceptability.py")
    return at.run()


def test_home_lists_models_with_task_source_and_problems(checkpoints):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    frame = at.dataframe[0].value
    rows = frame.set_index("model")
    assert rows.loc["tiny-electra-cola", "task"].startswith("CoLA")
    assert "finetuning_task" in rows.loc["tiny-electra-cola", "task inferred from"]
    assert rows.loc["tiny-electra-cola", "parameters"] > 0
    assert "config.json" in rows.loc["half-copied", "status"]


def test_home_shows_a_dash_where_a_model_has_no_parameter_count(checkpoints):
    from explorer.ui.tables import MISSING

    at = AppTest.from_file(APP, default_timeout=60).run()
    table = at.dataframe[0]
    rows = table.value.set_index("model")
    assert rows["parameters"].isna()["half-copied"]  # no count for a folder without a config
    assert table.proto.placeholder == MISSING == "—"  # shown as the one missing-value sign, never "None"


def test_scoring_fills_the_table_with_each_models_probability(checkpoints):
    at = _acceptability_page()
    at.text_area(key="cola_text").input("\n".join(SENTENCES))
    at.button(key="cola_run").click()
    at.run()
    assert not at.exception and not at.error
    frame = at.dataframe[0].value
    assert list(frame["sentence"]) == SENTENCES
    for name in ("tiny-electra-cola", "tiny-bert-cola"):
        loaded = load_model(folder_entry(checkpoints / name, "checkpoints"), "cpu")
        expected = [p.p1 for p in predict_items(loaded, "cola", [ColaItem(str(n), s, None) for n, s in enumerate(SENTENCES)])]
        assert list(frame[name]) == pytest.approx(expected, abs=1e-5)
    assert set(frame["verdict"]) <= {"acceptable", "unacceptable", "split"}
    assert all(0.5 <= a <= 1 for a in frame["agreement"])
    # the link reproduces the table
    assert at.query_params["s"] == "\n".join(SENTENCES)
    assert sorted(at.query_params["m"]) == ["tiny-bert-cola", "tiny-electra-cola"]


def test_shared_link_shows_the_same_table(checkpoints):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["s"] = "\n".join(SENTENCES)
    at.query_params["m"] = ["tiny-bert-cola"]
    at.switch_page("pages/acceptability.py")
    at.run()
    frame = at.dataframe[0].value
    assert list(frame["sentence"]) == SENTENCES
    assert "tiny-bert-cola" in frame.columns and "tiny-electra-cola" not in frame.columns


def test_empty_input_warns_and_keeps_running(checkpoints):
    at = _acceptability_page()
    at.text_area(key="cola_text").input("   \n\t\n")
    at.button(key="cola_run").click()
    at.run()
    assert not at.exception
    assert any("at least one sentence" in w.value for w in at.warning)
    assert len(at.dataframe) == 0


def test_a_broken_model_reports_and_the_others_still_score(checkpoints):
    weights = checkpoints / "tiny-bert-cola" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    at = _acceptability_page()
    at.text_area(key="cola_text").input("\x07책이 있다.\n" + "책이 있다 " * 20_000)
    at.button(key="cola_run").click()
    at.run()
    assert not at.exception
    assert any("tiny-bert-cola" in e.value and "safetensors" in e.value for e in at.error)
    frame = at.dataframe[0].value
    assert "tiny-electra-cola" in frame.columns and "tiny-bert-cola" not in frame.columns
    assert frame.loc[0, "sentence"] == "책이 있다."
    assert "dropped" in frame.loc[1, "notes"]
    assert any("control" in i.value for i in at.info)


def test_example_button_adds_a_sentence(checkpoints):
    at = _acceptability_page()
    from explorer.tasks.registry import get

    demo_sentences = lambda: [(e["sentence"], e["note"]) for e in get("cola").examples]  # noqa: E731

    at.pills(key="cola_example").set_value(3).run()
    assert at.text_area(key="cola_text").value == demo_sentences()[3][0]
    at.pills(key="cola_example").set_value(0).run()
    assert at.text_area(key="cola_text").value.splitlines() == [demo_sentences()[3][0], demo_sentences()[0][0]]


def test_an_unusable_models_odd_folder_name_is_shown_as_typed(checkpoints):
    from explorer.text import escape_markdown

    odd = "kim_*cola*_$2$"  # markdown and LaTeX signs a classmate's folder name may carry
    (checkpoints / odd).mkdir()  # half copied: no config yet, its task read from the name
    at = _acceptability_page()
    assert not at.exception
    lines = [m.value for m in at.markdown if "— " in m.value and "kim" in m.value]
    assert lines and lines[0].startswith(f"**{escape_markdown(odd)}** — ")
