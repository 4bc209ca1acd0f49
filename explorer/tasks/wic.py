"""WiC: does the target word have the same sense in both sentences?

Users type a target and two sentences. NIKL targets are often bare stems
(묻, 들, 맞) that appear inflected or irregular in the sentence (물었다), so we
find the target by exact match first, then through Kiwi's morpheme analysis,
and let users mark it themselves with [brackets] when both fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from explorer.data.readers import WicItem
from explorer.tasks.base import ModelInput, Task

FORMATS = {
    "pair": "the two sentences as a plain pair",
    "marked": "the target wrapped in [brackets] in each sentence, as KoBEST writes it",
    "prefixed": "the target, a colon, then sentence 1; sentence 2 as the second text",
}
DEFAULT_FORMAT = "pair"


class Wic(Task):
    id = "wic"
    item_type = WicItem
    name = "WiC"
    title = "WiC · word in context"
    label_names = {0: "different senses", 1: "same sense"}
    cli_shape = "TARGET|SENTENCE1|SENTENCE2"
    input_formats = FORMATS
    default_format = DEFAULT_FORMAT

    def encode(self, item: WicItem, input_format: str | None = None) -> ModelInput:
        return ModelInput(*encode(item, input_format))

    def values(self, item: WicItem) -> dict[str, str]:
        return {"target": item.target, "sentence1": item.sentence1, "sentence2": item.sentence2}

    def length_text(self, item: WicItem) -> str:
        return max(item.sentence1, item.sentence2, key=len)

    def slices(self, item: WicItem, context: set[str] | None = None) -> dict[str, str]:
        """Length, and with the training targets as ``context``, whether the target was seen in training."""
        keys = super().slices(item)
        if context is not None:
            keys["target in train"] = "seen" if item.target in context else "unseen"
        return keys

    def slice_context(self, dataset) -> set[str]:
        """The targets of a training file."""
        return {item.target for item in dataset.items}

    shape_help = "`target | sentence 1 | sentence 2` per line; mark the target with [brackets] if it is not found"
    example_lines = ("배 | 배가 아파서 병원에 갔다. | 배를 타고 섬으로 갔다.", "눈 | 눈이 많이 내렸다. | 밤새 눈이 펑펑 왔다.")
    uses_morphemes = True
    counterfactual_edits = "fields"
    label_words = frozenset({"same", "different"})  # "same_sense" reads as the word "same"

    def parse_line(self, text: str, analyse=None) -> tuple[WicItem, list[str]]:
        from explorer.tasks.items import make_wic  # items imports the registry, which imports this module

        item, spans = make_wic(*self.line_fields(text), analyse=analyse)
        return item, [f"sentence {n}: {s.how}." for n, s in enumerate(spans, start=1) if s.span is None]


_MARK = re.compile(r"\[([^\[\]]+)\]")
_KIWI_TAGS = ("NN", "VV", "VA", "VX", "XR", "MA", "NP", "NR")


@dataclass(frozen=True)
class TargetSpan:
    """Where the target sits in a sentence, and how we found it."""

    span: tuple[int, int] | None
    how: str


def strip_marks(sentence: str) -> tuple[str, tuple[int, int] | None]:
    """Removes the first ``[...]`` marking and returns its span in the clean text."""
    match = _MARK.search(sentence)
    if not match:
        return sentence, None
    clean = sentence[: match.start()] + match.group(1) + sentence[match.end() :]
    clean = _MARK.sub(lambda m: m.group(1), clean)
    return clean, (match.start(), match.start() + len(match.group(1)))


def locate_target(sentence: str, target: str, analyse: Callable[[str], Sequence] | None = None) -> TargetSpan:
    """Finds the target word in a sentence.

    Args:
        sentence: The sentence, possibly with the target marked in [brackets].
        target: The target as users write it (a stem like 묻 or a word; a
            trailing 다 of a dictionary form is ignored).
        analyse: Returns Kiwi morphemes (objects with ``form``, ``tag``,
            ``start``, ``end``) for a sentence; None skips that step.

    Returns:
        The span (0-based, end exclusive) in the sentence *without* brackets.
    """
    clean, marked = strip_marks(sentence)
    if marked:
        return TargetSpan(marked, "marked by you")
    target = target.strip()
    if not target:
        return TargetSpan(None, "no target given")
    at = clean.find(target)
    if at >= 0:
        return TargetSpan((at, at + len(target)), "exact match")
    stem = target[:-1] if len(target) > 1 and target.endswith("다") else target
    if analyse is not None:
        for m in analyse(clean):
            if m.form == stem and m.tag.startswith(_KIWI_TAGS):
                start, end = int(m.start), int(m.end)
                return TargetSpan((start, end), f"Kiwi morpheme {m.form}/{m.tag} read as “{clean[start:end]}”")
    at = clean.find(stem)
    if at >= 0:
        return TargetSpan((at, at + len(stem)), "stem match")
    return TargetSpan(None, f"“{target}” not found: mark it in the sentence with [brackets]")


def _mark(sentence: str, span: tuple[int, int] | None) -> str:
    if span is None:
        return sentence
    a, b = span
    return f"{sentence[:a]}[{sentence[a:b]}]{sentence[b:]}"


def encode(item: WicItem, input_format: str | None = None) -> tuple[str, str]:
    """The text pair a WiC checkpoint expects, by its registry ``input_format``."""
    fmt = input_format or DEFAULT_FORMAT
    if fmt == "marked":
        return _mark(item.sentence1, item.span1), _mark(item.sentence2, item.span2)
    if fmt == "prefixed":
        return f"{item.target}: {item.sentence1}", item.sentence2
    if fmt != "pair":
        raise ValueError(f"unknown WiC input format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return item.sentence1, item.sentence2
