"""AppTest: the WiC, COPA and BoolQ pages as a user drives them.

Tiny random checkpoints stand in for real ones, so the tests check that each
page shows exactly what ``predict_items`` gives when run directly on the same
item, never accuracy.
"""

from __future__ import annotations

import math
import shutil
from collections import Counter
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer.loading import load_model
from explorer.service import Explorer
from explorer.settings import load_settings
from explorer.tasks.items import make_boolq, make_copa, make_wic
from explorer.tasks.predict import predict_items
from explorer.tasks.registry import get as get_task
from explorer.text import escape_markdown

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app.py"

WIC = {"target": "묻", "sentence1": "길을 물었다.", "sentence2": "땅에 보물을 묻었다."}
COPA = {"premise": "밤새 눈이 많이 내렸다.", "question": "effect", "alternative1": "길이 미끄러웠다.", "alternative2": "공원에 꽃이 피었다."}
BOOLQ = {"passage": "김민수는 부산에서 태어났다. 지금은 대전의 한 병원에서 간호사로 일하고 있다.", "question": "김민수는 간호사로 일하나요?"}
LONG_PASSAGE = " ".join(["김민수는 부산에서 태어나 대전의 한 병원에서 간호사로 일하고 있다."] * 30)

WIC_MODELS = ["tiny-bert-wic", "tiny-electra-wic", "tiny-roberta-wic-marked"]
COPA_MODELS = ["tiny-bert-copa-mc", "tiny-electra-copa-pair"]
BOOLQ_MODELS = ["tiny-bert-boolq", "tiny-electra-boolq"]
URL = {
    "wic": {"t": WIC["target"], "s1": WIC["sentence1"], "s2": WIC["sentence2"]},
    "copa": {"p": COPA["premise"], "q": "effect", "a1": COPA["alternative1"], "a2": COPA["alternative2"]},
    "boolq": {"passage": BOOLQ["passage"], "q": BOOLQ["question"]},
}


@pytest.fixture(scope="module")
def sources(make_checkpoint) -> dict[str, Path]:
    """Tiny checkpoints for the three tasks, built once per module."""
    return {
        "tiny-bert-wic": make_checkpoint("bert", name="b-wic", finetuning_task="wic", seed=1),
        "tiny-electra-wic": make_checkpoint("electra", name="e-wic", finetuning_task="wic", seed=2),
        "tiny-roberta-wic-marked": make_checkpoint("roberta", name="r-wic", finetuning_task="wic", seed=3),
        "tiny-bert-copa-mc": make_checkpoint("bert", name="b-copa", head="multiple_choice", finetuning_task="copa", seed=4),
        "tiny-electra-copa-pair": make_checkpoint("electra", name="e-copa", finetuning_task="copa", seed=5),
        "tiny-bert-boolq": make_checkpoint("bert", name="b-boolq", finetuning_task="boolq", seed=6),
        "tiny-electra-boolq": make_checkpoint("electra", name="e-boolq", finetuning_task="boolq", seed=7),
        "tiny-bert-cola": make_checkpoint("bert", name="b-cola", finetuning_task="cola", seed=8),
        "tiny-electra-cola": make_checkpoint("electra", name="e-cola", finetuning_task="cola", seed=9),
    }


@pytest.fixture
def checkpoints(tmp_path, monkeypatch, sources) -> Path:
    """A checkpoints folder with every tiny model; the `marked` WiC model comes from models.toml. No defaults."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name, source in sources.items():
        if name != "tiny-roberta-wic-marked":
            shutil.copytree(source, folder / name)
    marked = tmp_path / "elsewhere" / "roberta-wic"
    shutil.copytree(sources["tiny-roberta-wic-marked"], marked)
    toml = tmp_path / "models.toml"
    toml.write_text(
        f'[[model]]\nname = "tiny-roberta-wic-marked"\npath = "{marked}"\ntask = "wic"\ninput_format = "marked"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(folder))
    monkeypatch.setenv("EXPLORER_MODELS", str(toml))
    monkeypatch.setenv("EXPLORER_DEFAULTS", "0")
    monkeypatch.setenv("EXPLORER_DEVICE", "cpu")
    st.cache_resource.clear()  # a fresh Explorer reads the settings above
    yield folder
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def kiwi():
    from explorer.kiwi_lm import KiwiLM

    return KiwiLM()


def _page(task: str, **params) -> AppTest:
    """The task's page through app.py, as a user reaches it."""
    at = AppTest.from_file(str(APP), default_timeout=180)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(get_task(task).nav.file)
    return at.run()


