"""What a task is: one object that owns every fact true of it.

A task (CoLA, WiC, COPA, BoolQ, ...) is a small subclass of ``Task`` that
declares its facts as class attributes, listed once in
``explorer.tasks.registry``: its name and title, the wording of its labels
(used by every page, table, CSV and the CLI), its metric, its model head, its
input formats and its command-line syntax. Code elsewhere asks the task
object and never branches on a task's name, so adding a task is one module
and one registry line (the way inseq registers attribution methods and LIT
registers GLUE tasks).

Nothing here, in the registry or in a task module imports torch, pandas or the
model service: tasks are the layer below them (``import explorer.tasks.registry``
loads neither, and the CLI parses arguments from it). Running a model on a task's
items is ``tasks/common.py`` and ``tasks/predict.py``, which do use torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping, NamedTuple, Sequence

from explorer.data.readers import Layout  # a task declares its file layouts with it
from explorer.text import clean_sentence


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


class InputError(ValueError):
    """What the user typed cannot form an item; the message says why."""


def clean_field(text: str, what: str) -> str:
    """One typed field, cleaned (``explorer.text.clean_sentence``).

    Raises:
        InputError: nothing is left; the message names ``what`` ("The premise is empty.").
    """
    cleaned, _ = clean_sentence(text or "")
    if not cleaned:
        raise InputError(f"{what} is empty.")
    return cleaned


# Short metric names for table columns (Comparison's ``CoLA MCC``), by metric key.
METRIC_ABBREVIATIONS = {"accuracy": "acc", "mcc": "MCC", "f1_macro": "F1"}
# A metric in words (Evaluate's columns, a model's dev score in its description), by metric key.
METRIC_NAMES = {"accuracy": "accuracy", "mcc": "MCC", "f1_macro": "F1 macro"}


# --- the task's page: form fields and what the page shows ------------------------------------------

@dataclass(frozen=True)
class Field:
    """One input of a task's page form, and of its shareable link.

    Attributes:
        name: The value's key in ``Task.make_item``'s values and in examples; the
            widget's session-state key is ``{task id}_{name}``.
        label: The widget's label (``Target word``).
        url: The URL parameter that carries the value in a shared link.
        kind: ``line`` (one line), ``text`` (a box of several lines) or ``choice``
            (one of ``options``, never blank: it starts at ``default``).
        placeholder: Grey example text in an empty widget.
        options: For a choice: (value, what the user sees) pairs.
        default: The value before the user or a link sets one (a choice's first option if empty).
        beside: Shown in a column beside the previous field rather than below it.
        height: A text box's height in pixels (Streamlit's default when None).
        max_chars: The longest value the widget accepts (no limit when None).
        live: The key of this field in the Comparison page's one-line form (``s`` is
            the sentence shared by every task); empty when that form cannot fill it.
    """

    name: str
    label: str
    url: str
    kind: str = "line"
    placeholder: str = ""
    options: tuple[tuple[str, str], ...] = ()
    default: str = ""
    beside: bool = False
    height: int | None = None
    max_chars: int | None = None
    live: str = ""

    @property
    def initial(self) -> str:
        """The value an untouched form holds."""
        return self.default or (self.options[0][0] if self.options else "")

    @property
    def what(self) -> str:
        """The field in a sentence: ``the premise``; a numbered one bare: ``sentence 1``."""
        text = self.label.lower()
        return text if text[-1:].isdigit() else f"the {text}"


@dataclass(frozen=True)
class Highlight:
    """A span of an input the page marks (WiC: the target in each sentence), as data.

    Attributes:
        label: What the text is (``Sentence 1``).
        text: The text as the models saw it.
        span: The marked span (0-based, end exclusive), or None when there is none.
        how: How the span was found, shown beside it in grey.
        problem: A warning to show under it (what to do when the span was not found); empty if none.
    """

    label: str
    text: str
    span: tuple[int, int] | None
    how: str
    problem: str = ""


class NavPage(NamedTuple):
    """A task's page as navigation and Home list it."""

    file: str
    title: str
    icon: str
    url_path: str
    blurb: str


# A model that could not judge an item (the overlap baseline on a question without content words).
NO_VERDICT = "cannot judge"


