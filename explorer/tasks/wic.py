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

    # Heads, labels and optional hooks.
    config_labels = {0: "different", 1: "same"}
    slice_upload = "Optional: the WiC train file, to slice by target seen/unseen"

    def demo_items(self, n: int, seed: int) -> list[WicItem]:
        from explorer.defaults.task_data import generate_wic

        return generate_wic(n, seed=seed)

    def tokenizer_texts(self, item: WicItem) -> list[str]:
        return [item.sentence1, item.sentence2, "[", "]"]  # the marked format's brackets; the target is in both

    def editable_fields(self, item: WicItem) -> list[tuple[str, str]]:
        return [("sentence1", item.sentence1), ("sentence2", item.sentence2)]

    def with_field(self, item: WicItem, field: str, text: str, edit_span: tuple[int, int] | None = None,
                   analyse: Callable[[str], Sequence] | None = None) -> WicItem:
        """The target keeps pointing at the same word: its span moves with the edit (a dropped particle
        before it shifts it; an eojeol swap carries it along), so a model reading ``[marked]`` targets
        sees the mark where the user put it."""
        from dataclasses import replace

        self._check_editable(item, field)
        span_field = "span" + field[-1]
        old = getattr(item, field)
        span = moved_span(old, getattr(item, span_field), text, edit_span, item.target, analyse)
        return replace(item, **{field: text, span_field: span})

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


def moved_span(
    original: str, span: tuple[int, int] | None, edited: str, edit_span: tuple[int, int] | None, target: str,
    analyse: Callable[[str], Sequence] | None = None,
) -> tuple[int, int] | None:
    """Where the target word of ``original[span]`` sits in ``edited``.

    Args:
        edit_span: ``(start, end)`` in ``original`` of the text the edit replaced
            (outside it the two texts agree); None when unknown: the target is looked up again.
    """
    if span is None or edit_span is None:
        return locate_target(edited, target, analyse).span
    a, b = span
    start, end = edit_span
    shift = len(edited) - len(original)
    if b <= start:  # the edit is after the target
        return span
    if a >= end:  # the edit is before it: it moves by the change in length
        return a + shift, b + shift
    # The edit touches the target's eojeol (a particle on it, a swap carrying it):
    # find the same word inside the edited region, else anywhere.
    word = original[a:b]
    at = edited.find(word, start, max(start, end + shift))
    if at >= 0:
        return at, at + len(word)
    return locate_target(edited, target, analyse).span
