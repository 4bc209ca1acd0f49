"""One prediction path for every task: items in, predictions out.

``TransformerScorer`` is the checkpoint side of the ``Scorer`` protocol
(``explorer.scorers``); the Kiwi LM and the overlap baseline implement the same
``predict``. The service, pages, ``evaluate`` and the CLI go through it, so a
checkpoint is encoded the same way wherever it is used, and CoLA takes the
same path as every other task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from explorer.loading import LoadedModel
from explorer.scorers import SCORER_KINDS, TRANSFORMER, Capabilities, Progress
from explorer.tasks.common import Scored, choose, classify
from explorer.tasks.registry import get as get_task

if TYPE_CHECKING:
    from explorer.scorers import Scorer
    from explorer.tasks.base import Task

__all__ = ["Prediction", "Progress", "TransformerScorer", "as_scorer", "predict_items"]


@dataclass
class Prediction:
    """A model's answer to one item.

    Attributes:
        label: The class id in the task's ``label_names`` (1 = acceptable / same
            sense / yes / positive); for a multiple-choice task the 0-based index
            of the chosen alternative.
        probs: One probability per class id or alternative (``[P(0), P(1)]`` for two classes).
        n_tokens: Tokens the model read.
        n_dropped: Tokens truncation removed.
        details: What the scorer saw, for pages that explain it: the Kiwi LM's
            ``morphemes`` (form, tag, start, end, logprob), ``logprob``,
            ``logprob_per_char`` and ``chars_dropped``; the overlap baseline's
            ``found``/``missing`` morphemes; a pair classifier's ``pair_scores``.
        note: What the user must know about this answer (input cut, no content
            words), shown beside it on every page and in the CLI.
        judged: False when the model could not judge the item at all (the
            baseline found nothing to compare): the answer is then no verdict,
            and ``label``/``probs`` are only placeholders (0, 0.5/0.5).
    """

    label: int
    probs: list[float]
    n_tokens: int = 0
    n_dropped: int = 0
    details: dict[str, Any] | None = None
    note: str = ""
    judged: bool = True

    @property
    def p1(self) -> float:
        return self.probs[1]


def _classes(scored: Sequence[Scored], positive: int) -> list[Prediction]:
    """Class predictions. Two classes are put in the task's order (the checkpoint's positive class
    may be id 0); more classes are the checkpoint's own, in its id2label order."""
    out = []
    for s in scored:
        if len(s.probs) == 2:
            p = s.probs[positive]
            out.append(Prediction(int(p >= 0.5), [1.0 - p, p], s.n_tokens, s.n_dropped))
        else:
            out.append(Prediction(_first_best(s.probs), list(s.probs), s.n_tokens, s.n_dropped))
    return out


class TransformerScorer:
    """A loaded checkpoint as a ``Scorer``: its head decides how items are read.

    A classification task reads one text or a pair per item; an N-choice task uses a
    multiple-choice head when the checkpoint has one, or else scores each
    (first, ending) pair with a sequence classifier and picks the most likely.
    Truncation is counted in ``Prediction.n_dropped``.
    """

    kind: ClassVar[str] = TRANSFORMER
    capabilities: ClassVar[Capabilities] = SCORER_KINDS[TRANSFORMER]

    def __init__(self, loaded: LoadedModel, precision: str = "fp32") -> None:
        self.loaded = loaded
        self.precision = precision  # fp32 or bf16 (explorer.device.PRECISIONS)

    def predict(
        self,
        task: Task,
        items: Sequence[Any],
        input_format: str | None = None,
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> list[Prediction]:
        if not items:
            return []
        return _predict_checkpoint(self.loaded, task, items, input_format, batch_size, progress, self.precision)


def as_scorer(model: LoadedModel | Scorer, precision: str = "fp32") -> Scorer:
    """A loaded checkpoint wrapped as a scorer; a built-in scorer as it is.

    Only for callers that still hold what ``Explorer.task_model`` returns (the
    ``predict_items`` shim); new code asks ``Explorer.scorer`` for a scorer.
    """
    return TransformerScorer(model, precision) if isinstance(model, LoadedModel) else model


def predict_items(
    model: Any,
    task: str,
    items: Sequence[Any],
    input_format: str | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
    precision: str = "fp32",
) -> list[Prediction]:
    """``as_scorer(model).predict`` for a task id: kept for callers holding a loaded model.

    Args:
        model: A ``LoadedModel`` or a built-in scorer (``Explorer.task_model``).
        task: A registered task id (``cola``, ``wic``, ...).
        precision: How a checkpoint runs (``fp32``, ``bf16``); built-in scorers ignore it.
    """
    return as_scorer(model, precision).predict(get_task(task), items, input_format, batch_size=batch_size, progress=progress)


def _predict_checkpoint(
    model: LoadedModel,
    spec: Task,
    items: Sequence[Any],
    input_format: str | None,
    batch_size: int | None,
    progress: Progress | None,
    precision: str = "fp32",
) -> list[Prediction]:
    """The items through the checkpoint's head (see ``TransformerScorer``)."""
    spec.check_items(items)
    encoded = [spec.encode(i, input_format) for i in items]
    pos = 1 if spec.own_labels else model.positive_label  # a classifier of its own keeps its id order
    if not spec.n_choices:
        seconds = None if encoded[0].second is None else [e.second for e in encoded]
        scored = classify(model, [e.first for e in encoded], seconds, truncation=encoded[0].truncation,
                          batch_size=batch_size, progress=progress, precision=precision)
        return _classes(scored, pos)
    if model.head == "multiple_choice":
        scored = choose(model, [e.first for e in encoded], [list(e.endings) for e in encoded], batch_size=batch_size,
                        truncation=encoded[0].truncation, progress=progress, precision=precision)
        return [Prediction(_first_best(s.probs), s.probs, s.n_tokens, s.n_dropped) for s in scored]
    # A pair classifier: P(this ending is right) for each ending, then the highest wins.
    rows = [pair for e in encoded for pair in e.pairs]
    scored = classify(model, [f for f, _ in rows], [s for _, s in rows], truncation=encoded[0].truncation,
                      batch_size=batch_size, progress=progress, precision=precision)
    out, start = [], 0
    for e in encoded:
        part = scored[start : start + len(e.endings)]
        start += len(e.endings)
        p_right = [s.probs[pos] for s in part]
        total = sum(p_right) or 1.0
        out.append(Prediction(_first_best(p_right), [p / total for p in p_right], max(s.n_tokens for s in part),
                              sum(s.n_dropped for s in part), {"pair_scores": p_right}))
    return out


def _first_best(scores: Sequence[float]) -> int:
    """The index of the highest score; a tie goes to the earlier alternative."""
    return max(range(len(scores)), key=lambda k: (scores[k], -k))
