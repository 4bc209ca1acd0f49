"""Kiwi's language model as a zero-shot acceptability scorer.

Kiwi (kiwipiepy) scores each morphological analysis with a language model.
We take the best analysis's log-probability, normalise it by the sentence's
length in characters (longer sentences are always less probable), and map it
to P(acceptable) with a logistic curve fitted on the project's generated demo
data. Per-morpheme log-probabilities show where a sentence goes wrong.

Known limits, shown in the UI: Kiwi scores its own best reading, so it may
re-read a particle error as another word (책가 → a noun "책가"); and its
language model sees short context only, so it misses tense-adverb agreement.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from explorer.scorers import KIWI_LM, SCORER_KINDS, Capabilities, OneByOne

if TYPE_CHECKING:
    from explorer.tasks.base import Task
    from explorer.tasks.predict import Prediction

MODEL_TYPE = "cong"
MAX_CHARS = 2000  # Kiwi's analysis time grows with length; longer input is cut with a note.
LIMITS = (
    "Scores Kiwi's best morphological reading, so some particle errors are re-read as other words; "
    "its language model does not see tense–time-adverb agreement. It is not a transformer: "
    "pages that inspect transformer internals skip it."
)


@dataclass(frozen=True)
class Calibration:
    """Logistic map from per-character log-probability to P(acceptable)."""

    threshold: float = -2.0
    scale: float = 3.0
    fitted_on: str = "uncalibrated default"
    accuracy: float | None = None

    def probability(self, per_char: float) -> float:
        z = self.scale * (per_char - self.threshold)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Calibration | None":
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None


@dataclass(frozen=True)
class Morpheme:
    """One morpheme of Kiwi's best analysis with its LM log-probability."""

    form: str
    tag: str
    start: int
    end: int
    logprob: float
    oov: bool = False  # not in Kiwi's dictionary (guessed from the surrounding text)


@dataclass(frozen=True)
class KiwiAnalysis:
    """Kiwi's best reading of a sentence."""

    morphemes: tuple[Morpheme, ...]
    logprob: float
    n_chars: int

    @property
    def per_char(self) -> float:
        return self.logprob / max(1, self.n_chars)


class KiwiLM(OneByOne):
    """Thread-safe wrapper around one ``kiwipiepy.Kiwi`` instance; the Kiwi LM ``Scorer``.

    Args:
        calibration: The logistic map; the default is a rough prior until
            ``prepare`` fits one on demo data.
        model_type: Kiwi's LM (``cong`` ships with kiwipiepy-model 0.24).
    """

    label: ClassVar[str] = "the Kiwi LM"
    kind: ClassVar[str] = KIWI_LM
    capabilities: ClassVar[Capabilities] = SCORER_KINDS[KIWI_LM]

    def __init__(self, calibration: Calibration | None = None, model_type: str = MODEL_TYPE) -> None:
        from kiwipiepy import Kiwi  # imported lazily: loading the model takes a second

        self.kiwi = Kiwi(model_type=model_type)
        self.model_type = model_type
        self.calibration = calibration or Calibration()
        self._lock = threading.Lock()

    def analyse(self, sentence: str) -> KiwiAnalysis:
        """Returns the best analysis with per-morpheme log-probabilities."""
        return self.readings(sentence, 1)[0]

    def readings(self, sentence: str, top_n: int) -> list[KiwiAnalysis]:
        """Kiwi's ``top_n`` best analyses, best first (Kiwi-features compares the first two)."""
        text = sentence[:MAX_CHARS]
        with self._lock:
            results = self.kiwi.analyze(text, top_n=top_n)
        n_chars = sum(1 for ch in text if not ch.isspace())
        return [
            KiwiAnalysis(
                tuple(Morpheme(t.form, str(t.tag), int(t.start), int(t.end), float(getattr(t, "score", 0.0)),
                               bool(getattr(t, "oov", False))) for t in tokens),
                float(score), n_chars,
            )
            for tokens, score in results
        ]

    def morphemes(self, sentence: str) -> tuple[Morpheme, ...]:
        """The best analysis's morphemes with character offsets (for WiC target finding)."""
        return self.analyse(sentence).morphemes

    def judge_item(self, task: Task, item: Any) -> Prediction:
        return self._judge(task.encode(item).first)

    def _judge(self, sentence: str) -> Prediction:
        from explorer.tasks.predict import Prediction  # the scoring layer, loaded with torch only when used

        analysis = self.analyse(sentence)
        p = self.calibration.probability(analysis.per_char)
        dropped = max(0, len(sentence) - MAX_CHARS)
        note = f"truncated: Kiwi read the first {MAX_CHARS:,} of {len(sentence):,} characters" if dropped else ""
        details = {
            "logprob": analysis.logprob,
            "logprob_per_char": analysis.per_char,
            "morphemes": [asdict(m) for m in analysis.morphemes],
            "chars_dropped": dropped,
        }
        return Prediction(int(p >= 0.5), [1.0 - p, p], len(analysis.morphemes), 0, details, note)


def fit_calibration(lm: KiwiLM, sentences: Sequence[str], labels: Sequence[int], source: str) -> Calibration:
    """Fits the logistic map on labelled sentences.

    Args:
        lm: The scorer whose per-character log-probabilities are calibrated.
        sentences: Sentences with known acceptability.
        labels: 1 acceptable, 0 not.
        source: Description of the data, stored with the calibration.
    """
    from sklearn.linear_model import LogisticRegression

    xs = [[lm.analyse(s).per_char] for s in sentences]
    clf = LogisticRegression(C=100.0).fit(xs, list(labels))
    scale = float(clf.coef_[0][0])
    threshold = float(-clf.intercept_[0] / scale) if scale else 0.0
    accuracy = float(clf.score(xs, list(labels)))
    return Calibration(threshold=threshold, scale=scale, fitted_on=source, accuracy=accuracy)
