"""Humans beside models: the majority of the room's votes, and who agrees with whom.

Agreement is counted over the items both sides judged; Cohen's kappa corrects it for the agreement two judges
with the same label shares would reach by chance (1 = always agree, 0 = no better than chance, < 0 = worse).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from explorer.room.store import Item


@dataclass(frozen=True)
class Majority:
    label: int | None  # None: no votes, or a tie
    share: float  # the leading label's share of the votes (0 with no votes)
    n_votes: int
    counts: dict[int, int]


def majority(item: Item) -> Majority:
    counts = Counter(item.votes.values())
    if not counts:
        return Majority(None, 0.0, 0, {})
    (top, n), *rest = counts.most_common()
    tie = bool(rest) and rest[0][1] == n
    total = sum(counts.values())
    return Majority(None if tie else top, n / total, total, dict(counts))


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Cohen's kappa of two judges' labels for the same items; None for no items, or when chance agreement is 1
    (both judges gave one same label throughout: kappa is undefined)."""
    if len(a) != len(b):
        raise ValueError("both judges must label the same items")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class Agreement:
    judge: str
    other: str
    n_items: int
    agreement: float | None
    kappa: float | None


def _pair(judge: str, other: str, x: list[int], y: list[int]) -> Agreement:
    n = len(x)
    return Agreement(judge, other, n, (sum(p == q for p, q in zip(x, y)) / n) if n else None, cohen_kappa(x, y))


def model_vs_majority(board: Sequence[Item], models: Sequence[str]) -> list[Agreement]:
    """Per model: agreement and kappa with the humans' majority, over items with a majority and a model answer."""
    out = []
    for model in models:
        x, y = [], []
        for item in board:
            m, j = majority(item), item.judgements.get(model)
            if m.label is not None and j and j["label"] is not None:
                x.append(j["label"])
                y.append(m.label)
        out.append(_pair(model, "human majority", x, y))
    return out


def human_vs_models(board: Sequence[Item], models: Sequence[str]) -> list[Agreement]:
    """Per human and model: agreement and kappa over the items both judged."""
    voters = sorted({v for item in board for v in item.votes})
    out = []
    for voter in voters:
        for model in models:
            x, y = [], []
            for item in board:
                j = item.judgements.get(model)
                if voter in item.votes and j and j["label"] is not None:
                    x.append(item.votes[voter])
                    y.append(j["label"])
            out.append(_pair(voter, model, x, y))
    return out


def disagreement(item: Item, models: Sequence[str]) -> float | None:
    """How strongly humans and models part ways on an item: the share of models against the majority, weighted
    by how sure the humans are (their majority's share). None without a majority or a model answer."""
    m = majority(item)
    answers = [item.judgements[k]["label"] for k in models
               if k in item.judgements and item.judgements[k]["label"] is not None]
    if m.label is None or not answers:
        return None
    return m.share * sum(a != m.label for a in answers) / len(answers)


def most_disputed(board: Sequence[Item], models: Sequence[str], n: int = 5) -> list[tuple[Item, float]]:
    scored = [(item, d) for item in board if (d := disagreement(item, models))]
    return sorted(scored, key=lambda pair: (-pair[1], pair[0].id))[:n]
