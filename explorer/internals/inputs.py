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

from explorer.tasks.base import InputError, Task
from explorer.tasks.registry import TASKS
from explorer.tasks.registry import get as get_task
from explorer.text import split_sentences

# Every view runs the whole batch through the model (attention keeps layers×heads×seq²
# per row), so the batch stays small.
MAX_INPUTS = 8


def example_text(task: str) -> str:
    """The lines Inside a model starts with for ``task`` (see ``Task.starting_lines``)."""
    return "\n".join(get_task(task).starting_lines)


EXAMPLES = {task_id: example_text(task_id) for task_id in TASKS}  # a view of the task registry


@dataclass(frozen=True)
class Row:
    """One sequence the model reads.

    Attributes:
        item: Index of the item (input line) it comes from.
        choice: Alternative index for a multiple-choice model; None otherwise.
        first: First text, as encoded for this checkpoint.
        second: Second text of a pair (or the alternative), None for a single text.
        label: Short name for tables, e.g. ``2`` or ``1·alt 2``.
        truncation: The side the tokenizer may cut (``ModelInput.truncation``), as prediction cuts it.
    """

    item: int
    choice: int | None
    first: str
    second: str | None
    label: str
    truncation: str = "longest_first"


@dataclass
class Inputs:
    """The parsed lines of one task and the rows a given checkpoint reads.

    Attributes:
        task: The model's task.
        items: Task items, one per valid line (for a one-text task such as CoLA, a
            line ``a | b`` is kept as a generic pair to show segment ids).
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
        task: A registered task id.
        text: What the user typed, one input per line (``Task.parse_line``'s syntax).
        input_format: The checkpoint's ``input_format`` (registry).
        analyse: Kiwi morphemes of a sentence (WiC finds its targets with them).
        max_inputs: Lines beyond this are dropped with a note.

    Returns:
        The items, the rows, and a message per skipped line.
    """
    spec = get_task(task)
    cleaned = split_sentences(text, max_lines=max_inputs)
    out = Inputs(task, notes=list(cleaned.notes))
    for number, line in enumerate(cleaned.sentences, start=1):
        try:
            item, notes = _item(spec, line, analyse)
        except InputError as exc:
            expected = "" if spec.cli_shape in str(exc) else f" Expected {spec.cli_shape}."  # said once, not twice
            out.problems.append(f"line {number}: {exc}{expected}")
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
    if spec.n_fields == 1:
        _single_or_pairs(spec, out)
    return out


def _single_or_pairs(task: Task, out: Inputs) -> None:
    """A batch is all single texts or all pairs: mixed, the pairs keep their first text.

    One batch cannot mix the two (an empty second text would add a stray [SEP]).
    """
    pairs = [i for i, item in enumerate(out.items) if isinstance(item, tuple)]
    if not pairs or len(pairs) == len(out.items):
        return
    for i in pairs:
        out.items[i] = task.parse_line(out.items[i][0])[0]
    out.rows = [Row(r.item, None, r.first, None, r.label) for r in out.rows]
    out.notes.append("Single sentences and `a | b` pairs are mixed: the pairs are read as their first sentence.")


def _item(task: Task, line: str, analyse: Callable[[str], Sequence[Any]] | None) -> tuple[Any, list[str]]:
    if task.n_fields == 1:
        first, sep, second = line.partition(" | ")
        # A pair typed for a one-text task (a CoLA model) is kept as a pair: it shows segment ids.
        if sep:
            return (first.strip(), second.strip()), []
    return task.parse_line(line, analyse)


def item_rows(task: str, item: Any, index: int = 0, input_format: str | None = None) -> list[Row]:
    """The rows a checkpoint reads for one item, encoded by its ``input_format``."""
    label = str(index + 1)
    if isinstance(item, tuple):  # a generic pair typed for a one-text task
        return [Row(index, None, item[0], item[1], label)]
    encoded = get_task(task).encode(item, input_format)
    if not encoded.endings:
        return [Row(index, None, encoded.first, encoded.second, label, encoded.truncation)]
    return [Row(index, k, encoded.first, ending, f"{label}·alt {k + 1}", encoded.truncation)
            for k, ending in enumerate(encoded.endings)]


def item_text(item: Any, task: str) -> str:
    """A one-line summary of an item for pickers: ``Task.text``, or a generic pair as typed."""
    if isinstance(item, tuple):  # a generic pair typed for a one-text task belongs to no task
        return " | ".join(item)
    return get_task(task).text(item)
