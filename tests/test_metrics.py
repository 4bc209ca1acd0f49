"""``classification_metrics`` against scikit-learn on the same inputs."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from explorer.metrics import classification_metrics

sk = pytest.importorskip("sklearn.metrics")


def reference(gold, pred, labels):
    """What scikit-learn says, with its ill-defined-metric warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "accuracy": sk.accuracy_score(gold, pred),
            "mcc": sk.matthews_corrcoef(gold, pred),
            "f1_macro": sk.f1_score(gold, pred, labels=list(labels), average="macro"),
            "f1_per_label": list(sk.f1_score(gold, pred, labels=list(labels), average=None)),
            "confusion": sk.confusion_matrix(gold, pred, labels=list(labels)).tolist(),
        }


def assert_matches(gold, pred, labels=(0, 1)):
    ours = classification_metrics(gold, pred, labels=labels)
    ref = reference(gold, pred, labels)
    assert ours["n"] == len(gold)
    assert ours["confusion"] == ref["confusion"]
    for key in ("accuracy", "mcc", "f1_macro"):
        assert ours[key] == pytest.approx(ref[key], rel=1e-12, abs=1e-15), key
        assert type(ours[key]) is float
    assert ours["f1_per_label"] == pytest.approx(ref["f1_per_label"], rel=1e-12, abs=1e-15)
    return ours


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n", [1, 2, 7, 100, 2032])
def test_binary_random(seed, n):
    rng = random.Random(seed * 1000 + n)
    gold = [rng.randint(0, 1) for _ in range(n)]
    # Mix of noisy-correct and skewed predictions, like a real model.
    pred = [g if rng.random() < 0.7 else rng.choice((0, 1, 1)) for g in gold]
    assert_matches(gold, pred)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [3, 50, 500])
def test_three_class_random(seed, n):
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 3, n).tolist()
    pred = [g if rng.random() < 0.5 else int(rng.integers(0, 3)) for g in gold]
    assert_matches(gold, pred, labels=(0, 1, 2))


@pytest.mark.parametrize(
    ("gold", "pred"),
    [
        ([1, 1, 1], [1, 1, 1]),  # one class everywhere: MCC 0, F1 of the absent class 0
        ([0, 0, 0, 0], [0, 0, 0, 0]),
        ([0, 1, 1, 0, 1], [1, 1, 1, 1, 1]),  # all-same predictions
        ([0, 1, 1, 0, 1], [0, 0, 0, 0, 0]),
        ([1, 1, 1, 1], [0, 1, 0, 1]),  # all-same gold
        ([0, 0], [1, 1]),
        ([1, 0, 1, 0], [0, 1, 0, 1]),  # perfectly wrong
        ([1, 0, 1, 0], [1, 0, 1, 0]),  # perfect
        ([1], [0]),
    ],
)
def test_degenerate_cases(gold, pred):
    assert_matches(gold, pred)


def test_degenerate_three_class_and_label_order():
    assert_matches([2, 2, 2], [2, 0, 2], labels=(0, 1, 2))
    assert_matches([0, 2, 1, 1], [1, 1, 1, 1], labels=(2, 1, 0))
    ours = assert_matches([1, 0, 0], [1, 1, 0], labels=(1, 0))
    assert ours["confusion"] == [[1, 0], [1, 1]] and ours["labels"] == [1, 0]


def test_large_all_same_predictions_as_a_broken_model_gives():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 2, 15876)
    ours = assert_matches(gold, np.ones_like(gold))
    assert ours["mcc"] == 0.0
    assert ours["notes"] == ["Every prediction is 1, so MCC is 0.0 by convention."]


def test_numpy_and_bool_inputs():
    gold = np.array([0, 1, 1, 0], dtype=np.int64)
    pred = [False, True, False, False]
    assert classification_metrics(gold, pred)["confusion"] == [[2, 0], [1, 1]]


def test_notes_explain_conventional_values():
    notes = classification_metrics([1, 1], [1, 1])["notes"]
    assert notes == [
        "Every gold label is 1, so MCC is 0.0 by convention.",
        "No gold or predicted items of class 0: its F1 counts as 0.0.",
    ]
    assert classification_metrics([0, 1], [1, 0])["notes"] == []


@pytest.mark.parametrize(
    ("gold", "pred", "labels", "message"),
    [
        ([], [], (0, 1), "No items to score"),
        ([0, 1], [0], (0, 1), "gold has 2 items but pred has 1"),
        ([0, 2], [0, 1], (0, 1), "gold[1] is 2; expected one of [0, 1]"),
        ([0, None], [0, 1], (0, 1), "gold[1] is None"),
        ([0, 1], [0, 0.5], (0, 1), "pred[1] is 0.5"),
        ([0, 1], [0, "1"], (0, 1), "pred[1] is '1'"),
        ([0], [0], (0,), "two or more distinct classes"),
        ([0], [0], (1, 1), "two or more distinct classes"),
    ],
)
def test_bad_inputs(gold, pred, labels, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        classification_metrics(gold, pred, labels=labels)


def test_sklearn_also_refuses_empty_input():
    with pytest.raises(ValueError):
        sk.accuracy_score([], [])
