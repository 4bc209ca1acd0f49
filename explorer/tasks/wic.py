"""WiC: does the target word have the same sense in both sentences?

Users type a target and two sentences. NIKL targets are often bare stems
(묻, 들, 맞) that appear inflected or irregular in the sentence (물었다), so we
find the target by exact match first, then through Kiwi's morpheme analysis,
and let users mark it themselves with [brackets] when both fail.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

from explorer.data.readers import Layout, Row, cut
from explorer.tasks.base import Field, Highlight, ModelInput, Task, clean_field, with_note

FORMATS = {
    "pair": "the two sentences as a plain pair",
    "marked": "the target wrapped in [brackets] in each sentence, as KoBEST writes it",
    "prefixed": "the target, a colon, then sentence 1; sentence 2 as the second text",
}
DEFAULT_FORMAT = "pair"


@dataclass(frozen=True, slots=True)
class WicItem:
    """One WiC pair: is ``target`` used in the same sense in both sentences?

    Attributes:
        id: The file's ``ID``.
        target: The word (often just a stem, e.g. 묻) as given in ``Target``.
        sentence1: First sentence, without KoBEST's [brackets].
        sentence2: Second sentence, without brackets.
        span1: ``(start, end)`` of the target in ``sentence1``, 0-based and
            end-exclusive, or None when the file gives no usable span (a
            warning then says why).
        span2: Same for ``sentence2``.
        label: 1 same sense, 0 different, None when unlabelled.
        row: Line number in the file (header = 1).
    """

    id: str
    target: str
    sentence1: str
    sentence2: str
    span1: tuple[int, int] | None
    span2: tuple[int, int] | None
    label: int | None
    row: int = 0


# --------------------------------------------------------------------------- [bracket] marks ↔ spans
# The one place that knows how a target is marked in a sentence: KoBEST files,
# users typing a WiC item, the "marked" input format and the generated demo
# data all write ``[target]``.

_MARK = re.compile(r"\[([^\[\]]+)\]")


def unbracket(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """Removes every ``[...]`` mark; returns the plain text and each mark's span in it (0-based, end exclusive).

    An empty ``[]`` marks nothing and stays as text.
    """
    spans: list[tuple[int, int]] = []
    pieces: list[str] = []
    length = last = 0
    for match in _MARK.finditer(marked):
        before, inside = marked[last : match.start()], match.group(1)
        pieces += [before, inside]
        length += len(before)
        spans.append((length, length + len(inside)))
        length += len(inside)
        last = match.end()
    pieces.append(marked[last:])
    return "".join(pieces), spans


def bracket(sentence: str, span: tuple[int, int] | None) -> str:
    """``sentence`` with the span wrapped in ``[...]`` (unchanged when ``span`` is None): the inverse of ``unbracket``."""
    if span is None:
        return sentence
    a, b = span
    return f"{sentence[:a]}[{sentence[a:b]}]{sentence[b:]}"


def strip_marks(sentence: str) -> tuple[str, tuple[int, int] | None]:
    """Removes every ``[...]`` mark and returns the clean text and the first mark's span in it."""
    plain, spans = unbracket(sentence)
    return plain, spans[0] if spans else None


# --------------------------------------------------------------------------- reading the published files


def _checked_span(
    row: Row, which: str, sentence: str, target: str, span: tuple[int, int] | None
) -> tuple[int, int] | None:
    """Validates a span against its sentence, warning instead of failing.

    Real files have a few imperfect spans; one bad span should not stop a
    user from looking at the other thousands of items.
    """
    if span is None:
        return None
    start, end = span
    if not 0 <= start < end <= len(sentence):
        row.warn(
            "span outside its sentence (span dropped)",
            f"row {row.line}: {which} span {start}:{end} is outside the sentence "
            f"({len(sentence)} characters); span dropped.",
        )
        return None
    if sentence[start:end] != target:
        row.warn(
            "span text differs from Target",
            f'row {row.line}: {which}[{start}:{end}] is "{cut(sentence[start:end])}", not the Target "{cut(target)}".',
        )
    return span


def _strip_with_span(sentence: str, span: tuple[int, int] | None) -> tuple[str, tuple[int, int] | None]:
    """Strips surrounding whitespace, shifting the span to match."""
    lead = len(sentence) - len(sentence.lstrip())
    stripped = sentence.strip()
    if span is None or not lead:
        return stripped, span
    return stripped, (span[0] - lead, span[1] - lead)