def _fill(at: AppTest, task: str, values: dict[str, str]) -> AppTest:
    for field, value in values.items():
        key = f"{task}_{field}"
        if field == "question" and task == "copa":
            at.radio(key=key).set_value(value)
        elif key in {"wic_sentence1", "wic_sentence2", "boolq_passage"}:
            at.text_area(key=key).input(value)
        else:
            at.text_input(key=key).input(value)
    at.button(key=f"{task}_run").click()
    return at.run()


def _expected(task: str, names: list[str], item) -> dict:
    """Each model's prediction from ``predict_items`` run directly."""
    entries = {e.name: e for e in Explorer(load_settings([])).registry()[0]}
    return {
        name: predict_items(load_model(entries[name], "cpu"), task, [item], entries[name].input_format)[0]
        for name in names
    }


def _check_agreement(at: AppTest, labels: list[int], names: dict[int, str]) -> None:
    """The agreement line names the majority (split on a tie) and the share agreeing with it."""
    counts = Counter(labels).most_common()
    tied = len(counts) > 1 and counts[0][1] == counts[1][1]
    verdict = "split" if tied else names[counts[0][0]]
    line = next(m.value for m in at.markdown if m.value.startswith("**Majority:**"))
    colour = "green" if counts[0][1] == len(labels) else "orange"
    assert f":{colour}-background[{verdict}]" in line
    assert f"{counts[0][1]} of {len(labels)} " in line and f"({counts[0][1] / len(labels):.0%})" in line


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


# --- WiC --------------------------------------------------------------------------------------------

def test_wic_shows_each_models_probability_agreement_and_the_highlighted_target(checkpoints, kiwi):
    at = _fill(_page("wic"), "wic", WIC)
    assert not at.exception and not at.error
    frame = at.dataframe[0].value.set_index("model")
    assert sorted(frame.index) == sorted(WIC_MODELS)
    item, spans = make_wic(WIC["target"], WIC["sentence1"], WIC["sentence2"], analyse=kiwi.morphemes)
    assert spans[0].how.startswith("Kiwi morpheme 묻/VV") and spans[1].how == "exact match"
    expected = _expected("wic", WIC_MODELS, item)
    for name, pred in expected.items():
        assert frame.loc[name, "P(same sense)"] == pytest.approx(pred.probs[1], abs=1e-5)
        assert frame.loc[name, "verdict"] == ("same sense" if pred.label == 1 else "different senses")
        assert frame.loc[name, "tokens"] == pred.n_tokens
    assert frame.loc["tiny-roberta-wic-marked", "input format"] == "marked"
    assert frame.loc["tiny-bert-wic", "input format"] == "pair (default)"
    _check_agreement(at, [p.label for p in expected.values()], {1: "same sense", 0: "different senses"})
    shown = _markdown(at)
    assert "길을 <mark>물</mark>었다." in shown and "Kiwi morpheme 묻/VV" in shown and "read as “물”" in shown
    assert "땅에 보물을 <mark>묻</mark>었다." in shown and "exact match" in shown
    assert at.query_params["t"] == WIC["target"] and at.query_params["s1"] == WIC["sentence1"]
    assert sorted(at.query_params["m"]) == sorted(WIC_MODELS)


