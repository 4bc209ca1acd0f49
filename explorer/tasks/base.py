"""What a task is: one object that owns every fact true of it.

A task (CoLA, WiC, COPA, BoolQ, ...) is a small subclass of ``Task`` that
declares its facts as class attributes, listed once in
``explorer.tasks.registry``: its name and title, the wording of its labels
(used by every page, table, CSV and the CLI), its metric, its model head, its
input formats and its command-line syntax. Code elsewhere asks the task
object and never branches on a task's name, so adding a task is one module
and one registry line (the way inseq registers attribution methods and LIT
registers GLUE tasks).

Nothing here imports torch, pandas or the model service: tasks are the layer
below them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class ModelInput:
    """What a checkpoint reads for one item: the one place an item becomes model text.

    Attributes:
        first: The first text (the sentence, the premise, the passage...).
        second: The second text of a pair, or None for a single text.
        endings: For a multiple-choice task, one second text per alternative
            (each read as the pair ``first, ending``); empty otherwise.
        truncation: Which side the tokenizer may cut: ``longest_first``, or
            ``only_first`` / ``only_second`` when the other side must stay whole.
    """

    first: str
    second: str | None = None
    endings: tuple[str, ...] = ()
    truncation: str = "longest_first"

    @property
    def pairs(self) -> list[tuple[str, str | None]]:
        """The rows a model reads: one per ending, or the one text or pair."""
        if self.endings:
            return [(self.first, ending) for ending in self.endings]
        return [(self.first, self.second)]


# A model that could not judge an item (the overlap baseline on a question without content words).
NO_VERDICT = "cannot judge"


def short(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters with an ellipsis."""
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def length_bucket(n_chars: int) -> str:
    """Sentence-length slices on a scale that suits Korean sentences."""
    for limit, name in ((20, "≤20 chars"), (40, "21–40"), (80, "41–80"), (160, "81–160")):
        if n_chars <= limit:
            return name
    return ">160"