def _marked_span(row: Row, which: str, marked: str, n: str, target: str) -> tuple[str, tuple[int, int] | None]:
    """KoBEST's sentence with its [target] marks removed, and the target's span (warning when unclear)."""
    plain, spans = unbracket(marked)
    if not spans:
        row.warn(
            "no [bracketed] target (span left empty)",
            f'row {row.line}: {which} has no [bracketed] target "{cut(target)}"; span left empty.',
        )
        return plain, None
    exact = [s for s in spans if plain[s[0] : s[1]] == target]
    span = (exact or spans)[0]
    if len(spans) > 1:
        row.warn(
            "several [bracketed] marks (first matching one used)",
            f"row {row.line}: {which} has {len(spans)} [bracketed] marks; "
            f'using "{cut(plain[span[0]:span[1]])}" at {span[0]}:{span[1]}.',
        )
    return plain, span


def _offset_span(row: Row, which: str, raw: str, n: str, target: str) -> tuple[str, tuple[int, int] | None]:
    """NIKL's sentence as written, and the span its ``start_sN``/``end_sN`` columns give."""
    expected = "a character offset (a whole number)"
    start, end = row.whole_number(f"start_s{n}", expected), row.whole_number(f"end_s{n}", expected)
    if start is None or end is None:
        row.warn("missing offsets (span left empty)", f"row {row.line}: {which} has no offsets.")
        return raw, None
    return raw, (start, end)


# How a layout finds sentence n's target: ``(row, "SENTENCE1", raw sentence, "1", target) -> (sentence, span)``.
SpanFinder = Callable[[Row, str, str, str, str], tuple[str, tuple[int, int] | None]]


def _build(row: Row, seen: Counter[str], find_span: SpanFinder) -> WicItem:
    label = row.binary("answer", "True or False")
    target = row.text("target")
    spans: list[tuple[int, int] | None] = []
    sentences: list[str] = []
    for n in ("1", "2"):
        which = f"SENTENCE{n}"
        raw = row.raw(f"sentence{n}")
        if not raw.strip():
            raise row.fail(f"sentence{n}", "text")
        sentence, span = find_span(row, which, raw, n, target)
        sentence, span = _strip_with_span(sentence, span)
        sentences.append(sentence)
        spans.append(_checked_span(row, which, sentence, target, span))
    return WicItem(row.unique_id(seen), target, sentences[0], sentences[1], spans[0], spans[1], label, row.line)


def _nikl_row(row: Row, seen: Counter[str]) -> WicItem:
    return _build(row, seen, _offset_span)


def _kobest_row(row: Row, seen: Counter[str]) -> WicItem:
    return _build(row, seen, _marked_span)


LAYOUTS = (
    Layout(
        "nikl2021_wic", "wic", "NIKL 2021 WiC",
        ("ID", "Target", "SENTENCE1", "SENTENCE2", "ANSWER", "start_s1", "end_s1", "start_s2", "end_s2"),
        ("id", "target", "sentence1", "sentence2", "start_s1", "end_s1", "start_s2", "end_s2"), ("answer",),
        "answer", _nikl_row,
    ),
    Layout(
        "kobest_wic", "wic", "KoBEST v1 WiC",
        ("ID", "Target", "SENTENCE1", "Dictionary 1", "Link 1", "SENTENCE2", "Dictionary 2", "Link2", "ANSWER"),
        ("id", "target", "sentence1", "sentence2"), ("answer", "dictionary1", "link1", "dictionary2", "link2"),
        "answer", _kobest_row,
    ),
)


