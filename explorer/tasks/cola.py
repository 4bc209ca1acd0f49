"""CoLA: is this Korean sentence acceptable?

Every scorer (fine-tuned transformers, the Kiwi language model) returns the
same ``AcceptabilityResult`` so pages can put any models side by side.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from explorer.data.readers import Layout, Row
from explorer.tasks.base import ModelInput, Task

if TYPE_CHECKING:  # the task layer loads without torch; scoring imports it when it runs
    from explorer.loading import LoadedModel


@dataclass(frozen=True, slots=True)
class ColaItem:
    """One CoLA sentence.

    The NIKL ``source_annotation`` column (``*``, ``?``, ``#`` or empty) restates
    the label, so it is deliberately not read at all: nothing built from a
    ``ColaItem`` can leak it into a model's input.

    Attributes:
        id: Unique within the dataset: the test file's ``index``, or for
            train/dev ``source#k`` (``source`` names a group of related
            sentences and repeats; ``k`` counts from 1 within the group).
        sentence: The sentence, surrounding whitespace stripped.
        label: 1 acceptable, 0 unacceptable, None when the file has no labels.
        source: The ``source`` column (train/dev only); for grouping, not model input.
        row: Line number in the file (header = 1).
    """

    id: str
    sentence: str
    label: int | None
    source: str | None = None
    row: int = 0


def _label(row: Row) -> int | None:
    return row.binary("acceptability_label", "0 or 1")


def _train_row(row: Row, seen: Counter[str]) -> ColaItem:
    label, sentence = _label(row), row.text("sentence")
    # ``source`` groups related sentences (e.g. a minimal pair), so it repeats.
    source = row.text("source")
    seen[source] += 1
    return ColaItem(f"{source}#{seen[source]}", sentence, label, source, row.line)


def _test_row(row: Row, seen: Counter[str]) -> ColaItem:
    label, sentence = _label(row), row.text("sentence")
    return ColaItem(row.unique_id(seen, "index"), sentence, label, None, row.line)


LAYOUTS = (
    Layout(
        "nikl2021_cola", "cola", "NIKL 2021 CoLA train/dev",
        ("source", "acceptability_label", "source_annotation", "sentence"),
        ("source", "sentence"), ("acceptability_label", "source_annotation"), "acceptability_label", _train_row,
    ),
    Layout(
        "nikl2021_cola_test", "cola", "NIKL 2021 CoLA test",
        ("index", "sentence", "acceptability_label"),
        ("index", "sentence"), ("acceptability_label",), "acceptability_label", _test_row,
    ),
)


class Cola(Task):
    id = "cola"
    item_type = ColaItem
    name = "CoLA"
    title = "CoLA · acceptability"
    label_names = {0: "unacceptable", 1: "acceptable"}
    main_metric = "mcc"  # NIKL ranks CoLA by Matthews correlation: the classes are unbalanced
    cli_shape = "SENTENCE"
    layouts = LAYOUTS

    def encode(self, item: ColaItem, input_format: str | None = None) -> ModelInput:
        return ModelInput(item.sentence)

    def text(self, item: ColaItem) -> str:
        return item.sentence

    def values(self, item: ColaItem) -> dict[str, str]:
        return {"sentence": item.sentence}

    def length_text(self, item: ColaItem) -> str:
        return item.sentence


@dataclass
class AcceptabilityResult:
    """One model's judgement of one sentence.

    Attributes:
        sentence: The sentence as scored (after cleaning).
        p_acceptable: Probability the sentence is acceptable.
        label: 1 acceptable, 0 unacceptable (NIKL convention).
        n_tokens: Tokens the model read, special tokens included.
        n_dropped: Tokens cut off because the input was longer than the model allows.
        details: Scorer-specific extras (e.g. per-morpheme log-probabilities).
        remark: A scorer's own note (the Kiwi LM's characters cut), shown in ``note``.
    """

    sentence: str
    p_acceptable: float
    label: int
    n_tokens: int = 0
    n_dropped: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    remark: str = ""

    @property
    def note(self) -> str:
        if self.remark:
            return self.remark
        if self.n_dropped:
            return f"truncated: {self.n_dropped} of {self.n_tokens + self.n_dropped} tokens dropped"
        return ""


class AcceptabilityScorer(Protocol):
    """Anything that can judge sentences for the CoLA page."""

    def score_acceptability(self, sentences: Sequence[str]) -> list[AcceptabilityResult]: ...


def score_acceptability(loaded: LoadedModel, sentences: Sequence[str], batch_size: int = 32) -> list[AcceptabilityResult]:
    """Scores sentences with a sequence-classification checkpoint.

    Sentences are batched by length so padding stays small; the attention mask
    is always passed, so a sentence gets the same score alone or in a batch.
    Over-long sentences are truncated to the model's maximum and the number of
    dropped tokens is reported.

    Args:
        loaded: A model with a 2-class sequence-classification head.
        sentences: Cleaned, non-empty sentences.
        batch_size: Sentences per forward pass.
    """
    from explorer.tasks.common import classify

    scored = classify(loaded, sentences, batch_size=batch_size)
    results = []
    for sentence, s in zip(sentences, scored):
        p = s.probs[loaded.positive_label]
        results.append(AcceptabilityResult(sentence, p, int(p >= 0.5), s.n_tokens, s.n_dropped))
    return results


class TransformerAcceptability:
    """Adapts a loaded checkpoint to the ``AcceptabilityScorer`` protocol."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded

    def score_acceptability(self, sentences: Sequence[str]) -> list[AcceptabilityResult]:
        return score_acceptability(self.loaded, sentences)
