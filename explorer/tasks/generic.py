"""A checkpoint's own classification task, for a head no registered task claims.

A classmate's checkpoint may classify something no task here knows (a
sentiment model with ``id2label`` ``{0: "bad", 1: "good"}``, a 3-way topic
classifier). Rather than hide it, the registry gives it a generic task built
from its own label names: it gets the "Other classifiers" page, Inside a
model, and Evaluate on a TSV with ``text`` (and optionally ``text_pair``) and
``label`` columns. Home says how to name its real task instead.

A generic task's id carries its label names (``labels:bad|good``), so models
with the same labels share one task, and ``explorer.tasks.registry.get`` can
rebuild the task from an id found in a URL or a saved result.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from explorer.data.readers import Layout, Row
from explorer.tasks.base import Field, ModelInput, Task

PREFIX = "labels:"
SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class TextItem:
    """One text, or a pair of texts, to classify.

    Attributes:
        id: The file's ``id`` column, else the line number.
        text: The ``text`` column.
        text_pair: The ``text_pair`` column, or None for single texts.
        label: The class id (the file may give the id or the label's name), None when unlabelled.
        row: Line number in the file (header = 1).
    """

    id: str
    text: str
    text_pair: str | None
    label: int | None
    row: int = 0


def is_generic(task_id: str | None) -> bool:
    """True for the id of a checkpoint's own classification task."""
    return bool(task_id) and task_id.startswith(PREFIX)


def generic_id(label_names: Mapping[int, str]) -> str | None:
    """The task id for these label names, or None when they cannot make one (fewer than 2, or a name with ``|``)."""
    names = [str(label_names[k]).strip() for k in sorted(label_names)]
    if len(names) < 2 or any(not n or SEPARATOR in n for n in names) or sorted(label_names) != list(range(len(names))):
        return None
    return PREFIX + SEPARATOR.join(names)


@lru_cache(maxsize=256)
def from_id(task_id: str) -> "TextClassification":
    """The generic task an id names.

    Raises:
        ValueError: ``task_id`` is not a generic id.
    """
    if not is_generic(task_id):
        raise ValueError(f"{task_id!r} is not a generic classification task id")
    names = task_id[len(PREFIX):].split(SEPARATOR)
    if len(names) < 2 or not all(names):
        raise ValueError(f"{task_id!r} names fewer than two labels")
    return TextClassification(dict(enumerate(names)))


def _layout(task: "TextClassification") -> Layout:
    def build(row: Row, seen: Counter[str]) -> TextItem:
        pair = row.raw("text_pair").strip() or None  # empty, or no such column: a single text
        item_id = row.unique_id(seen, "id" if row.raw("id").strip() else None)  # no id column: the line number
        return TextItem(item_id, row.text("text"), pair, task.label_of(row), row.line)

    return Layout(f"generic_{task.id}", task.id, "text/label TSV", ("id", "text", "text_pair", "label"),
                  ("text",), ("id", "text_pair", "label"), "label", build)


class TextClassification(Task):
    """A sequence-classification head's own task: its labels, one text (or a pair) in."""

    item_type = TextItem
    own_labels = True  # ids and names are the checkpoint's id2label, in its order
    name = "Classifier"
    main_metric = "f1_macro"  # classes of an unknown task may be unbalanced: macro-F1 weighs each alike
    cli_shape = "TEXT"
    verdict_column = "label"
    icon = ":material/category:"
    page_file = "pages/classifiers.py"
    run_label = "Classify"
    fields = (Field("text", "Text", "s", "text", "", height=90, live=""),)

    def __init__(self, label_names: Mapping[int, str]) -> None:
        self.label_names = dict(label_names)
        self.id = generic_id(self.label_names) or PREFIX + SEPARATOR.join(f"LABEL_{k}" for k in self.label_names)
        shown = " / ".join(self.label_names.values())
        self.name = shown
        self.title = f"Classifier · {shown}"
        self.page_title = f"Other classifiers · {shown}"
        self.page_caption = (f"A checkpoint whose labels ({shown}) no registered task uses: it is shown with its own "
                             "label names. Home says how to name its task.")
        self.positive = 1 if len(self.label_names) == 2 else max(self.label_names)
        self.layouts = (_layout(self),)
        self.examples = ()

    def label_of(self, row: Row) -> int | None:
        """The label column as a class id: a number, or one of the label names (case ignored)."""
        raw = row.raw("label").strip()
        if not raw:
            return None
        by_name = {name.lower(): k for k, name in self.label_names.items()}
        if raw.lower() in by_name:
            return by_name[raw.lower()]
        if raw.lstrip("-").isdigit() and int(raw) in self.label_names:
            return int(raw)
        names = ", ".join(f"{k} or {n}" for k, n in self.label_names.items())
        raise row.fail("label", names)

    def encode(self, item: TextItem, input_format: str | None = None) -> ModelInput:
        return ModelInput(item.text, item.text_pair)

    def text(self, item: TextItem) -> str:
        return item.text if item.text_pair is None else f"{item.text} | {item.text_pair}"

    def values(self, item: TextItem) -> dict[str, str]:
        return {"text": item.text} if item.text_pair is None else {"text": item.text, "text_pair": item.text_pair}

    def length_text(self, item: TextItem) -> str:
        return item.text

    def make_item(self, values, analyse=None) -> tuple[TextItem, None]:
        from explorer.tasks.base import clean_field

        return TextItem("input", clean_field(values["text"], "The text"), None, None), None

    def parse_line(self, text: str, analyse=None) -> tuple[TextItem, list[str]]:
        from explorer.tasks.base import clean_field

        first, sep, second = text.partition("|")
        if sep and second.strip():  # `a | b` is a pair, as Inside a model reads any one-text task
            return TextItem("input", clean_field(first, "The text"), clean_field(second, "The second text"), None), []
        return TextItem("input", clean_field(text, "The text"), None, None), []

    @property
    def starting_lines(self) -> tuple[str, ...]:
        return ("이 영화 정말 재미있었어요.", "배송이 너무 늦고 포장도 엉망이었어요.")
