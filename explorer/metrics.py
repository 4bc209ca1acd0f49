"""Classification metrics without scikit-learn.

The app only needs a handful of numbers, so they are computed in plain Python
from the confusion matrix instead of pulling in scikit-learn at runtime. Each
one matches scikit-learn 1.9 on the same inputs (checked in
``tests/test_metrics.py``), degenerate cases included:

* ``mcc`` is ``sklearn.metrics.matthews_corrcoef``: 0.0 when either the gold or
  the predictions hold a single class (the formula divides by zero there).
* ``f1_macro`` is ``sklearn.metrics.f1_score(gold, pred, labels=labels,
  average="macro")`` with its default ``zero_division``: a class with no gold
  and no predicted items scores 0.0 and still counts in the average. Passing
  ``labels`` matters: without it scikit-learn averages only over the classes
  that occur, so all-1 gold and all-1 predictions would score 1.0, not 0.5.
* Empty inputs raise ``ValueError``, as scikit-learn does.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

__all__ = ["classification_metrics"]


def _as_labels(values: Sequence[Any], what: str, index: dict[int, int], labels: Sequence[int]) -> list[int]:
    """Maps class values to their position in ``labels``, rejecting anything else."""
    out = []
    for i, value in enumerate(values):
        # Accept numpy integers and bools, but not None (an unlabelled item) or 0.5.
        try:
            key = int(value)
        except (TypeError, ValueError):
            key = None
        if key is None or key != value or key not in index:
            raise ValueError(f"{what}[{i}] is {value!r}; expected one of {list(labels)}.")
        out.append(index[key])
    return out


def _confusion(gold: list[int], pred: list[int], k: int) -> list[list[int]]:
    matrix = [[0] * k for _ in range(k)]
    for g, p in zip(gold, pred):
        matrix[g][p] += 1
    return matrix


def _mcc(matrix: list[list[int]]) -> float:
    """Matthews correlation for any number of classes (Gorodkin's R_K), as scikit-learn."""
    k = len(matrix)
    t_sum = [sum(row) for row in matrix]  # gold counts per class
    p_sum = [sum(matrix[r][c] for r in range(k)) for c in range(k)]  # predicted counts per class
    n = sum(t_sum)
    correct = sum(matrix[i][i] for i in range(k))
    # Integers keep the covariances exact; only the final ratio is a float.
    cov_ytyp = correct * n - sum(t * p for t, p in zip(t_sum, p_sum))
    cov_ypyp = n * n - sum(p * p for p in p_sum)
    cov_ytyt = n * n - sum(t * t for t in t_sum)
    if cov_ypyp * cov_ytyt == 0:
        return 0.0
    return cov_ytyp / math.sqrt(cov_ytyt * cov_ypyp)


def _f1_per_class(matrix: list[list[int]]) -> list[float]:
    """F1 per class as 2TP / (2TP + FP + FN), 0.0 when that is 0 / 0."""
    k = len(matrix)
    scores = []
    for c in range(k):
        tp = matrix[c][c]
        fn = sum(matrix[c]) - tp
        fp = sum(matrix[r][c] for r in range(k)) - tp
        denominator = 2 * tp + fp + fn
        scores.append(2 * tp / denominator if denominator else 0.0)
    return scores


def classification_metrics(gold: Sequence[int], pred: Sequence[int], labels: Sequence[int] = (0, 1)) -> dict[str, Any]:
    """Scores predictions against gold labels.

    Args:
        gold: True class per item.
        pred: Predicted class per item, same length.
        labels: All classes, in the order used for ``confusion`` and the
            macro average: a task's ``Task.labels`` (two or more classes). The
            default, 0 and 1, suits only a two-class task; callers with a task pass its labels.

    Returns:
        ``n``; ``accuracy``; ``mcc`` (Matthews correlation, the CoLA metric);
        ``f1_macro``; ``f1_per_label`` (in ``labels`` order); ``confusion``
        (rows = gold, columns = predicted, both in ``labels`` order);
        ``labels``; and ``notes``, plain-language remarks on values that are
        defined by convention (e.g. MCC 0.0 because only one class was predicted).

    Raises:
        ValueError: Empty inputs, different lengths, or a value not in ``labels``.
    """
    labels = [int(label) for label in labels]
    if len(set(labels)) != len(labels) or len(labels) < 2:
        raise ValueError(f"labels must be two or more distinct classes, got {labels}.")
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} items but pred has {len(pred)}.")
    if not len(gold):
        raise ValueError("No items to score.")
    index = {label: i for i, label in enumerate(labels)}
    matrix = _confusion(_as_labels(gold, "gold", index, labels), _as_labels(pred, "pred", index, labels), len(labels))
    n = len(gold)
    f1 = _f1_per_class(matrix)

    notes = []
    gold_classes = [labels[i] for i, row in enumerate(matrix) if sum(row)]
    pred_classes = [labels[c] for c in range(len(labels)) if any(row[c] for row in matrix)]
    if len(gold_classes) == 1:
        notes.append(f"Every gold label is {gold_classes[0]}, so MCC is 0.0 by convention.")
    elif len(pred_classes) == 1:
        notes.append(f"Every prediction is {pred_classes[0]}, so MCC is 0.0 by convention.")
    absent = [labels[i] for i in range(len(labels)) if labels[i] not in gold_classes and labels[i] not in pred_classes]
    if absent:
        notes.append(f"No gold or predicted items of class {', '.join(map(str, absent))}: its F1 counts as 0.0.")

    return {
        "n": n,
        "accuracy": sum(matrix[i][i] for i in range(len(labels))) / n,
        "mcc": _mcc(matrix),
        "f1_macro": sum(f1) / len(f1),
        "f1_per_label": f1,
        "confusion": matrix,
        "labels": labels,
        "notes": notes,
    }


def constant_warning(label_name: str, top_share: float | None) -> str | None:
    """The warning for a model that answers ``label_name`` for every dev item (``top_share`` 1.0), else None.

    Such a model can still show a fair accuracy (the majority class), so it is said in words.
    """
    if top_share is None or top_share < 1.0:
        return None
    return f"the best epoch predicts {label_name!r} for every dev item: this model has not learned the task."


def top_class(predicted: Sequence[int]) -> tuple[int, float]:
    """The most predicted class and its share of the predictions (ties: the smaller class id)."""
    if not predicted:
        return 0, 0.0
    counts: dict[int, int] = {}
    for label in predicted:
        counts[int(label)] = counts.get(int(label), 0) + 1
    label = min(counts, key=lambda k: (-counts[k], k))
    return label, counts[label] / len(predicted)