def test_wic_target_not_found_says_to_mark_it_and_brackets_work(checkpoints):
    at = _fill(_page("wic"), "wic", {"target": "잡", "sentence1": "길을 물었다.", "sentence2": "땅에 묻었다."})
    assert not at.exception
    assert sum("[brackets]" in w.value for w in at.warning) == 2
    assert "<mark>" not in _markdown(at)
    assert len(at.dataframe) == 1  # the models still answer on the plain pair
    at = _fill(at, "wic", {"sentence1": "길을 [물었다].", "sentence2": "땅에 [묻었다]."})
    assert not at.warning
    shown = _markdown(at)
    assert "길을 <mark>물었다</mark>." in shown and "marked by you" in shown


def test_wic_escapes_what_users_type(checkpoints):
    at = _fill(_page("wic"), "wic", {"target": "눈", "sentence1": "<b>눈</b>이 *온다* $x$", "sentence2": "눈이 [온다]."})
    assert not at.exception
    shown = _markdown(at)
    assert "<b>" not in shown and "&lt;b&gt;<mark>눈</mark>&lt;/b&gt;" in shown
    assert "*온다*" not in shown and "$x$" not in shown


# --- COPA -------------------------------------------------------------------------------------------

def test_copa_shows_both_heads_choices_and_scores(checkpoints):
    at = _fill(_page("copa"), "copa", COPA)
    assert not at.exception and not at.error
    frame = at.dataframe[0].value.set_index("model")
    assert sorted(frame.index) == COPA_MODELS
    item = make_copa(COPA["premise"], "effect", COPA["alternative1"], COPA["alternative2"])
    expected = _expected("copa", COPA_MODELS, item)
    for name, pred in expected.items():
        assert frame.loc[name, "P(alternative 1)"] == pytest.approx(pred.probs[0], abs=1e-5)
        assert frame.loc[name, "P(alternative 2)"] == pytest.approx(pred.probs[1], abs=1e-5)
        assert frame.loc[name, "choice"].startswith(f"{pred.label + 1}: {item.alternatives[pred.label]}")
        assert frame.loc[name, "input format"] == "connective 그래서 (default)"
    assert frame.loc["tiny-bert-copa-mc", "head"] == "multiple choice"
    assert frame.loc["tiny-electra-copa-pair", "head"] == "pair classifier"
    assert "scored one at a time" in frame.loc["tiny-electra-copa-pair", "notes"]
    _check_agreement(at, [p.label for p in expected.values()], {0: "alternative 1", 1: "alternative 2"})
    assert at.query_params["q"] == "effect"


def test_copa_cause_uses_the_cause_connective(checkpoints):
    at = _fill(_page("copa"), "copa", {**COPA, "question": "cause"})
    frame = at.dataframe[0].value.set_index("model")
    item = make_copa(COPA["premise"], "원인", COPA["alternative1"], COPA["alternative2"])
    expected = _expected("copa", COPA_MODELS, item)
    for name, pred in expected.items():
        assert frame.loc[name, "P(alternative 2)"] == pytest.approx(pred.probs[1], abs=1e-5)
        assert frame.loc[name, "input format"] == "connective 왜냐하면 (default)"


# --- BoolQ ------------------------------------------------------------------------------------------

def test_boolq_answers_yes_no_per_model(checkpoints):
    at = _fill(_page("boolq"), "boolq", BOOLQ)
    assert not at.exception and not at.error
    frame = at.dataframe[0].value.set_index("model")
    expected = _expected("boolq", BOOLQ_MODELS, make_boolq(BOOLQ["passage"], BOOLQ["question"]))
    for name, pred in expected.items():
        assert frame.loc[name, "P(yes)"] == pytest.approx(pred.probs[1], abs=1e-5)
        assert frame.loc[name, "answer"] == ("yes" if pred.label else "no")
        assert frame.loc[name, "passage tokens cut"] == 0
    assert not any("too long" in i.value for i in at.info)
    _check_agreement(at, [p.label for p in expected.values()], {1: "yes", 0: "no"})


