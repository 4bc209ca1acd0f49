"""Building task items from what users type (pages and the CLI)."""

from __future__ import annotations

from typing import Callable, Sequence

from explorer.tasks.boolq import BoolqItem
from explorer.tasks.cola import ColaItem
from explorer.tasks.copa import QUESTIONS, CopaItem  # the one 원인/결과 ↔ cause/effect table
from explorer.tasks.registry import TASKS
from explorer.tasks.registry import get as get_task
from explorer.tasks.wic import TargetSpan, WicItem, locate_target, strip_marks
from explorer.tasks.base import InputError  # pages and the CLI import it from here
from explorer.tasks.base import clean_field as _clean

CLI_SHAPES = {task_id: task.cli_shape for task_id, task in TASKS.items()}  # a view of the task registry


def make_cola(sentence: str) -> ColaItem:
    return ColaItem("input", _clean(sentence, "The sentence"), None)


def make_wic(
    target: str, sentence1: str, sentence2: str, analyse: Callable[[str], Sequence] | None = None
) -> tuple[WicItem, tuple[TargetSpan, TargetSpan]]:
    """A WiC item with the target located in each sentence.

    A target that cannot be found leaves its span None; the caller shows the
    ``how`` message and the model still runs on the plain pair.
    """
    target = _clean(target, "The target word")
    found = []
    sentences = []
    for n, raw in enumerate((sentence1, sentence2), start=1):
        sentence = _clean(raw, f"Sentence {n}")
        span = locate_target(sentence, target, analyse)
        sentences.append(strip_marks(sentence)[0])
        found.append(span)
    item = WicItem("input", target, sentences[0], sentences[1], found[0].span, found[1].span, None)
    return item, (found[0], found[1])


def make_copa(premise: str, question: str, alternative1: str, alternative2: str) -> CopaItem:
    """A COPA item; the question may be 원인/결과 or cause/effect."""
    q = QUESTIONS.get((question or "").strip().lower())
    if q is None:
        raise InputError(f"The question must be 원인 (cause) or 결과 (effect), not {question!r}.")
    alts = (_clean(alternative1, "Alternative 1"), _clean(alternative2, "Alternative 2"))
    return CopaItem("input", _clean(premise, "The premise"), q, alts, None)


def make_boolq(passage: str, question: str) -> BoolqItem:
    return BoolqItem("input", _clean(passage, "The passage"), _clean(question, "The question"), None)


def parse_cli_input(task: str, text: str, analyse: Callable[[str], Sequence] | None = None):
    """One CLI argument → one item (``Task.parse_line`` without its notes); fields are separated by ``|``."""
    return get_task(task).parse_line(text, analyse)[0]
