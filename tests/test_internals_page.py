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
    # A user's WiC pair classifier and COPA multiple-choice checkpoint.
    shutil.copytree(make_checkpoint("electra", name="i3", finetuning_task="wic", seed=3), ckpts / "int-electra-wic")
    shutil.copytree(make_checkpoint("bert", name="i4", head="multiple_choice", seed=4), ckpts / "int-bert-copa")
    for key, value in {"EXPLORER_CHECKPOINTS": ckpts, "EXPLORER_MODELS": tmp_path / "models.toml", "EXPLORER_DEFAULTS": "0"}.items():
        monkeypatch.setenv(key, str(value))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def _tab(at: AppTest, name: str) -> AppTest:
    """Opens a tab: only the open tab's views run."""
    at.session_state["int_tab"] = name
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("model", ["int-bert-cola", "int-roberta-cola"])
def test_tokens_padding_mask_and_positions(env, model):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.selectbox(key="int_model").set_value(model).run()
    at.text_area(key="int_text_cola").input("책이 있다.\n나는 어제 학교에 갔다. | 비가 왔다.").run()
    assert not at.exception
    grid_html = next(m.value for m in at.markdown if "[PAD]" in m.value or "<pad>" in m.value)
    assert "background:#eee" in grid_html  # the shorter pair is padded
    invariance = next(d.value for d in at.dataframe if "diff_masked" in d.value.columns)
    assert (invariance["diff_masked"] < 1e-4).all()
    cost = next(d.value for d in at.dataframe if "pad_tokens" in d.value.columns).set_index("strategy")
    assert cost.loc["max_length", "pad_tokens"] >= cost.loc["longest", "pad_tokens"] >= cost.loc["none", "pad_tokens"]
    assert not any("the model adds positions itself" in m.value for m in at.markdown)  # a closed tab runs nothing
    _tab(at, "Positional embeddings")
    assert any("the model adds positions itself" in m.value for m in at.markdown)