class Wic(Task):
    id = "wic"
    item_type = WicItem
    name = "WiC"
    title = "WiC · word in context"
    label_names = {0: "different senses", 1: "same sense"}
    cli_shape = "TARGET|SENTENCE1|SENTENCE2"
    input_formats = FORMATS
    default_format = DEFAULT_FORMAT
    layouts = LAYOUTS
    data_files = ("NIKL_SKT_WiC_*.tsv", "wic/*.tsv")

    def encode(self, item: WicItem, input_format: str | None = None) -> ModelInput:
        return ModelInput(*encode(item, input_format))

    def values(self, item: WicItem) -> dict[str, str]:
        return {"target": item.target, "sentence1": item.sentence1, "sentence2": item.sentence2}

    def length_text(self, item: WicItem) -> str:
        return max(item.sentence1, item.sentence2, key=len)

    slice_kinds = {"target in train": ("seen", "unseen")}  # the values slices() gives, in reading order

    def slices(self, item: WicItem, context: set[str] | None = None) -> dict[str, str]:
        """Length, and with the training targets as ``context``, whether the target was seen in training."""
        keys = super().slices(item)
        if context is not None:
            seen, unseen = self.slice_kinds["target in train"]
            keys["target in train"] = seen if item.target in context else unseen
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
    examples = (  # hand-picked; each note gives the expected answer
        {"target": "배", "sentence1": "우리는 배를 타고 섬에 들어갔다.", "sentence2": "시장에서 달고 시원한 배를 두 개 샀다.",
         "note": "다른 뜻: 타는 배 / 먹는 배 (different senses: ship vs. pear)", "expected": "different senses"},
        {"target": "눈", "sentence1": "밤새 눈이 많이 내려 길이 하얗다.", "sentence2": "아이들이 마당에서 눈을 뭉쳐 던졌다.",
         "note": "같은 뜻: 하늘에서 내리는 눈 (same sense: snow)", "expected": "same sense"},
        {"target": "묻", "sentence1": "그는 지나가는 사람에게 길을 묻고 있었다.", "sentence2": "강아지가 뼈다귀를 땅에 묻고 있다.",
         "note": "다른 뜻: 묻다(질문) / 묻다(매장) — 어간 표적 (stem target: ask vs. bury)", "expected": "different senses"},
        {"target": "들", "sentence1": "새로 산 옷이 마음에 들었다.", "sentence2": "그 식당이 마음에 들어서 자주 간다.",
         "note": "같은 뜻: 마음에 들다 (same sense: to like)", "expected": "same sense"},
        {"target": "물", "sentence1": "민수는 역무원에게 길을 물었다.", "sentence2": "개가 지나가던 사람의 손을 물었다.",
         "note": "다른 뜻: 불규칙 묻다→물었다 / 물다 (irregular 'asked' vs. 'bit')", "expected": "different senses"},
    )

    def example_label(self, example) -> str:
        return with_note(example["target"], example)

    def make_item(self, values, analyse=None) -> tuple[WicItem, tuple[TargetSpan, TargetSpan]]:
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

    shape_help = "`target | sentence 1 | sentence 2` per line; mark the target with [brackets] if it is not found"
    example_lines = ("배 | 배가 아파서 병원에 갔다. | 배를 타고 섬으로 갔다.", "눈 | 눈이 많이 내렸다. | 밤새 눈이 펑펑 왔다.")
    counterfactual_edits = "fields"
    label_words = frozenset({"same", "different"})  # "same_sense" reads as the word "same"

    def parse_line(self, text: str, analyse=None) -> tuple[WicItem, list[str]]:
        item, spans = make_wic(*self.line_fields(text), analyse=analyse)
        return item, [f"sentence {n}: {s.how}." for n, s in enumerate(spans, start=1) if s.span is None]

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


_KIWI_TAGS = ("NN", "VV", "VA", "VX", "XR", "MA", "NP", "NR")


@dataclass(frozen=True)
class TargetSpan:
    """Where the target sits in a sentence, and how we found it."""

    span: tuple[int, int] | None
    how: str


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


def encode(item: WicItem, input_format: str | None = None) -> tuple[str, str]:
    """The text pair a WiC checkpoint expects, by its registry ``input_format``."""
    fmt = input_format or DEFAULT_FORMAT
    if fmt == "marked":
        return bracket(item.sentence1, item.span1), bracket(item.sentence2, item.span2)
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


def make_wic(
    target: str, sentence1: str, sentence2: str, analyse: Callable[[str], Sequence] | None = None
) -> tuple[WicItem, tuple[TargetSpan, TargetSpan]]:
    """A WiC item with the target located in each sentence.

    A target that cannot be found leaves its span None; the caller shows the
    ``how`` message and the model still runs on the plain pair.
    """
    target = clean_field(target, "The target word")
    found = []
    sentences = []
    for n, raw in enumerate((sentence1, sentence2), start=1):
        sentence = clean_field(raw, f"Sentence {n}")
        span = locate_target(sentence, target, analyse)
        sentences.append(strip_marks(sentence)[0])
        found.append(span)
    item = WicItem("input", target, sentences[0], sentences[1], found[0].span, found[1].span, None)
    return item, (found[0], found[1])
