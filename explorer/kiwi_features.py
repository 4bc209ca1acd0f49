"""Kiwi features: a CoLA judge trained on the user's CoLA train file, without a transformer.

Multilingual-e5-small does not learn NIKL CoLA (fine-tuned at several learning
rates its dev MCC stayed near 0, and a logistic regression on its frozen
sentence embeddings reached -0.03), while Kiwi's language model alone, zero-shot,
reaches 0.11. So the best offline CoLA judge this project can build reads more
of what Kiwi knows, and weighs it with a logistic regression fitted on the
user's CoLA train file:

- dense features (``FEATURES``): the best reading's language-model score (sum,
  per character, per morpheme), its weakest morphemes (overall, last, and per
  kind: particle, ending, verb, noun...), counts of morphemes by kind, lengths,
  out-of-vocabulary and unknown morphemes, and how close the second and third
  readings come;
- pieces (``pieces``): counts of tag bigrams and of particles, endings and
  other functional morphemes by their form, alone and next to their
  neighbour's tag (``b:NNG_을/JKO``): where grammatical errors show.

The fitted model is a JSON file (feature names, standardisation, weights, the
weight of each kept piece): it loads without pickle, and a file whose feature
names differ from this module's (written by another version) is refused rather
than misread.

What it cannot do: it sees only what Kiwi's short-context language model and
morphological analysis see, so errors of meaning, agreement across a clause
(tense against a time adverb, honorifics) and word order that Kiwi reads
fluently are invisible to it.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Sequence

from explorer.kiwi_lm import MAX_CHARS, KiwiAnalysis, KiwiLM
from explorer.safeio import CONFIG_LIMIT, read_limited_text
from explorer.scorers import KIWI_FEATURES, SCORER_KINDS, Capabilities, OneByOne, judge_each

if TYPE_CHECKING:
    from explorer.tasks.base import Task
    from explorer.tasks.predict import Prediction

FORMAT = "ko-model-explorer/kiwi-features"
VERSION = 1
LIMITS = (
    "A logistic regression over Kiwi's language-model scores and morphological analysis (the weakest morphemes, "
    "particles and endings by form, tag sequences, lengths, unknown morphemes, how close other readings come), "
    "fitted on your CoLA train file. It sees what Kiwi's short-context language model and analysis see: errors of "
    "meaning, tense against a time adverb, honorific agreement and fluent but wrong word order mostly pass "
    "unnoticed. It is not a transformer: pages that inspect transformer internals skip it."
)
# A morpheme score below this is treated as this (Kiwi gives very rare forms scores near -30).
_FLOOR = -30.0
# Tag prefixes (Sejong tags, as Kiwi writes them) whose morphemes are counted, and whose weakest score is kept.
_COUNTED = ("J", "E", "EF", "N", "V", "M", "X", "S", "JKS", "JKO", "JKB", "JX", "EP", "EC", "ETM", "ETN", "VCP", "NNB")
_WEAKEST = ("J", "E", "V", "N", "EP", "EF", "EC")
# Morphemes named by their form as well as their tag in the pieces: particles, endings, affixes, copulas, auxiliaries,
# bound nouns, punctuation. They carry most grammatical errors; content words would only teach the train file's topics.
_FUNCTIONAL = ("J", "E", "X", "VCP", "VCN", "VX", "NNB", "MAJ", "SF", "SP", "SS", "SE", "SO")
_SCALARS = (
    "logprob", "logprob_per_char", "logprob_per_morpheme", "logprob_per_sqrt_morpheme", "min_morpheme",
    "second_lowest", "mean_lowest_3", "std_morpheme", "last_morpheme", "second_last_morpheme", "n_below_10",
    "n_below_15", "n_chars", "log_chars", "n_morphemes", "morphemes_per_word", "n_oov", "n_unknown",
    "second_reading_gap", "third_reading_gap",
)
# The dense feature names in the order the weights use; a saved model must list exactly these.
FEATURES: tuple[str, ...] = _SCALARS + tuple(f"n_{p}" for p in _COUNTED) + tuple(f"min_{p}" for p in _WEAKEST)
# A piece (see ``pieces``) is kept only when this many train sentences have it: rarer ones would be memorised.
MIN_PIECE_SENTENCES = 3
# Regularisation strengths tried; the one with the best cross-validated train MCC is kept (the dev file is not used).
C_GRID = (0.03, 0.1, 0.3)


def _lowest(scores: Sequence[float], default: float = 0.0) -> float:
    return min(scores) if scores else default


def analyse(lm: KiwiLM, sentence: str) -> tuple[dict[str, float], dict[str, int], KiwiAnalysis]:
    """One sentence's dense features by name (``FEATURES``), its pieces (``pieces``) and Kiwi's best reading."""
    readings = lm.readings(sentence, 3)
    best = readings[0]
    # Fewer readings: nothing came close, as if the next were far behind.
    gaps = [best.logprob - r.logprob for r in readings[1:3]] + [10.0, 10.0]
    scores = [max(_FLOOR, m.logprob) for m in best.morphemes] or [0.0]
    tags = [m.tag for m in best.morphemes] or [""]
    n_chars = max(1, best.n_chars)
    n_morphemes = max(1, len(best.morphemes))
    lowest = sorted(scores)
    values = {
        "logprob": best.logprob,
        "logprob_per_char": best.logprob / n_chars,
        "logprob_per_morpheme": best.logprob / n_morphemes,
        "logprob_per_sqrt_morpheme": best.logprob / math.sqrt(n_morphemes),
        "min_morpheme": lowest[0],
        "second_lowest": lowest[1] if len(lowest) > 1 else 0.0,
        "mean_lowest_3": statistics.fmean(lowest[:3]),
        "std_morpheme": statistics.pstdev(scores),
        "last_morpheme": scores[-1],
        "second_last_morpheme": scores[-2] if len(scores) > 1 else 0.0,
        "n_below_10": float(sum(x < -10 for x in scores)),
        "n_below_15": float(sum(x < -15 for x in scores)),
        "n_chars": float(n_chars),
        "log_chars": math.log(n_chars),
        "n_morphemes": float(n_morphemes),
        "morphemes_per_word": n_morphemes / max(1, len(sentence[:MAX_CHARS].split())),
        "n_oov": float(sum(m.oov for m in best.morphemes)),
        "n_unknown": float(sum(tag in ("UN", "NA") for tag in tags)),
        "second_reading_gap": gaps[0],
        "third_reading_gap": gaps[1],
    }
    for prefix in _COUNTED:
        values[f"n_{prefix}"] = float(sum(tag.startswith(prefix) for tag in tags))
    for prefix in _WEAKEST:
        values[f"min_{prefix}"] = _lowest([x for x, tag in zip(scores, tags) if tag.startswith(prefix)])
    return values, pieces(best), best


def pieces(reading: KiwiAnalysis) -> dict[str, int]:
    """Counts of the reading's pieces: tag bigrams (``t:NNG_JKO``), and functional morphemes named by form
    (``u:을/JKO``, other morphemes by tag) alone and in bigrams (``b:NNG_을/JKO``), sentence edges included."""
    from collections import Counter

    tags = ["<s>", *(m.tag for m in reading.morphemes), "</s>"]
    named = ["<s>", *(f"{m.form}/{m.tag}" if m.tag.startswith(_FUNCTIONAL) else m.tag for m in reading.morphemes), "</s>"]
    counts = Counter(f"t:{a}_{b}" for a, b in zip(tags, tags[1:]))
    counts.update(f"u:{a}" for a in named)
    counts.update(f"b:{a}_{b}" for a, b in zip(named, named[1:]))
    return dict(counts)


@dataclass(frozen=True)
class FeatureModel:
    """A fitted logistic regression: P(acceptable) = σ(Σ w·(x − mean)/scale over ``FEATURES`` + Σ v·count over pieces + b).

    Attributes:
        feature_names: ``FEATURES`` when it was fitted (checked on load).
        means, scales: Per-feature standardisation, from the train file.
        weights: One per dense feature, on standardised values.
        piece_weights: One per kept piece (``pieces``), on raw counts; pieces not listed weigh 0.
        intercept: The regression's bias.
        fitted_on: What it was trained on, in words.
        metrics: Measurements kept with it (chosen C, cross-validated and dev metrics, seconds).
    """

    feature_names: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    piece_weights: dict[str, float]
    intercept: float
    fitted_on: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    def probability(self, values: dict[str, float], counts: dict[str, int]) -> float:
        z = self.intercept + sum(
            w * (values[name] - m) / s for w, name, m, s in zip(self.weights, FEATURES, self.means, self.scales)
        )
        z += sum(self.piece_weights.get(piece, 0.0) * count for piece, count in counts.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **asdict(self)}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: Any) -> "FeatureModel":
        """Rebuilds a saved model, checking every field.

        Raises:
            ValueError: not such a file, another version's features, or fields of the wrong shape.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a Kiwi-features model file")
        if data.get("version") != VERSION or tuple(data.get("feature_names") or ()) != FEATURES:
            raise ValueError("written by another version of the Kiwi-features model (its features differ); retrain it")
        columns = {key: tuple(float(v) for v in data[key]) for key in ("means", "scales", "weights")}
        if any(len(values) != len(FEATURES) for values in columns.values()) or not all(s > 0 for s in columns["scales"]):
            raise ValueError("a Kiwi-features model file with malformed weights")
        piece_weights = {str(k): float(v) for k, v in dict(data["piece_weights"]).items()}
        numbers = [*columns["weights"], *piece_weights.values(), float(data["intercept"])]
        if not all(math.isfinite(x) for x in numbers):
            raise ValueError("a Kiwi-features model file with non-finite weights")
        return cls(FEATURES, piece_weights=piece_weights, intercept=float(data["intercept"]),
                   fitted_on=str(data.get("fitted_on", "")), metrics=dict(data.get("metrics") or {}), **columns)

    @classmethod
    def load(cls, path: Path) -> "FeatureModel":
        """Reads a saved model (bounded read, JSON only).

        Raises:
            ValueError: unreadable or malformed (the message names the file).
        """
        try:
            return cls.from_json(json.loads(read_limited_text(path, CONFIG_LIMIT, "Kiwi-features model")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{Path(path).name}: {exc}") from None


def fit(
    lm: KiwiLM, sentences: Sequence[str], labels: Sequence[int], fitted_on: str,
    groups: Sequence[str] | None = None, progress: Callable[[int, int], None] | None = None,
) -> FeatureModel:
    """Fits the regression on labelled sentences (1 acceptable, 0 not).

    The regularisation strength is chosen from ``C_GRID`` by 5-fold cross-validated MCC on
    these sentences, folds split by ``groups`` when given (NIKL's ``source``: a minimal pair's
    sentences stay in one fold, or the folds would flatter memorising). Classes are weighted to
    balance, as MCC rewards.
    """
    import numpy as np

    analysed = judge_each(sentences, lambda s: analyse(lm, s)[:2], progress)
    dense = np.array([[values[name] for name in FEATURES] for values, _ in analysed], dtype=float)
    means, scales = dense.mean(axis=0), dense.std(axis=0)
    scales[scales == 0] = 1.0  # a feature constant in the train file carries nothing
    seen: dict[str, int] = {}
    for _, counts in analysed:
        for piece in counts:
            seen[piece] = seen.get(piece, 0) + 1
    kept = sorted(piece for piece, n in seen.items() if n >= MIN_PIECE_SENTENCES)
    matrix = _matrix((dense - means) / scales, [counts for _, counts in analysed], kept)
    y = np.asarray(labels, dtype=int)
    c, cv_mcc = _choose_c(matrix, y, groups)
    clf = _regression(c).fit(matrix, y)
    weights = clf.coef_[0]
    n = len(FEATURES)
    return FeatureModel(
        FEATURES, tuple(float(m) for m in means), tuple(float(s) for s in scales),
        tuple(float(w) for w in weights[:n]),
        {piece: float(w) for piece, w in zip(kept, weights[n:]) if w != 0.0},
        float(clf.intercept_[0]), fitted_on,
        {"n_train": len(sentences), "C": c, "cv_mcc": round(cv_mcc, 4), "pieces": len(kept)},
    )


def _regression(c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000)


def _matrix(standard, counts: Sequence[dict[str, int]], kept: Sequence[str]):
    """Dense standardised features beside the kept pieces' counts, as one sparse matrix."""
    from scipy.sparse import csr_matrix, hstack

    column = {piece: k for k, piece in enumerate(kept)}
    rows, cols, data = [], [], []
    for i, row in enumerate(counts):
        for piece, count in row.items():
            if piece in column:
                rows.append(i), cols.append(column[piece]), data.append(float(count))
    sparse = csr_matrix((data, (rows, cols)), shape=(len(counts), len(kept)))
    return hstack([csr_matrix(standard), sparse]).tocsr()


def _choose_c(matrix, y, groups: Sequence[str] | None) -> tuple[float, float]:
    """The ``C_GRID`` value with the best 5-fold cross-validated MCC, and that MCC."""
    import numpy as np
    from sklearn.metrics import matthews_corrcoef
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    folds = min(5, int(np.bincount(y).min()) if len(set(y.tolist())) > 1 else 0)
    if folds < 2:
        return C_GRID[len(C_GRID) // 2], float("nan")  # too few of a class to cross-validate: the middle value
    splitter = GroupKFold(folds) if groups is not None and len(set(groups)) >= folds else StratifiedKFold(folds)
    splits = list(splitter.split(matrix, y, groups))
    scores = {}
    for c in C_GRID:
        predicted = np.empty_like(y)
        for train, test in splits:
            predicted[test] = _regression(c).fit(matrix[train], y[train]).predict(matrix[test])
        scores[c] = float(matthews_corrcoef(y, predicted))
    best = max(C_GRID, key=lambda c: scores[c])
    return best, scores[best]


class KiwiFeatures(OneByOne):
    """The Kiwi-features ``Scorer``: one fitted ``FeatureModel`` over the shared Kiwi LM.

    Args:
        lm: The shared Kiwi LM (one Kiwi instance per process).
        model: The fitted regression.
    """

    label: ClassVar[str] = "the Kiwi-features model"
    kind: ClassVar[str] = KIWI_FEATURES
    capabilities: ClassVar[Capabilities] = SCORER_KINDS[KIWI_FEATURES]

    def __init__(self, lm: KiwiLM, model: FeatureModel) -> None:
        self.lm = lm
        self.model = model

    def judge_item(self, task: Task, item: Any) -> Prediction:
        return self._judge(task.encode(item).first)

    def _judge(self, sentence: str) -> Prediction:
        from explorer.tasks.predict import Prediction  # the scoring layer, loaded only when used

        values, counts, analysis = analyse(self.lm, sentence)
        p = self.model.probability(values, counts)
        dropped = max(0, len(sentence) - MAX_CHARS)
        note = f"truncated: Kiwi read the first {MAX_CHARS:,} of {len(sentence):,} characters" if dropped else ""
        details = {
            "logprob": analysis.logprob,
            "logprob_per_char": analysis.per_char,
            "morphemes": [asdict(m) for m in analysis.morphemes],  # the CoLA page's per-morpheme chart
            "features": values,
            "chars_dropped": dropped,
        }
        return Prediction(int(p >= 0.5), [1.0 - p, p], len(analysis.morphemes), 0, details, note)
