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

    shape_help = "one sentence per line; `first | second` makes a sentence pair (to see segment ids)"
    example_lines = ("나는 어제 학교에 갔다.", "책가 책상 위에 있다.", "할머니께서 시장에서 떡을 파셨다.")
    counterfactual_edits = "sentence"
    label_words = frozenset({"acceptable", "grammatical", "unacceptable", "ungrammatical", "허용", "적격", "비문"})

    def parse_line(self, text: str, analyse=None) -> tuple[ColaItem, list[str]]:
        from explorer.tasks.items import make_cola  # items imports the registry, which imports this module

        return make_cola(*self.line_fields(text)), []

    def cli_json_fields(self, item: ColaItem, pred) -> dict:
        return {"sentence": item.sentence, "p_acceptable": pred.p1}


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
