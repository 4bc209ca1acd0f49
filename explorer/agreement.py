"""Do the models agree? The majority answer across models, shared by every page."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Agreement:
    """The majority answer across models.

    Attributes:
        verdict: The majority's answer, ``split`` on a tie, ``no answers`` when no model answered.
        agreeing: Models giving the most common answer.
        total: Models that answered.
    """

    verdict: str
    agreeing: int
    total: int

    @property
    def share(self) -> float:
        return self.agreeing / self.total if self.total else float("nan")


def majority(labels: Sequence[int], names: Mapping[int, str]) -> Agreement:
    """Majority verdict over the models' labels, named by ``names``; a tie is ``split``."""
    counts = Counter(labels).most_common()
    if not counts:
        return Agreement("no answers", 0, 0)
    top = counts[0][1]
    tied = len(counts) > 1 and counts[1][1] == top
    return Agreement("split" if tied else names[counts[0][0]], top, len(labels))