def test_boolq_long_passage_says_how_much_each_model_cut(checkpoints):
    at = _fill(_page("boolq"), "boolq", {**BOOLQ, "passage": LONG_PASSAGE})
    assert not at.exception and not at.error
    frame = at.dataframe[0].value.set_index("model")
    expected = _expected("boolq", BOOLQ_MODELS, make_boolq(LONG_PASSAGE, BOOLQ["question"]))
    note = next(i.value for i in at.info if "too long" in i.value)
    assert "question is never cut" in note
    for name, pred in expected.items():
        assert pred.n_dropped > 0
        assert frame.loc[name, "passage tokens cut"] == pred.n_dropped
        assert frame.loc[name, "P(yes)"] == pytest.approx(pred.probs[1], abs=1e-5)
        assert f"**{name}** read {pred.n_tokens} tokens and cut {pred.n_dropped}" in note
    # the link cannot carry this passage: only the models stay in it
    assert "passage" not in at.query_params and "m" in at.query_params
    assert any("too long to share" in c.value for c in at.caption)


# --- shared across pages ----------------------------------------------------------------------------

@pytest.mark.parametrize("task", ["wic", "copa", "boolq"])
def test_empty_fields_warn_without_a_traceback(checkpoints, task):
    at = _page(task)
    at.button(key=f"{task}_run").click()
    at.run()
    assert not at.exception
    assert any(w.value.startswith("Fill in") for w in at.warning)
    assert len(at.dataframe) == 0
    # spaces and control characters alone are empty too
    blank = {"wic": {"target": "묻", "sentence1": "   ", "sentence2": "\x07"},
             "copa": {**COPA, "alternative2": "\u200b "}, "boolq": {**BOOLQ, "question": "\x00\x07"}}[task]
    at = _fill(at, task, blank)
    assert not at.exception and len(at.dataframe) == 0
    assert any("empty" in w.value or "Fill in" in w.value for w in at.warning)


@pytest.mark.parametrize(
    ("task", "model", "column", "build"),
    [
        ("wic", "tiny-electra-wic", "P(same sense)", lambda k: make_wic(WIC["target"], WIC["sentence1"], WIC["sentence2"], k.morphemes)[0]),
        ("copa", "tiny-electra-copa-pair", "P(alternative 2)", lambda k: make_copa(*[COPA[f] for f in ("premise", "question", "alternative1", "alternative2")])),
        ("boolq", "tiny-bert-boolq", "P(yes)", lambda k: make_boolq(BOOLQ["passage"], BOOLQ["question"])),
    ],
)
def test_shared_link_reproduces_the_table(checkpoints, kiwi, task, model, column, build):
    at = _page(task, **URL[task], m=[model])
    assert not at.exception and not at.error
    frame = at.dataframe[0].value
    assert list(frame["model"]) == [model]
    pred = _expected(task, [model], build(kiwi))[model]
    assert frame.loc[0, column] == pytest.approx(pred.probs[1], abs=1e-5)
    for field, value in URL[task].items():
        assert at.query_params[field] == value
    assert at.query_params["m"] == model


@pytest.mark.parametrize(
    ("task", "broken", "working", "values"),
    [
        ("wic", "tiny-bert-wic", "tiny-electra-wic", WIC),
        ("copa", "tiny-bert-copa-mc", "tiny-electra-copa-pair", COPA),
        ("boolq", "tiny-bert-boolq", "tiny-electra-boolq", BOOLQ),
    ],
)
def test_a_broken_checkpoint_reports_and_the_other_model_answers(checkpoints, task, broken, working, values):
    weights = checkpoints / broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    at = _fill(_page(task), task, values)
    assert not at.exception
    assert any(broken in e.value and "safetensors" in e.value for e in at.error)
    frame = at.dataframe[0].value
    assert working in set(frame["model"]) and broken not in set(frame["model"])


@pytest.mark.parametrize("task", ["wic", "copa", "boolq"])
def test_an_example_fills_the_form(checkpoints, task):
    from explorer.ui.task_page import task_examples

    at = _page(task)
    at.pills(key=f"{task}_example").set_value(1).run()
    example = task_examples(get_task(task))[1]
    for field in get_task(task).fields:
        assert at.session_state[f"{task}_{field.name}"] == example[field.name]
    assert at.pills(key=f"{task}_example").value is None  # the same example can be clicked again


