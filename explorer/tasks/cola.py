"""CoLA: is this Korean sentence acceptable?

Every scorer (fine-tuned transformers, the Kiwi language model) returns the
same ``AcceptabilityResult`` so pages can put any models side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import torch

from explorer.loading import LoadedModel


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
    """

    sentence: str
    p_acceptable: float
    label: int
    n_tokens: int = 0
    n_dropped: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def note(self) -> str:
        if self.n_dropped:
            return f"truncated: {self.n_dropped} of {self.n_tokens + self.n_dropped} tokens dropped"
        return ""


class AcceptabilityScorer(Protocol):
    """Anything that can judge sentences for the CoLA page."""

    def score_acceptability(self, sentences: Sequence[str]) -> list[AcceptabilityResult]: ...


@torch.inference_mode()
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
    if loaded.head != "sequence":
        raise ValueError(f"{loaded.entry.name} has a {loaded.head} head; CoLA needs sequence classification.")
    tok = loaded.tokenizer
    full_lengths = [len(ids) for ids in tok(list(sentences), add_special_tokens=True)["input_ids"]]
    order = sorted(range(len(sentences)), key=lambda i: full_lengths[i])
    results: list[AcceptabilityResult | None] = [None] * len(sentences)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = tok(
            [sentences[i] for i in idx],
            truncation=True,
            max_length=loaded.max_length,
            padding=True,
            return_tensors="pt",
        ).to(loaded.device)
        logits = loaded.model(**batch).logits.float()
        probs = torch.softmax(logits, dim=-1)[:, loaded.acceptable_label].cpu().tolist()
        used = batch["attention_mask"].sum(dim=1).cpu().tolist()
        for i, p, n in zip(idx, probs, used):
            results[i] = AcceptabilityResult(
                sentence=sentences[i],
                p_acceptable=float(p),
                label=int(p >= 0.5),
                n_tokens=int(n),
                n_dropped=max(0, full_lengths[i] - int(n)),
            )
    return [r for r in results if r is not None]


class TransformerAcceptability:
    """Adapts a loaded checkpoint to the ``AcceptabilityScorer`` protocol."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded

    def score_acceptability(self, sentences: Sequence[str]) -> list[AcceptabilityResult]:
        return score_acceptability(self.loaded, sentences)
