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
from explorer.tasks.base import Field, Highlight, ModelInput, Task, with_note

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

    # --- the page
    page_title = "Word in context · WiC"
    icon = ":material/compare_arrows:"
    blurb = "Word in context (WiC): does a word keep its sense?"
    page_caption = ("Is the target word used in the same sense in both sentences? The target may be a stem (묻 finds "
                    "물었다); if it cannot be found, mark it yourself with [brackets] in the sentence.")
    run_label = "Compare senses"
    uses_morphemes = True  # finds inflected and irregular targets (묻 in 물었다)
    fields = (
        Field("target", "Target word", "t", placeholder="묻", max_chars=50, live="t"),
        Field("sentence1", "Sentence 1", "s1", "text", "길을 몰라서 지나가는 사람에게 길을 물었다.", height=90, live="s"),
        Field("sentence2", "Sentence 2", "s2", "text", "아이들이 마당에 타임캡슐을 묻었다.", beside=True, height=90, live="s2"),
    )
    examples = (
        {"target": "묻", "sentence1": "길을 몰라서 지나가는 사람에게 길을 물었다.", "sentence2": "아이들이 마당에 타임캡슐을 묻었다.",
         "note": "different senses: ask vs. bury (묻다 is irregular: 물었다)"},
        {"target": "눈", "sentence1": "밤새 눈이 많이 내려 길이 하얗다.", "sentence2": "아이들이 마당에서 눈을 뭉쳐 던졌다.",
         "note": "same sense: snow"},
    )

    def example_label(self, example) -> str:
        return with_note(example["target"], example)

    def make_item(self, values, analyse=None) -> tuple[WicItem, tuple[TargetSpan, TargetSpan]]:
        from explorer.tasks.items import make_wic  # items imports the registry, which imports this module

        return make_wic(values["target"], values["sentence1"], values["sentence2"], analyse=analyse)

    def highlights(self, item: WicItem, extra: Sequence[TargetSpan]) -> list[Highlight]:
        """The target in each sentence, how it was found, and what to do when it was not."""
        marks = []
        for n, (sentence, found) in enumerate(zip((item.sentence1, item.sentence2), extra), start=1):
            problem = "" if found.span else (
                f"The target “{item.target}” was not found in sentence {n}. Mark it yourself with [brackets] "
                "in the sentence (e.g. 길을 [물었다].) and score again. The models still ran on the plain pair, "
                "but models whose input format is `marked` did not see where the target is.")
            marks.append(Highlight(f"Sentence {n}", sentence, found.span, found.how if found.span else "not found", problem))
        return marks

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