def test_no_model_for_the_task_explains_how_to_add_one(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path / "empty"))
    monkeypatch.setenv("EXPLORER_MODELS", str(tmp_path / "models.toml"))
    monkeypatch.setenv("EXPLORER_DEFAULTS", "0")
    st.cache_resource.clear()
    try:
        at = _page("copa")
        assert not at.exception
        help_text = " ".join(i.value for i in at.info)
        assert "No COPA model" in help_text and "python -m explorer finetune --task copa" in help_text
        assert str(tmp_path / "empty") in help_text
        at = _fill(at, "copa", COPA)
        assert any("Pick at least one model" in w.value for w in at.warning)
    finally:
        st.cache_resource.clear()


# --- right or wrong, stale results, inputs that are not Korean (issue 12) -----------------------------

def _click_example(at: AppTest, task: str, index: int) -> AppTest:
    at.pills(key=f"{task}_example").set_value(index).run()
    at.button(key=f"{task}_run").click()
    return at.run()


@pytest.mark.parametrize(("task", "index"), [("wic", 0), ("copa", 1), ("boolq", 2)])
def test_an_example_marks_each_models_answer_right_or_wrong(checkpoints, task, index):
    at = _click_example(_page(task), task, index)
    assert not at.exception and not at.error
    spec = get_task(task)
    example = spec.examples[index]
    expected = spec.expected_label(example)
    frame = at.dataframe[0].value
    verdicts = list(frame[spec.verdict_column])
    item, _ = spec.make_item({f.name: example[f.name] for f in spec.fields},
                             analyse=Explorer(load_settings([])).kiwi().morphemes if spec.uses_morphemes else None)
    right_answer = spec.answer(item, expected)
    assert list(frame["right?"]) == ["✓ right" if v == right_answer else "✗ wrong" for v in verdicts]
    line = next(m.value for m in at.markdown if m.value.startswith("**Expected answer:**"))
    n_right = verdicts.count(right_answer)
    assert f"{n_right} of {len(verdicts)} models right" in line
    assert f"**Expected answer:** {escape_markdown(right_answer)} (a built-in example)" in line


def test_own_input_shows_no_marks(checkpoints):
    at = _fill(_page("wic"), "wic", WIC)
    assert "right?" not in at.dataframe[0].value.columns
    assert not any(m.value.startswith("**Expected answer:**") for m in at.markdown)


def test_an_edited_example_is_own_input_and_loses_its_marks(checkpoints):
    at = _click_example(_page("boolq"), "boolq", 0)
    assert "right?" in at.dataframe[0].value.columns
    question = get_task("boolq").examples[0]["question"]
    at = _fill(at, "boolq", {"question": question + " 정말"})
    assert "right?" not in at.dataframe[0].value.columns


def test_a_result_is_marked_stale_after_an_edit_until_run_again(checkpoints):
    at = _fill(_page("copa"), "copa", COPA)
    assert not any("previous input" in w.value for w in at.warning)
    at.text_input(key="copa_alternative2").input("해가 떴다.").run()
    stale = [w.value for w in at.warning if "previous input" in w.value]
    assert stale and f"press **{get_task('copa').run_label}** to update" in stale[0]
    assert len(at.dataframe) == 1  # the old table stays, marked, never as the new input's answer
    at.button(key="copa_run").click().run()
    assert not any("previous input" in w.value for w in at.warning)


def test_the_run_says_how_long_each_model_took(checkpoints):
    at = _fill(_page("boolq"), "boolq", BOOLQ)
    caption = next(c.value for c in at.caption if "answered in" in c.value)
    assert caption.startswith("2 models answered in") and all(name in caption for name in BOOLQ_MODELS)


