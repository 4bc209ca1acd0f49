"""A lexical-overlap baseline for BoolQ, built on Kiwi's morphemes.

Tiny transformers trained from scratch at first start stay at chance on BoolQ
(measured), so the offline default for BoolQ is the classic baseline instead:
the share of the question's content morphemes (nouns, verb and adjective
stems, numbers, foreign words) that also occur in the passage, mapped to
P(yes) by a logistic curve fitted on generated passages. It is honest about
what it is: a statement whose words are all in the passage is probably true.
It cannot see negation or paraphrase, and it is not a transformer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from explorer.tasks.boolq import BoolqItem
from explorer.kiwi_lm import MAX_CHARS
from explorer.scorers import KIWI_OVERLAP, SCORER_KINDS, Capabilities, OneByOne

if TYPE_CHECKING:
    from explorer.tasks.base import Task
    from explorer.tasks.predict import Prediction

CONTENT_TAGS = ("NNG", "NNP", "NR", "SN", "SL", "VV", "VA", "XR", "MAG")
LIMITS = (
    "A lexical baseline, not a transformer: it checks whether the question's content words occur in the passage, "
    "so it misses negation, paraphrase and numbers written differently."
)


CANNOT_JUDGE = (
    "cannot judge: the question has no content words (nouns, verb or adjective stems, numbers, foreign words) "
    "to look for in the passage"
)


def chunks(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut at the last space where there is one."""
    pieces = []
    while len(text) > size:
        cut = text.rfind(" ", size // 2, size)
        cut = size if cut <= 0 else cut
        pieces.append(text[:cut])
        text = text[cut:]
    pieces.append(text)
    return pieces


@dataclass(frozen=True)
class Overlap:
    """Which content morphemes of the question the passage contains."""

    found: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def share(self) -> float | None:
        """The share of the question's content morphemes found in the passage; None when it has none.

        None, not 1.0: "all of nothing" is no evidence for yes, yet under the prepared calibration a
        share of 1.0 reads as P(yes) 0.84 (exactly the "yes 0.84" issue 12 reports for 😀).
        """
        total = len(self.found) + len(self.missing)
        return len(self.found) / total if total else None


class KiwiOverlap(OneByOne):
    """P(yes) from morpheme overlap; shares the Kiwi analyser of ``KiwiLM``. The overlap ``Scorer``.

    Args:
        morphemes: ``KiwiLM.morphemes`` (a callable returning morphemes).
        threshold, scale: The logistic map from overlap share to P(yes).
    """

    label: ClassVar[str] = "the Kiwi overlap baseline"
    kind: ClassVar[str] = KIWI_OVERLAP
    capabilities: ClassVar[Capabilities] = SCORER_KINDS[KIWI_OVERLAP]

    def __init__(self, morphemes, threshold: float = 0.9, scale: float = 12.0) -> None:
        self.morphemes = morphemes
        self.threshold = threshold
        self.scale = scale

    def _content(self, text: str) -> list[str]:
        # Kiwi analyses at most MAX_CHARS at a time; a long passage is read in pieces cut
        # at spaces, so evidence late in the passage still counts.
        return [m.form for piece in chunks(text, MAX_CHARS) for m in self.morphemes(piece) if m.tag.startswith(CONTENT_TAGS)]

    def overlap(self, passage: str, question: str) -> Overlap:
        have = set(self._content(passage))
        words = list(dict.fromkeys(self._content(question)))
        return Overlap(tuple(w for w in words if w in have), tuple(w for w in words if w not in have))

    def probability(self, share: float) -> float:
        return 1.0 / (1.0 + math.exp(-self.scale * (share - self.threshold)))

    def fit(self, items: Sequence[BoolqItem]) -> float:
        """Fits threshold and scale on labelled items; returns training accuracy."""
        from sklearn.linear_model import LogisticRegression

        # Items whose question has no content words teach the curve nothing (the scorer never judges them).
        shares = [(share, i.label) for i in items if (share := self.overlap(i.passage, i.question).share) is not None]
        xs, ys = [[share] for share, _ in shares], [label for _, label in shares]
        clf = LogisticRegression(C=100.0).fit(xs, ys)
        self.scale = float(clf.coef_[0][0])
        self.threshold = float(-clf.intercept_[0] / self.scale) if self.scale else 0.5
        return float(clf.score(xs, ys))

    def judge_item(self, task: Task, item: Any) -> Prediction:
        return self._judge(item)

    def _judge(self, item: BoolqItem) -> Prediction:
        from explorer.tasks.predict import Prediction  # the scoring layer, loaded with torch only when used

        ov = self.overlap(item.passage, item.question)
        if ov.share is None:  # nothing to compare (see Overlap.share)
            return Prediction(0, [0.5, 0.5], 0, 0, {"found": [], "missing": []}, note=CANNOT_JUDGE, judged=False)
        p = self.probability(ov.share)
        return Prediction(int(p >= 0.5), [1.0 - p, p], len(ov.found) + len(ov.missing), 0,
                          {"found": list(ov.found), "missing": list(ov.missing)})
