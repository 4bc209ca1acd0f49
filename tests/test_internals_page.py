"""AppTest: the Internals page on tiny checkpoints of two families."""

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def env(tmp_path, monkeypatch, make_checkpoint):
    ckpts = tmp_path / "checkpoints"
    ckpts.mkdir()
    shutil.copytree(make_checkpoint("bert", name="i1", finetuning_task="cola", seed=1), ckpts / "int-bert-cola")
    shutil.copytree(make_checkpoint("roberta", name="i2", finetuning_task="cola", seed=2), ckpts / "int-roberta-cola")
    for key, value in {"EXPLORER_CHECKPOINTS": ckpts, "EXPLORER_MODELS": tmp_path / "models.toml", "EXPLORER_DEFAULTS": "0"}.items():
        monkeypatch.setenv(key, str(value))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.mark.parametrize("model", ["int-bert-cola", "int-roberta-cola"])
def test_tokens_padding_mask_and_positions(env, model):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.selectbox(key="int_model").set_value(model).run()
    at.text_area(key="int_text").input("책이 있다.\n나는 어제 학교에 갔다. | 비가 왔다.").run()
    assert not at.exception
    grid_html = next(m.value for m in at.markdown if "[PAD]" in m.value or "<pad>" in m.value)
    assert "background:#eee" in grid_html  # the shorter pair is padded
    invariance = next(d.value for d in at.dataframe if "diff_masked" in d.value.columns)
    assert (invariance["diff_masked"] < 1e-4).all()
    cost = next(d.value for d in at.dataframe if "pad_tokens" in d.value.columns).set_index("strategy")
    assert cost.loc["max_length", "pad_tokens"] >= cost.loc["longest", "pad_tokens"] >= cost.loc["none", "pad_tokens"]
    assert any("the model adds positions itself" in m.value for m in at.markdown)


def test_empty_input_warns(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.text_area(key="int_text").input("   ").run()
    assert not at.exception and any("at least one input" in w.value for w in at.warning)


def test_counterfactuals_rescored_by_every_cola_model(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.text_area(key="int_text").input("나는 사과를 먹었다.").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "flipped" in d.value.columns)
    assert set(table["model"]) == {"int-bert-cola", "int-roberta-cola"}
    assert "사과가" in " ".join(table["variant"]) and set(table["edit"]) >= {"particle allomorph", "tense changed"}
    assert ((table["p_variant"] >= 0.5) != (table["p_original"] >= 0.5)).eq(table["flipped"]).all()


def test_attributions_with_side_by_side_models_and_aggregation(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.selectbox(key="int_model").set_value("int-bert-cola").run()
    at.text_area(key="int_text").input("나는 사과를 먹었다.").run()
    at.multiselect(key="int_attr_others").set_value(["int-roberta-cola"]).run()
    assert not at.exception
    eojeol = [d.value for d in at.dataframe if list(d.value.columns) == ["eojeol", "score"]]
    assert len(eojeol) == 2 and all(list(t["eojeol"]) == ["나는", "사과를", "먹었다."] for t in eojeol)
    assert any("convergence delta" in c.value for c in at.caption)


def test_two_models_position_tables_side_by_side(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.selectbox(key="int_model").set_value("int-bert-cola").run()
    at.selectbox(key="int_pos_other").set_value("int-roberta-cola").run()
    assert not at.exception
    notes = " ".join(m.value for m in at.markdown)
    assert "**int-bert-cola**" in notes and "**int-roberta-cola**" in notes
    assert sum("position" in m.value.lower() for m in at.markdown) >= 2  # each side explains its table


def test_changing_another_tab_does_not_rerun_attributions(env, monkeypatch):
    import explorer.internals.attributions as attributions

    calls = []
    real = attributions.attribute
    monkeypatch.setattr(attributions, "attribute", lambda *a, **k: calls.append(1) or real(*a, **k))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    first = len(calls)
    at.segmented_control(key="int_pad").set_value("max_length").run()
    assert not at.exception and first == 1 and len(calls) == first