class Task:
    """One benchmark task. Subclasses set the class attributes; instances are shared, stateless.

    Attributes:
        id: The registry key, also the value in URLs, saved results and ``finetuning_task``.
        item_type: The dataclass of one item (``ColaItem``...).
        name: Short display name (``CoLA``).
        title: Name and what it asks (``CoLA · acceptability``).
        label_names: Class id → the one wording every surface uses for it.
        positive: The class whose probability tables show as ``P(...)`` (for a
            multiple-choice task, the last alternative).
        main_metric: The metric a model is ranked by (``mcc`` for CoLA, ``accuracy`` otherwise).
        verdict_column: The results-table column that holds a model's answer.
        head: ``sequence`` (classification of one text or a pair) or ``multiple_choice``.
        n_choices: Alternatives per item for a multiple-choice task; None otherwise.
        cli_shape: How an item is typed on one line, fields separated by ``|``.
        input_formats: Ways a checkpoint may have been trained to read an item (name → description).
        default_format: The format used when a checkpoint does not say.
    """

    id: ClassVar[str]
    item_type: ClassVar[type]
    name: ClassVar[str]
    title: ClassVar[str]
    label_names: ClassVar[dict[int, str]]
    positive: ClassVar[int] = 1
    main_metric: ClassVar[str] = "accuracy"
    verdict_column: ClassVar[str] = "verdict"
    head: ClassVar[str] = "sequence"
    n_choices: ClassVar[int | None] = None
    cli_shape: ClassVar[str]
    input_formats: ClassVar[dict[str, str]] = {}
    default_format: ClassVar[str | None] = None

    @property
    def labels(self) -> list[int]:
        """Every class id, in order (0..n-1)."""
        return sorted(self.label_names)

    @property
    def n_fields(self) -> int:
        """Fields an item has on one ``|``-separated line."""
        return self.cli_shape.count("|") + 1

    @property
    def prob_columns(self) -> list[str]:
        """Table columns of probabilities: one per alternative, or the positive class's."""
        if self.n_choices:
            return [f"P({self.label_names[k]})" for k in self.labels]
        return [f"P({self.label_names[self.positive]})"]

    def label_name(self, label: int) -> str:
        """The wording of one class id."""
        return self.label_names[label]

    def encode(self, item: Any, input_format: str | None = None) -> ModelInput:
        """The item as a checkpoint trained with ``input_format`` reads it (see ``ModelInput``)."""
        raise NotImplementedError

    def text(self, item: Any) -> str:
        """The item on one line, as tables, the CLI and the predictions TSV show it."""
        return " | ".join(self.values(item).values())

    def values(self, item: Any) -> dict[str, str]:
        """The item's fields by name, as the models saw them (cleaned): the CSV columns."""
        raise NotImplementedError

    def answer(self, item: Any, label: int) -> str:
        """A model's answer in words (the label's name; COPA names the alternative)."""
        return self.label_names[label]

    def format_name(self, item: Any, input_format: str | None) -> str:
        """How a checkpoint reads the item, as the results table names it."""
        if input_format:
            return input_format
        return f"{self.default_format} (default)" if self.default_format else "default"

    def result_row(self, item: Any, pred: Any, input_format: str | None) -> dict[str, Any]:
        """One model's prediction on one item, as a results-table row (the model's name aside).

        A model that could not judge shows ``cannot judge`` and no probabilities:
        a placeholder 0.5 would read as "unsure", which is a judgement.
        """
        row, notes = self.result_columns(item, pred, input_format)
        if not pred.judged:
            row[self.verdict_column] = NO_VERDICT
            for column in self.prob_columns:
                row[column] = float("nan")  # a placeholder 0.5 would read as "unsure", itself a judgement
        if pred.note:
            notes.append(pred.note)
        row["notes"] = "; ".join(notes)
        return row

    def result_columns(self, item: Any, pred: Any, input_format: str | None) -> tuple[dict[str, Any], list[str]]:
        """The task's own columns of a results row, and its notes."""
        row = self.answer_columns(item, pred, input_format)
        row["tokens"] = pred.n_tokens
        return row, [f"{pred.n_dropped} tokens cut"] if pred.n_dropped else []

    def answer_columns(self, item: Any, pred: Any, input_format: str | None) -> dict[str, Any]:
        """Probabilities, the answer and the input format: the columns every task's row starts with."""
        probs = pred.probs if self.n_choices else [pred.probs[self.positive]]
        return {**dict(zip(self.prob_columns, probs)), self.verdict_column: self.answer(item, pred.label),
                "input format": self.format_name(item, input_format)}

    def slices(self, item: Any, context: Any = None) -> dict[str, str]:
        """The slices an item belongs to (slice kind → value): length always, plus the task's own.

        Args:
            context: What ``slice_context`` made of a related file (WiC: the training
                targets), or None when there is none.
        """
        return {"length": length_bucket(len(self.length_text(item)))}

    def length_text(self, item: Any) -> str:
        """The text whose length puts an item in a length slice (the longest one the model reads)."""
        raise NotImplementedError

    def slice_context(self, dataset: Any) -> Any:
        """What ``slices`` needs from a related file (e.g. a training set), or None when the task needs nothing."""
        return None

    def check_items(self, items: Any) -> None:
        """Refuses items of another task (a programming error, said plainly)."""
        if items and not isinstance(items[0], self.item_type):
            raise ValueError(f"expected {self.item_type.__name__} items for {self.id}, got {type(items[0]).__name__}")

    def format_problem(self, input_format: str | None) -> str | None:
        """Why ``input_format`` cannot be used for this task, or None when it can (or none is set)."""
        if not input_format or not self.input_formats or input_format in self.input_formats:
            return None
        return f"unknown {self.id} input_format {input_format!r}; expected one of {', '.join(self.input_formats)}"

    # ------------------------------------------------------------------ heads, labels and optional hooks
    # What finetune, loading, evaluate, the demo builder and counterfactual edits ask a task.

    config_labels: ClassVar[dict[int, str] | None] = None
    """The ``id2label`` written into the configs of checkpoints trained here (and read back to infer the
    task). None: transformers' ``LABEL_k``. Checkpoint-facing, so it keeps its wording when ``label_names`` change."""
    slice_upload: ClassVar[str | None] = None
    """What the Evaluate page asks for as an optional related file for ``slice_context`` (None: it asks nothing)."""

    @property
    def num_labels(self) -> int:
        """Classes of a sequence head, or alternatives of a multiple-choice item."""
        return len(self.label_names)

    @property
    def config_id2label(self) -> dict[int, str]:
        """``config_labels``, or ``LABEL_k`` for every class: what a new checkpoint's config says."""
        return dict(self.config_labels) if self.config_labels else {k: f"LABEL_{k}" for k in self.labels}

    @property
    def score_class(self) -> int:
        """The class whose probability a one-number view shows (``prob_columns[0]``): the positive
        class, or alternative 1 of a multiple-choice task."""
        return self.labels[0] if self.n_choices else self.positive

    def demo_items(self, n: int, seed: int) -> list | None:
        """``n`` generated labelled items to train a demo checkpoint on, or None: the task has no demo data."""
        return None

    def demo_data(self, n_train: int, n_dev: int) -> tuple[list, list] | None:
        """Generated (train, dev) items for a demo checkpoint, or None when the task has no demo data.

        Dev items are drawn with another seed, and any that also occur in train are
        dropped: templates repeat across seeds, and seen items would only measure memory.
        """
        train = self.demo_items(n_train, seed=13)
        if train is None:
            return None
        seen = {tuple(self.values(item).values()) for item in train}
        return train, [i for i in self.demo_items(n_dev, seed=14) if tuple(self.values(i).values()) not in seen]

    def tokenizer_texts(self, item: Any) -> list[str]:
        """The texts a tokenizer trained for this task learns from one item (demo checkpoints):
        its text fields, plus any marks or words its input formats add."""
        return list(self.values(item).values())

    def editable_fields(self, item: Any) -> list[tuple[str, str]]:
        """The (field, text) pairs counterfactual edits may change, in order; empty: no edits for this task."""
        return []

    def with_field(self, item: Any, field: str, text: str, edit_span: tuple[int, int] | None = None,
                   analyse: Any = None) -> Any:
        """``item`` with one of its ``editable_fields`` replaced by ``text``.

        Args:
            edit_span: Where in the old text the edit was made (tasks that keep marks, such as
                WiC's target span, move them with it), or None when unknown.
            analyse: Kiwi's morpheme analysis of a sentence, for tasks that must find a word again.

        Raises:
            ValueError: ``field`` is not one of the item's editable fields.
        """
        from dataclasses import replace

        self._check_editable(item, field)
        return replace(item, **{field: text})

    def _check_editable(self, item: Any, field: str) -> None:
        fields = [name for name, _ in self.editable_fields(item)]
        if field not in fields:
            has = f"only {', '.join(fields)}" if fields else "none"
            raise ValueError(f"{self.name} has no editable field {field!r} ({has})")

    def __repr__(self) -> str:
        return f"<task {self.id}>"
