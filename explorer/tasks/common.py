"""Running sequence-classification and multiple-choice heads on text pairs.

All tasks reduce to two calls: ``classify`` (one text or a pair → class
probabilities) and ``choose`` (a first text and N endings → one score per
ending). Both sort by length so padding stays small, always pass the attention
mask, and report how many tokens truncation dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from explorer.loading import LoadedModel

Progress = Callable[[int, int], None]


@dataclass
class Scored:
    """Class probabilities for one input.

    Attributes:
        probs: Softmax over the head's classes (or over the alternatives).
        n_tokens: Tokens the model read (per alternative: the longest).
        n_dropped: Tokens truncation removed.
    """

    probs: list[float]
    n_tokens: int
    n_dropped: int


def _lengths(tokenizer, firsts: Sequence[str], seconds: Sequence[str] | None) -> list[int]:
    enc = tokenizer(list(firsts), list(seconds) if seconds is not None else None, add_special_tokens=True)
    return [len(ids) for ids in enc["input_ids"]]


@torch.inference_mode()
def classify(
    loaded: LoadedModel,
    firsts: Sequence[str],
    seconds: Sequence[str] | None = None,
    truncation: str = "longest_first",
    batch_size: int = 32,
    progress: Progress | None = None,
) -> list[Scored]:
    """Class probabilities for single texts or pairs.

    Args:
        loaded: A model with a sequence-classification head.
        firsts: First texts.
        seconds: Second texts of each pair, or None for single texts.
        truncation: ``longest_first``, or ``only_first`` / ``only_second`` to
            cut one side only (BoolQ cuts the passage, never the question).
        batch_size: Inputs per forward pass.
        progress: Called with (done, total) after each batch.
    """
    if loaded.head != "sequence":
        raise ValueError(f"{loaded.entry.name} has a {loaded.head} head; this needs sequence classification.")
    tok = loaded.tokenizer
    full = _lengths(tok, firsts, seconds)
    order = sorted(range(len(firsts)), key=full.__getitem__)
    out: list[Scored | None] = [None] * len(firsts)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = tok(
            [firsts[i] for i in idx],
            [seconds[i] for i in idx] if seconds is not None else None,
            truncation=truncation,
            max_length=loaded.max_length,
            padding=True,
            return_tensors="pt",
        ).to(loaded.device)
        probs = torch.softmax(loaded.model(**batch).logits.float(), dim=-1).cpu().tolist()
        used = batch["attention_mask"].sum(dim=1).cpu().tolist()
        for i, p, n in zip(idx, probs, used):
            out[i] = Scored(p, int(n), max(0, full[i] - int(n)))
        if progress:
            progress(min(start + batch_size, len(order)), len(order))
    return [s for s in out if s is not None]


@torch.inference_mode()
def choose(
    loaded: LoadedModel,
    firsts: Sequence[str],
    endings: Sequence[Sequence[str]],
    batch_size: int = 16,
    progress: Progress | None = None,
) -> list[Scored]:
    """Scores N endings per first text with a multiple-choice head.

    Returns:
        Per item, the softmax over its endings.
    """
    if loaded.head != "multiple_choice":
        raise ValueError(f"{loaded.entry.name} has a {loaded.head} head; this needs a multiple-choice head.")
    tok = loaded.tokenizer
    n_choices = len(endings[0]) if endings else 0
    out: list[Scored] = []
    for start in range(0, len(firsts), batch_size):
        chunk = range(start, min(start + batch_size, len(firsts)))
        pair_a = [firsts[i] for i in chunk for _ in range(n_choices)]
        pair_b = [e for i in chunk for e in endings[i]]
        full = _lengths(tok, pair_a, pair_b)
        enc = tok(pair_a, pair_b, truncation=True, max_length=loaded.max_length, padding=True, return_tensors="pt")
        batch = {k: v.view(len(chunk), n_choices, -1).to(loaded.device) for k, v in enc.items()}
        probs = torch.softmax(loaded.model(**batch).logits.float(), dim=-1).cpu().tolist()
        used = enc["attention_mask"].sum(dim=1).view(len(chunk), n_choices).tolist()
        for j, p in enumerate(probs):
            lens = used[j]
            dropped = sum(max(0, full[j * n_choices + k] - lens[k]) for k in range(n_choices))
            out.append(Scored(p, int(max(lens)), dropped))
        if progress:
            progress(min(start + batch_size, len(firsts)), len(firsts))
    return out