def test_empty_input_warns(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.text_area(key="int_text_cola").input("   ").run()
    assert not at.exception and any("at least one input" in w.value for w in at.warning)


def test_counterfactuals_rescored_by_every_cola_model(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.text_area(key="int_text_cola").input("나는 사과를 먹었다.").run()
    _tab(at, "Korean counterfactuals")
    table = next(d.value for d in at.dataframe if "flipped" in d.value.columns)
    assert set(table["model"]) == {"int-bert-cola", "int-roberta-cola"}
    assert "사과가" in " ".join(table["variant"]) and set(table["edit"]) >= {"particle allomorph", "tense changed"}
    assert ((table["p_variant"] >= 0.5) != (table["p_original"] >= 0.5)).eq(table["flipped"]).all()


def test_attributions_with_side_by_side_models_and_aggregation(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.selectbox(key="int_model").set_value("int-bert-cola").run()
    at.text_area(key="int_text_cola").input("나는 사과를 먹었다.").run()
    _tab(at, "Token attributions")
    at.multiselect(key="int_attr_others").set_value(["int-roberta-cola"]).run()
    assert not at.exception
    eojeol = [d.value for d in at.dataframe if list(d.value.columns) == ["eojeol", "score"]]
    morphemes = [d.value for d in at.dataframe if list(d.value.columns) == ["morpheme", "score"]]
    assert any("를/JKO" in list(t["morpheme"]) for t in morphemes)
    assert len(eojeol) == 2 and all(list(t["eojeol"]) == ["나는", "사과를", "먹었다."] for t in eojeol)
    assert any("convergence delta" in c.value for c in at.caption)


def test_two_models_position_tables_side_by_side(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.selectbox(key="int_model").set_value("int-bert-cola").run()
    _tab(at, "Positional embeddings")
    at.selectbox(key="int_pos_other").set_value("int-roberta-cola").run()
    assert not at.exception
    notes = " ".join(m.value for m in at.markdown)
    assert "**int-bert-cola**" in notes and "**int-roberta-cola**" in notes
    assert sum("position" in m.value.lower() for m in at.markdown) >= 2  # each side explains its table


def test_attributions_run_only_in_their_tab_and_once_per_input(env, monkeypatch):
    import explorer.internals.attributions as attributions

    calls = []
    real = attributions.attribute
    monkeypatch.setattr(attributions, "attribute", lambda *a, **k: calls.append(1) or real(*a, **k))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/internals.py")
    at.run()
    at.segmented_control(key="int_pad").set_value("max_length").run()
    assert not at.exception and calls == []  # the tokens tab is open: nothing is attributed
    _tab(at, "Token attributions")
    assert len(calls) == 1
    _tab(at, "Tokens, padding and the mask")
    _tab(at, "Token attributions")
    assert len(calls) == 1  # the same input and options: reused, not recomputed


def _open(model: str, text: str, task: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("pages/internals.py")
    at.run()
    at.selectbox(key="int_model").set_value(model).run()
    at.text_area(key=f"int_text_{task}").input(text).run()
    assert not at.exception, at.exception
    return at


def test_wic_checkpoint_every_view(env):
    at = _open("int-electra-wic", "배 | 배가 아파서 병원에 갔다. | 배를 타고 섬에 갔다.\n눈 | 눈이 왔다. | 눈을 감았다.", "wic")
    grid = next(m.value for m in at.markdown if "[PAD]" in m.value)
    # Tokens with the Kiwi morphemes and the eojeol they belong to under them.
    assert "[SEP]" in grid and "병원에" in grid and "JKB" in grid
    invariance = next(d.value for d in at.dataframe if "diff_masked" in d.value.columns)
    assert list(invariance["input"]) == ["1", "2"] and (invariance["diff_masked"] < 1e-4).all()
    _tab(at, "Positional embeddings")
    assert any("the model adds positions itself" in m.value for m in at.markdown)
    _tab(at, "Token attributions")
    words = next(d.value for d in at.dataframe if list(d.value.columns) == ["part", "eojeol", "score"])
    assert set(words["part"]) == {"text 1", "text 2"} and "병원에" in list(words["eojeol"])
    _tab(at, "Korean counterfactuals")
    flips = next(d.value for d in at.dataframe if "flipped" in d.value.columns)
    assert set(flips["field"]) == {"sentence1", "sentence2"} and set(flips["answer_original"]) <= {"same sense", "different senses"}
    assert (flips["flipped"] == (flips["answer_original"] != flips["answer_variant"])).all()


def test_copa_multiple_choice_checkpoint_every_view(env):
    at = _open("int-bert-copa", "비가 많이 왔다. | 결과 | 길이 미끄러웠다. | 하늘이 맑았다.", "copa")
    invariance = next(d.value for d in at.dataframe if "diff_masked" in d.value.columns)
    assert list(invariance["input"]) == ["1·alt 1", "1·alt 2"] and (invariance["diff_masked"] < 1e-4).all()
    assert any("multiple-choice head scores each row" in c.value for c in at.caption)
    _tab(at, "Positional embeddings")
    assert any("the model adds positions itself" in m.value for m in at.markdown)
    _tab(at, "Token attributions")
    words = next(d.value for d in at.dataframe if list(d.value.columns) == ["part", "eojeol", "score"])
    assert {"alt 1 · text 2", "alt 2 · text 2"} <= set(words["part"])
    assert any("explaining alternative" in m.value for m in at.markdown)
    at.radio(key="int_mc_target").set_value("difference").run()
    assert not at.exception and any("minus alternative" in m.value for m in at.markdown)
    _tab(at, "Korean counterfactuals")
    flips = next(d.value for d in at.dataframe if "flipped" in d.value.columns)
    assert set(flips["field"]) >= {"premise", "alternative1"} and set(flips["answer_original"]) <= {"alternative 1", "alternative 2"}


def test_bad_lines_are_named_and_the_rest_still_runs(env):
    at = _open("int-bert-copa", "비가 왔다. | 결과 | 길이 젖었다. | 해가 떴다.\n한 필드만", "copa")
    assert any(w.value.startswith("line 2:") for w in at.warning)
    assert any("diff_masked" in d.value.columns for d in at.dataframe)
    at.text_area(key="int_text_copa").input("한 필드만").run()
    assert not at.exception and any("Type at least one input" in w.value for w in at.warning)


@pytest.fixture
def defaults_env(tmp_path, monkeypatch, prepared):
    """Only the offline defaults (as `make run` serves them), no user checkpoints."""
    (tmp_path / "checkpoints").mkdir()
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("EXPLORER_MODELS", str(tmp_path / "models.toml"))
    monkeypatch.delenv("EXPLORER_DEFAULTS", raising=False)
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.mark.parametrize("model, task", [("demo-electra-cola", "cola"), ("demo-bert-wic", "wic"),
                                         ("demo-electra-copa", "copa")])
def test_default_models_show_every_view(defaults_env, model, task):
    at = AppTest.from_file(APP, default_timeout=240)
    at.switch_page("pages/internals.py")
    at.run()
    from explorer.registry import TASK_NAMES

    assert f"{model} · {TASK_NAMES[task]}" in at.selectbox(key="int_model").options
    at.selectbox(key="int_model").set_value(model).run()
    assert not at.exception, at.exception
    assert at.text_area(key=f"int_text_{task}").value  # the task's own example inputs
    invariance = next(d.value for d in at.dataframe if "diff_masked" in d.value.columns)
    assert (invariance["diff_masked"] < 1e-4).all() and (invariance["diff_no_mask"] > 1e-6).any()
    assert _tab(at, "Positional embeddings") and any("the model adds positions itself" in m.value for m in at.markdown)
    assert _tab(at, "Attention maps") and any("with the attention mask" in c.value for c in at.caption)
    assert _tab(at, "Token attributions") and any("convergence delta" in c.value for c in at.caption)
    assert _tab(at, "Korean counterfactuals") and any("flipped" in d.value.columns for d in at.dataframe)


def test_attention_maps_with_and_without_the_mask(env):
    at = _open("int-bert-cola", "책이 있다.\n나는 어제 학교에 갔다.", "cola")
    _tab(at, "Attention maps")
    assert any("with the attention mask" in c.value for c in at.caption)
    at.toggle(key="int_att_mask").set_value(False).run()
    assert not at.exception and any("WITHOUT the attention mask" in c.value for c in at.caption)
    # Maps are big (layers × heads × seq² per input): a session keeps only the latest.
    held = [k for k in at.session_state["_internals_memo"] if k[:1] == ("slot",)]
    assert held == [("slot", "attention")]
    assert at.session_state["_internals_memo"][held[0]][0][-1] is False  # the run without the mask
    at.selectbox(key="int_att_layer").set_value(1).run()
    at.toggle(key="int_att_pad").set_value(True).run()
    assert not at.exception


def test_a_very_long_input_is_cut_said_once_and_stays_cheap(env):
    long = " ".join(["나는 어제 학교에서 친구와 사과를 먹었다."] * 150)  # ~3,500 characters, far past 64 tokens
    at = _open("int-bert-cola", long, "cola")
    assert any("cut to" in w.value and "Every view below" in w.value for w in at.warning)
    assert "s" not in at.query_params and at.query_params["m"] == "int-bert-cola"  # too long for a link
    _tab(at, "Korean counterfactuals")
    assert any("possible edits; the first 8 of each kind" in c.value for c in at.caption)
    table = next(d.value for d in at.dataframe if "flipped" in d.value.columns)
    assert table.groupby(["model", "edit"]).size().max() <= 8


def test_a_link_naming_a_model_this_server_lacks_says_so(env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["m"] = "classmates-electra-cola"
    at.switch_page("pages/internals.py")
    at.run()
    assert not at.exception
    warning = next(w.value for w in at.warning if "The link names" in w.value)
    assert "**classmates-electra-cola**, which this page cannot show (not registered on this server)" in warning
    assert f"Showing **{at.selectbox(key='int_model').value}** instead." in warning