@pytest.mark.parametrize(
    ("task", "values", "named"),
    [
        ("boolq", {**BOOLQ, "question": "😀"}, "The question has no Korean"),
        ("wic", {**WIC, "sentence2": "<script>alert(1)</script>"}, "Sentence 2 has no Korean"),
        ("copa", {**COPA, "premise": "It snowed a lot last night."}, "The premise has no Korean"),
    ],
)
def test_an_input_without_korean_gets_a_note_beside_the_answers(checkpoints, task, values, named):
    at = _fill(_page(task), task, values)
    assert not at.exception
    notes = [w.value for w in at.warning if "trained on Korean" in w.value]
    assert len(notes) == 1 and named in notes[0]


def test_korean_input_gets_no_script_note(checkpoints):
    at = _fill(_page("boolq"), "boolq", BOOLQ)
    assert not any("trained on Korean" in w.value for w in at.warning)


def test_the_overlap_baseline_cannot_judge_an_emoji_question(tmp_path, monkeypatch):
    # The BoolQ default: no verdict and no probability for 😀 (never "yes 0.84"), plus the script note.
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path / "none"))
    monkeypatch.setenv("EXPLORER_MODELS", str(tmp_path / "models.toml"))
    st.cache_resource.clear()
    try:
        at = _page("boolq", m=["Kiwi overlap (baseline)"])
        at = _fill(at, "boolq", {**BOOLQ, "question": "😀"})
        row = at.dataframe[0].value.set_index("model").loc["Kiwi overlap (baseline)"]
        assert row["answer"] == "cannot judge" and math.isnan(row["P(yes)"])
        assert any("The question has no Korean" in w.value for w in at.warning)
    finally:
        st.cache_resource.clear()


# --- the CoLA page: sentences × models ------------------------------------------------------------

def _score_sentences(at: AppTest, text: str) -> AppTest:
    at.text_area(key="cola_text").input(text)
    at.button(key="cola_run").click()
    return at.run()


def test_cola_marks_built_in_sentences_and_tallies_each_model(checkpoints):
    examples = get_task("cola").examples
    own = "우리는 주말에 산에 올랐다."
    at = _score_sentences(_page("cola"), "\n".join([examples[0]["sentence"], own, examples[3]["sentence"]]))
    assert not at.exception and not at.error
    frame = at.dataframe[0].value
    assert list(frame["expected"]) == ["acceptable", "", "unacceptable"]  # the own sentence: no answer, no mark
    assert frame.loc[1, "right?"] == ""
    # each model's P(acceptable) against the expected answer gives the marks and the tally
    models = ["tiny-bert-cola", "tiny-electra-cola"]
    right = {m: [(frame.loc[i, m] >= 0.5) == (frame.loc[i, "expected"] == "acceptable") for i in (0, 2)] for m in models}
    for i, k in ((0, 0), (2, 1)):  # one sign per model, in the columns' order, then the count
        signs = " ".join("✓" if right[m][k] else "✗" for m in frame.columns if m in models)
        assert frame.loc[i, "right?"] == f"{signs} ({sum(right[m][k] for m in models)} of 2)"
    line = next(m.value for m in at.markdown if m.value.startswith("**Right answers:**"))
    assert "2 sentences are built-in examples" in line
    for m in models:
        assert f"{m} {sum(right[m])} of 2" in line


def test_cola_own_sentences_show_no_marks_and_an_edit_marks_the_table_stale(checkpoints):
    at = _score_sentences(_page("cola"), "우리는 주말에 산에 올랐다.")
    assert "expected" not in at.dataframe[0].value.columns
    assert not any(m.value.startswith("**Right answers:**") for m in at.markdown)
    at.text_area(key="cola_text").input("우리는 주말에 바다에 갔다.").run()
    assert any("previous input" in w.value and "**Score**" in w.value for w in at.warning)
    at.button(key="cola_run").click().run()
    assert not any("previous input" in w.value for w in at.warning)


def test_cola_names_the_sentences_without_korean(checkpoints):
    at = _score_sentences(_page("cola"), "나는 어제 학교에 갔다.\nI went to school.\n😀")
    notes = [w.value for w in at.warning if "trained on Korean" in w.value]
    assert len(notes) == 1 and "I went to school." in notes[0] and "😀" in notes[0] and "학교" not in notes[0]
    assert "have no Korean" in notes[0]


