"""CoLA: is this Korean sentence acceptable?

Every scorer (fine-tuned transformers, the Kiwi language model) returns the
same ``AcceptabilityResult`` so pages can put any models side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from explorer.data.readers import ColaItem
from explorer.tasks.base import ModelInput, Task

if TYPE_CHECKING:  # the task layer loads without torch; scoring imports it when it runs
    from explorer.loading import LoadedModel


class Cola(Task):
    id = "cola"
    item_type = ColaItem
    name = "CoLA"
    title = "CoLA · acceptability"
    label_names = {0: "unacceptable", 1: "acceptable"}
    main_metric = "mcc"  # NIKL ranks CoLA by Matthews correlation: the classes are unbalanced
    cli_shape = "SENTENCE"

    def encode(self, item: ColaItem, input_format: str | None = None) -> ModelInput:
        return ModelInput(item.sentence)

    def text(self, item: ColaItem) -> str:
        return item.sentence

    def values(self, item: ColaItem) -> dict[str, str]:
        return {"sentence": item.sentence}

    def length_text(self, item: ColaItem) -> str:
        return item.sentence

    # Heads, labels and optional hooks.
    config_labels = {0: "unacceptable", 1: "acceptable"}

    def editable_fields(self, item: ColaItem) -> list[tuple[str, str]]:
        return [("sentence", item.sentence)]

    def demo_data(self, n_train: int, n_dev: int) -> tuple[list, list]:
        """Generated sentences split by source sentence, so dev minimal pairs come from unseen sources."""
        import random

        from explorer.defaults.korean import generate_cola

        examples = generate_cola(n_train + n_dev, seed=13)
        sources = sorted({e.source for e in examples})
        random.Random(7).shuffle(sources)
        dev_sources = set(sources[: max(1, len(sources) * n_dev // (n_train + n_dev))])
        to_item = lambda k, e: ColaItem(f"gen-{k}", e.sentence, e.label)  # noqa: E731
        train = [to_item(k, e) for k, e in enumerate(examples) if e.source not in dev_sources]
        dev = [to_item(k, e) for k, e in enumerate(examples) if e.source in dev_sources]
        return train, dev


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
