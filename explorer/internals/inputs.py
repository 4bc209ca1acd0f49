"""What the Inside-a-model views feed the model, for every task.

The user types one input per line in the task's own shape (the CLI's ``|``
fields: ``TARGET | SENTENCE1 | SENTENCE2`` for WiC, ``PREMISE | 원인/결과 | ALT1 |
ALT2`` for COPA, ``PASSAGE | QUESTION`` for BoolQ). Each line becomes a task item,
and each item becomes the text rows the model actually reads, encoded by the
checkpoint's own ``input_format`` (a WiC model trained on [marked] targets gets
[marked] targets). A multiple-choice model reads one row per alternative, so a
COPA item gives two rows sharing the premise (a COPA pair classifier reads the
same two rows, one at a time).

Every view (token grid, mask check, positions, attention, attributions) works
on these rows, so none of them needs to know the task.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from explorer.tasks.cola import ColaItem
from explorer.tasks.items import CLI_SHAPES, InputError, make_wic, parse_cli_input
from explorer.tasks.registry import get as get_task
from explorer.text import split_sentences

# Every view runs the whole batch through the model (attention keeps layers×heads×seq²
# per row), so the batch stays small.
MAX_INPUTS = 8

EXAMPLES = {
    "cola": "나는 어제 학교에 갔다.\n책가 책상 위에 있다.\n할머니께서 시장에서 떡을 파셨다.",
    "wic": "배 | 배가 아파서 병원에 갔다. | 배를 타고 섬으로 갔다.\n눈 | 눈이 많이 내렸다. | 밤새 눈이 펑펑 왔다.",
    "copa": "비가 많이 왔다. | 결과 | 길이 미끄러웠다. | 하늘이 맑았다.\n"
            "아이가 울었다. | 원인 | 넘어져서 무릎을 다쳤다. | 선물을 받았다.",
    "boolq": "한강은 서울을 가로질러 흐르는 강이다. | 한강은 서울을 지나가나요?",
}


@dataclass(frozen=True)
class Row:
    """One sequence the model reads.

    Attributes:
        item: Index of the item (input line) it comes from.
        choice: Alternative index for a multiple-choice model; None otherwise.
        first: First text, as encoded for this checkpoint.
        second: Second text of a pair (or the alternative), None for a single text.
        label: Short name for tables, e.g. ``2`` or ``1·alt 2``.
    """

    item: int
    choice: int | None
    first: str
    second: str | None
    label: str


@dataclass
class Inputs:
    """The parsed lines of one task and the rows a given checkpoint reads.

    Attributes:
        task: The model's task.
        items: Task items, one per valid line (``ColaItem`` for CoLA; a CoLA line
            ``a | b`` is kept as a generic pair to show segment ids).
        lines: The cleaned line each item came from.
        rows: What the model reads, item by item.
        problems: ``line N: why`` for each line that was skipped.
        notes: Things worth knowing that did not stop a line (target not found...).
    """

    task: str
    items: list[Any] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def firsts(self) -> list[str]:
        return [r.first for r in self.rows]

    @property
    def seconds(self) -> list[str] | None:
        """Second texts, or None when the rows are single texts."""
        if any(r.second is None for r in self.rows):
            return None
        return [r.second for r in self.rows]

    def rows_of(self, item: int) -> list[Row]:
        return [r for r in self.rows if r.item == item]


def parse(
    task: str,
    text: str,
    input_format: str | None = None,
    analyse: Callable[[str], Sequence[Any]] | None = None,
    max_inputs: int = MAX_INPUTS,
) -> Inputs:
    """Parses the user's lines for ``task`` and encodes them for one checkpoint.

    Args:
        task: ``cola``, ``wic``, ``copa`` or ``boolq``.
        text: What the user typed, one input per line.
        input_format: The checkpoint's ``input_format`` (registry).
        analyse: Kiwi morphemes of a sentence, used to find WiC targets.
        max_inputs: Lines beyond this are dropped with a note.

    Returns:
        The items, the rows, and a message per skipped line.
    """
    if task not in CLI_SHAPES:
        raise ValueError(f"unknown task {task!r}")
    cleaned = split_sentences(text, max_lines=max_inputs)
    out = Inputs(task, notes=list(cleaned.notes))
    for number, line in enumerate(cleaned.sentences, start=1):
        try:
            item, notes = _item(task, line, analyse)
        except InputError as exc:
            out.problems.append(f"line {number}: {exc} Expected {CLI_SHAPES[task]}.")
            continue
        index = len(out.items)
        try:
            rows = item_rows(task, item, index, input_format)
        except ValueError as exc:  # the checkpoint's input_format (the registry flags it too)
            out.problems.append(f"line {number}: {exc}")
            continue
        out.notes.extend(f"line {number}: {n}" for n in notes)
        out.items.append(item)
        out.lines.append(line)
        out.rows.extend(rows)
    if task == "cola":
        _single_or_pairs(out)
    return out


def _single_or_pairs(out: Inputs) -> None:
    """A batch is all single sentences or all pairs: mixed, the pairs keep their first sentence.

    One batch cannot mix the two (an empty second text would add a stray [SEP]).
    """
    pairs = [i for i, item in enumerate(out.items) if isinstance(item, tuple)]
    if not pairs or len(pairs) == len(out.items):
        return
    for i in pairs:
        out.items[i] = ColaItem("input", out.items[i][0], None)
    out.rows = [Row(r.item, None, r.first, None, r.label) for r in out.rows]
    out.notes.append("Single sentences and `a | b` pairs are mixed: the pairs are read as their first sentence.")


def _item(task: str, line: str, analyse: Callable[[str], Sequence[Any]] | None) -> tuple[Any, list[str]]:
    if task == "cola":
        first, sep, second = line.partition(" | ")
        # A pair typed for a CoLA model is kept as a pair: it shows segment ids.
        return (ColaItem("input", first.strip(), None), []) if not sep else ((first.strip(), second.strip()), [])
    if task == "wic":
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 3:
            raise InputError(f"WiC needs 3 fields separated by '|' (got {len(fields)}).")
        item, spans = make_wic(*fields, analyse=analyse)
        return item, [f"sentence {n}: {s.how}" for n, s in enumerate(spans, start=1) if s.span is None]
    return parse_cli_input(task, line, analyse), []


def item_rows(task: str, item: Any, index: int = 0, input_format: str | None = None) -> list[Row]:
    """The rows a checkpoint reads for one item, encoded by its ``input_format``."""
    label = str(index + 1)
    if isinstance(item, tuple):  # a generic pair typed for a CoLA model
        return [Row(index, None, item[0], item[1], label)]
    encoded = get_task(task).encode(item, input_format)
    if not encoded.endings:
        return [Row(index, None, encoded.first, encoded.second, label)]
    return [Row(index, k, encoded.first, ending, f"{label}·alt {k + 1}") for k, ending in enumerate(encoded.endings)]


def item_text(item: Any, task: str) -> str:
    """A one-line summary of an item for pickers: ``Task.text``, or a generic CoLA pair as typed."""
    if isinstance(item, tuple):  # a generic pair typed for a CoLA model belongs to no task
        return " | ".join(item)
    return get_task(task).text(item)
