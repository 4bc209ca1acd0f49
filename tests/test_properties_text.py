"""Anything typed: every text input path answers or says why, never an unhandled exception.

Property-based (hypothesis): Hangul, Latin, emoji, control and invisible characters,
brackets and the CLI's ``|`` separator in any mix. Examples are few per property and
there is no deadline, so the suite stays quick and never fails on a busy machine.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.tasks.boolq import BoolqItem
from explorer.internals.counterfactuals import variants
from explorer.internals.inputs import parse
from explorer.service import Explorer
from explorer.tasks.cola import ColaItem
from explorer.tasks.registry import get as get_task
from explorer.tasks.items import CLI_SHAPES, InputError, parse_cli_input
from explorer.tasks.wic import locate_target
from explorer.text import split_sentences

# Characters users actually produce, plus the ones that break naive code.
PIECES = st.sampled_from([
    "나는", "학교에", "갔다", "책가", "묻", "[", "]", "|", " ", "\n", "\t", "\r\n", "😀", "👩‍👩‍👧", "\u200b", "\x00", "\x1b",
    "<script>", "&amp;", "e\u0301", "ㄱ", "\u1100\u1161", "。", "?", "1,000", "ＡＢＣ", "\ufeff", "\u202e",
])
TEXT = st.one_of(
    st.lists(PIECES, max_size=12).map("".join),
    st.text(max_size=60),
    st.text(alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), max_size=40),
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def explorer(prepared) -> Explorer:
    return Explorer(prepared)


@FAST
@given(TEXT)
def test_split_sentences_keeps_only_clean_nonempty_lines(text):
    out = split_sentences(text)
    for sentence in out.sentences:
        assert sentence and sentence == sentence.strip() and "\n" not in sentence and "\x00" not in sentence
    assert all(isinstance(note, str) and note for note in out.notes)


@FAST
@given(task=st.sampled_from(sorted(CLI_SHAPES)), text=TEXT)
def test_cli_input_is_an_item_or_a_clear_input_error(explorer, task, text):
    try:
        item = parse_cli_input(task, text, explorer.kiwi().morphemes if task == "wic" else None)
    except InputError as exc:
        assert str(exc)
    else:
        assert item is not None


@FAST
@given(task=st.sampled_from(sorted(CLI_SHAPES)), text=TEXT)
def test_inside_a_model_inputs_never_raise(explorer, task, text):
    out = parse(task, text, analyse=explorer.kiwi().morphemes)
    assert len(out.items) == len(out.lines)
    assert all(problem.startswith("line ") for problem in out.problems)


@FAST
@given(sentence=TEXT, target=TEXT)
def test_wic_target_search_never_raises(explorer, sentence, target):
    found = locate_target(sentence, target, explorer.kiwi().morphemes)
    assert found.span is None or 0 <= found.span[0] <= found.span[1] <= len(sentence)


@FAST
@given(TEXT)
def test_counterfactual_edits_never_raise(explorer, text):
    sentence = split_sentences(text).sentences[0] if split_sentences(text).sentences else "책이 있다."
    for variant in variants(sentence, explorer.kiwi().morphemes(sentence)):
        assert variant.text != sentence


@FAST
@given(TEXT)
def test_kiwi_scorers_answer_anything_with_a_probability(explorer, text):
    result = explorer.kiwi().predict(get_task("cola"), [ColaItem("x", text, None)])[0]
    assert 0.0 <= result.p1 <= 1.0 and not math.isnan(result.p1)
    pred = explorer.kiwi_overlap().predict(get_task("boolq"), [BoolqItem("x", text or "빈", text or "?", None)])[0]
    assert (pred.judged and 0.0 <= pred.p1 <= 1.0) or (not pred.judged and pred.note)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(TEXT, min_size=1, max_size=4))
def test_a_transformer_scores_any_batch_with_probabilities_that_sum_to_one(explorer, texts):
    model = explorer.load(explorer.entry("demo-electra-cola"), "cpu")
    from explorer.tasks.common import classify

    for scored in classify(model, texts):
        assert math.isclose(sum(scored.probs), 1.0, rel_tol=1e-4) and scored.n_tokens >= 2


@given(st.text(alphabet=st.sampled_from(list("가나 ab'\"&<>#;*_()[]$:|~`\\{}😀x27")), max_size=40))
def test_escaped_markdown_reads_back_as_typed(text):
    """What a user or a checkpoint named comes back character for character once the references are read
    (as the browser shows them), and carries no markdown or HTML sign of its own."""
    import html
    import re

    from explorer.text import escape_markdown

    escaped = escape_markdown(text)
    assert html.unescape(escaped) == text
    assert not re.search(r"[<>*_`\[\]()$'\"]", escaped)