def test_the_cli_prints_the_script_note_for_each_input_without_korean(sources, monkeypatch, capsys):
    from explorer.cli import main

    monkeypatch.setenv("EXPLORER_DEFAULTS", "0")
    code = main(["predict", "--model", str(sources["tiny-bert-cola"]), "--task", "cola", "hello there", "나는 학교에 갔다."])
    assert code == 0
    err = capsys.readouterr().err
    assert "warning: input 1: Sentence has no Korean: the models were trained on Korean" in err
    assert "input 2" not in err


def test_predict_reports_each_model_as_it_starts_then_its_items(checkpoints):
    # What the pages' status box shows: model k of n starting (done 0, before any loading), then items done.
    explorer = Explorer(load_settings([]))
    entries = {e.name: e for e in explorer.registry()[0]}
    items = [make_boolq(BOOLQ["passage"], BOOLQ["question"]), make_boolq(BOOLQ["passage"], "김민수는 부산에 사나요?")]
    calls = []
    explorer.predict([entries[n] for n in BOOLQ_MODELS], "boolq", items, progress=lambda *a: calls.append(a))
    starts = [c for c in calls if c[1] == 0]
    assert starts == [(0, 0, 2), (1, 0, 2)] and calls[0] == (0, 0, 2)
    assert calls.index((1, 0, 2)) > calls.index((0, 2, 2))  # the second starts after the first finished
    assert calls[-1] == (1, 2, 2)


# --- pieces without Streamlit ---------------------------------------------------------------------

def test_agreement_majority_share_and_split():
    from explorer.tasks.results import agreement
    from explorer.ui.task_page import agreement_line

    assert agreement("wic", [1, 1, 0]).verdict == "same sense"
    assert agreement("wic", [1, 1, 0]).share == pytest.approx(2 / 3)
    assert agreement("boolq", [0]).verdict == "no" and agreement("boolq", [0]).share == 1
    tie = agreement("copa", [0, 1])
    assert tie.verdict == "split" and tie.share == 0.5
    assert "no majority" in agreement_line(tie) and "orange" in agreement_line(tie)
    assert agreement_line(agreement("boolq", [1, 1])).startswith("**Majority:** :green-background[yes] · 2 of 2 models agree")


def test_highlight_escapes_html_and_markdown():
    from explorer.ui.task_page import highlight

    assert highlight("길을 물었다.", (3, 4)) == "길을 <mark>물</mark>었다."
    assert highlight("<i>a</i>", None) == "&lt;i&gt;a&lt;/i&gt;"
    out = highlight("[링크](http://x) **굵게** :smile:", (1, 3))
    assert "<mark>링크</mark>" in out
    assert not any(ch in out.replace("<mark>", "").replace("</mark>", "") for ch in "[]()*:<>")


def test_a_link_naming_models_this_server_lacks_says_so(checkpoints):
    # A classmate's link names their own model and one of another task: neither is silently replaced.
    at = _page("boolq", **URL["boolq"], m=["tiny-bert-boolq", "classmates-boolq", "tiny-bert-wic"])
    assert not at.exception
    warning = next(w.value for w in at.warning if "not available here" in w.value)
    assert "classmates-boolq**: not registered on this server" in warning
    assert "tiny-bert-wic**: registered for wic, not boolq" in warning
    frame = at.dataframe[0].value
    assert list(frame["model"]) == ["tiny-bert-boolq"]  # the one the link named that exists


def test_a_link_naming_only_missing_models_shows_the_others_and_says_which(checkpoints):
    at = _page("boolq", **URL["boolq"], m=["gone-model"])
    warning = next(w.value for w in at.warning if "not available here" in w.value)
    assert "**gone-model**: not registered on this server" in warning
    assert "Showing tiny-bert-boolq, tiny-electra-boolq instead." in warning