def short(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters with an ellipsis."""
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


# Sentence-length slices on a scale that suits Korean sentences: (longest length in characters, name), shortest
# first; the last takes everything longer. Their order here is the order tables show them in.
LENGTH_SLICES = ((20, "≤20 chars"), (40, "21–40"), (80, "41–80"), (160, "81–160"), (None, ">160"))


def length_bucket(n_chars: int) -> str:
    """The ``LENGTH_SLICES`` name of a text of ``n_chars`` characters."""
    return next(name for limit, name in LENGTH_SLICES if limit is None or n_chars <= limit)


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
        layouts: The published file layouts the task reads, each with its
            row builder (see ``explorer.data.readers.Layout``); the registry's
            ``read_dataset`` detects a file's layout among every task's.
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
    # True when class ids are the checkpoint's own (a classifier of its own labels): never reordered
    # to put a "positive" class at id 1.
    own_labels: ClassVar[bool] = False
    input_formats: ClassVar[dict[str, str]] = {}
    default_format: ClassVar[str | None] = None
    layouts: ClassVar[tuple[Layout, ...]] = ()
    # The names the published files of the task go by, as glob patterns on the end of a path (case ignored):
    # ``NIKL_CoLA_*.tsv``, or ``copa/*.tsv`` for KoBEST's ``kobest_v1/copa/dev.tsv``. A file is read by its
    # columns whatever its name; the names are how the Evaluate page finds a task's files in a folder first,
    # and tell a user who has none what to put there.
    data_files: ClassVar[tuple[str, ...]] = ()

    @property
    def labels(self) -> list[int]:
        """Every class id, in order (0..n-1)."""
        return sorted(self.label_names)

    @property
    def n_fields(self) -> int:
        """Fields an item has on one ``|``-separated line."""
        return self.cli_shape.count("|") + 1

    @property
    def every_class(self) -> bool:
        """Tables show a probability per class or alternative (more than two, or a choice), not one number."""
        return bool(self.n_choices) or len(self.label_names) > 2

    @property
    def prob_columns(self) -> list[str]:
        """Table columns of probabilities: one per class or alternative, or the positive class's of two."""
        if self.every_class:
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
        if self.n_choices:
            return self.choice_columns(item, pred, input_format)
        row = self.answer_columns(item, pred, input_format)
        row["tokens"] = pred.n_tokens
        return row, [f"{pred.n_dropped} tokens cut"] if pred.n_dropped else []

    def choice_columns(self, item: Any, pred: Any, input_format: str | None) -> tuple[dict[str, Any], list[str]]:
        """A multiple-choice row: which head answered, and a pair classifier's raw scores in the notes.

        A pair classifier scores each alternative alone, so its probabilities are
        normalised scores, not a joint distribution: the row says so.
        """
        pair = (pred.details or {}).get("pair_scores")
        row = self.answer_columns(item, pred, input_format)
        row = {**{k: v for k, v in row.items() if k != "input format"},
               "head": "pair classifier" if pair else "multiple choice", "input format": row["input format"]}
        notes = []
        if pair:
            scores = " · ".join(f"{p:.3f}" for p in pair)
            notes.append(f"P(right) scored one at a time: {scores}, normalised to sum to 1")
        if pred.n_dropped:
            notes.append(f"{pred.n_dropped} tokens cut")
        return row, notes

    def answer_columns(self, item: Any, pred: Any, input_format: str | None) -> dict[str, Any]:
        """Probabilities, the answer and the input format: the columns every task's row starts with."""
        probs = pred.probs if self.every_class else [pred.probs[self.positive]]
        return {**dict(zip(self.prob_columns, probs)), self.verdict_column: self.answer(item, pred.label),
                "input format": self.format_name(item, input_format)}

    def slices(self, item: Any, context: Any = None) -> dict[str, str]:
        """The slices an item belongs to (slice kind → value): length always, plus the task's own.

        Args:
            context: What ``slice_context`` made of a related file (WiC: the training
                targets), or None when there is none.
        """
        return {"length": length_bucket(len(self.length_text(item)))}

    # The task's own slice kinds (beyond length), each with its values in the order tables show them:
    # a slice's name ("≤20 chars", "seen") sorts badly as text, so the order is a fact of the task.
    slice_kinds: ClassVar[dict[str, tuple[str, ...]]] = {}

    @property
    def slice_order(self) -> dict[str, tuple[str, ...]]:
        """Every slice kind ``slices`` gives (length first, then the task's own) → its values in reading order."""
        return {"length": tuple(name for _, name in LENGTH_SLICES), **self.slice_kinds}

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

    # --- the task's page (explorer/ui/task_page.py renders it from these; no page names a task) -----
    page_title: ClassVar[str] = ""  # navigation and page title; the task's title when empty
    icon: ClassVar[str] = ":material/label:"  # navigation icon
    url_path: ClassVar[str] = ""  # the page's path in the app's URL; the task id when empty
    page_file: ClassVar[str] = ""  # the page script; pages/<id>.py when empty
    blurb: ClassVar[str] = ""  # the Home page's link text; the title when empty
    page_caption: ClassVar[str] = ""  # what the page asks, under its title
    run_label: ClassVar[str] = "Run"  # the button that runs the models
    fields: ClassVar[tuple[Field, ...]] = ()  # the page's form, in order
    # Example inputs by field name, each with its right answer under ``expected`` (a ``label_names`` wording)
    # and an optional ``note`` saying why.
    examples: ClassVar[tuple[dict[str, str], ...]] = ()
    uses_morphemes: ClassVar[bool] = False  # make_item wants Kiwi's morpheme analysis (``analyse``)
    cut_side: ClassVar[str] = ""  # the one input tokenizers may cut, when the page should say how much they cut
    cut_note: ClassVar[str] = ""  # the sentence that ends that note (what is never cut)
    table_caption: ClassVar[str] = ""  # the legend under the models table; a wording from label_names when empty

    @property
    def nav(self) -> NavPage:
        """Where and how the app lists the task's page (the blanks above filled in)."""
        return NavPage(self.page_file or f"pages/{self.id}.py", self.page_title or self.title, self.icon,
                       self.url_path or self.id, self.blurb or self.title)

    def legend(self) -> str:
        """The legend under the models table."""
        if self.table_caption:
            return self.table_caption
        if self.every_class:
            what = "alternative" if self.n_choices else "class"
            return (f"Each model's probability for each {what} (green = likely, red = unlikely); a yellow "
                    f"{self.verdict_column} is not the majority's (all are yellow when the models split).")
        others = " / ".join(name for label, name in self.label_names.items() if label != self.positive)
        positive = self.label_names[self.positive]
        return (f"{self.prob_columns[0]}: green = {positive}, red = {others}, pale = unsure; a yellow "
                f"{self.verdict_column} is not the majority's (all are yellow when the models split).")

    def form_value(self, field: Field, value: str) -> str:
        """A value from a link or an example as the form holds it: a choice falls back to its default."""
        if field.kind == "choice" and value not in {v for v, _ in field.options}:
            return field.initial
        return value

    def example_label(self, example: Mapping[str, str]) -> str:
        """What an example's pill says: its first typed field, shortened, and its note."""
        first = next((f.name for f in self.fields if f.kind != "choice"), None)
        return with_note(short(example.get(first, ""), 24) if first else "", example)

    def expected_label(self, values: Mapping[str, str]) -> int | None:
        """The class a built-in example expects, when ``values`` (by field name) are that example's; else None.

        Every example names its right answer under ``expected`` (one of ``label_names``' wordings), so a
        page can mark each model's answer right or wrong. Anything else typed has no known answer: None.
        """
        names = {name: label for label, name in self.label_names.items()}
        for example in self.examples:
            if "expected" in example and all(
                self.form_value(f, str(values.get(f.name, ""))).strip() == self.form_value(f, example.get(f.name, "")).strip()
                for f in self.fields
            ):
                return names[example["expected"]]
        return None

    def make_item(self, values: Mapping[str, str], analyse: Callable[[str], Sequence] | None = None) -> tuple[Any, Any]:
        """The item the form's values describe, and what ``highlights`` needs (or None).

        Raises:
            InputError (explorer.tasks.items): for values that cannot form an item, saying why.
        """
        raise NotImplementedError

    def highlights(self, item: Any, extra: Any) -> list[Highlight]:
        """Spans of the item the page marks above the table; none by default."""
        return []

    # --- How the analysis surfaces read a task: Inside a model, the CLI, Comparison, model inference.
    # example_lines: Inputs in ``cli_shape`` that Inside a model starts with.
    # uses_morphemes: ``parse_line`` wants Kiwi morphemes (WiC finds a target through them).
    # counterfactual_edits: What Inside a model's counterfactual tab edits: ``sentence`` (the one
    #     sentence, rescored by every acceptability scorer), ``fields`` (each sentence of the item,
    #     explorer.internals.counterfactuals.pair_variants), or None (no edits).
    # label_words: Words in a checkpoint's ``id2label`` that identify this task (lower-case, letters
    #     or Hangul only: id2label is split into words at anything else).
    # aliases: Other spellings of the task in ``finetuning_task`` or a folder name.
    # default_for_head: The head (``multiple_choice``) whose checkpoints are this task when nothing
    #     else says which; one task per head at most.
    example_lines: ClassVar[tuple[str, ...]] = ()
    counterfactual_edits: ClassVar[str | None] = None
    label_words: ClassVar[frozenset[str]] = frozenset()
    aliases: ClassVar[tuple[str, ...]] = ()
    default_for_head: ClassVar[str | None] = None

    @property
    def shape_help(self) -> str:
        """Inside a model's help for one input line; a task may say it in words (a class attribute)."""
        return f"`{self.cli_shape.replace('|', ' | ')}` per line"

    @property
    def compare_column(self) -> str:
        """The Comparison page's column: the task's name and main metric (``CoLA MCC``, ``WiC acc``)."""
        return f"{self.name} {METRIC_ABBREVIATIONS.get(self.main_metric, self.main_metric)}"

    def line_fields(self, text: str) -> list[str]:
        """The ``|``-separated fields of one line, as many as ``cli_shape`` has.

        A one-field task reads the whole line, ``|`` included (a CoLA sentence may hold one).

        Raises:
            InputError: the line has another number of fields; the message shows ``cli_shape``.
        """
        if self.n_fields == 1:
            return [text]
        fields = [f.strip() for f in text.split("|")]
        if len(fields) != self.n_fields:
            raise InputError(f"{self.id} input needs {self.n_fields} fields separated by '|': {self.cli_shape} "
                             f"(got {len(fields)}).")
        return fields

    def parse_line(self, text: str, analyse: Callable[[str], Sequence] | None = None) -> tuple[Any, list[str]]:
        """One typed line in ``cli_shape`` (the CLI, Inside a model) → the item and notes worth showing.

        Args:
            analyse: Kiwi morphemes of a text, for a task that ``uses_morphemes``; None skips them.

        Returns:
            The item, and full-sentence notes on what did not stop it (a WiC target not found).

        Raises:
            InputError: the line cannot form an item; the message says why.
        """
        # By default the line holds the page's fields in order, so a task that declares its
        # fields and make_item reads typed lines too.
        names = [field.name for field in self.fields]
        if len(names) != self.n_fields:
            raise NotImplementedError(f"{self.id}: cli_shape and fields differ; override parse_line")
        item, _ = self.make_item(dict(zip(names, self.line_fields(text))), analyse)
        return item, []

    @property
    def starting_lines(self) -> tuple[str, ...]:
        """The lines Inside a model starts with: ``example_lines``, else the page's examples as typed lines."""
        if self.example_lines:
            return self.example_lines
        names = [field.name for field in self.fields]
        return tuple(" | ".join(example[name] for name in names) for example in self.examples
                     if all(name in example for name in names))

    def cli_json_fields(self, item: Any, pred: Any) -> dict[str, Any]:
        """Keys a ``predict --json`` row starts with beyond the shared ones (CoLA keeps its older keys)."""
        return {}

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


def with_note(head: str, example: Mapping[str, str]) -> str:
    """A pill's text: the example's head, then its note shortened."""
    note = example.get("note", "")
    return f"{head} · {short(note, 32)}" if note else head
