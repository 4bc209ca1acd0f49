"""One entry point for every task: items in, predictions out.

Pages, ``evaluate`` and the CLI all call ``predict_items``, so a checkpoint is
encoded the same way wherever it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from explorer.loading import LoadedModel
from explorer.tasks.common import Scored, choose, classify
from explorer.tasks.registry import get as get_task

Progress = Callable[[int, int], None]


@dataclass
class Prediction:
    """A model's answer to one item.

    Attributes:
        label: 1 = acceptable / same sense / yes; for COPA the 0-based index
            of the chosen alternative.
        probs: ``[P(0), P(1)]``; for COPA the probability of each alternative.
        n_tokens: Tokens the model read.
        n_dropped: Tokens truncation removed.
        details: Extras (Kiwi morphemes).
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


def _binary(scored: Sequence[Scored], positive: int) -> list[Prediction]:
    out = []
    for s in scored:
        p = s.probs[positive]
        out.append(Prediction(int(p >= 0.5), [1.0 - p, p], s.n_tokens, s.n_dropped))
    return out


def predict_items(
    model: Any,
    task: str,
    items: Sequence[Any],
    input_format: str | None = None,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> list[Prediction]:
    """Predicts a task's items with a loaded checkpoint or the Kiwi scorer.

    Args:
        model: A ``LoadedModel`` or, for CoLA, any object with
            ``score_acceptability`` (the Kiwi LM).
        task: ``cola``, ``wic``, ``copa`` or ``boolq``.
        items: Reader items of that task (labels are ignored).
        input_format: The entry's input format (see each task module).
        batch_size: Inputs per forward pass.
        progress: Called with (done, total).
    """
    if not items:
        return []
    if hasattr(model, "predict_task"):  # non-transformer baselines answer in the same shape
        predictions = model.predict_task(task, items)
        if progress:
            progress(len(items), len(items))
        return predictions
    if not isinstance(model, LoadedModel):
        if task != "cola":
            raise ValueError(f"{task} needs a transformer checkpoint; the Kiwi LM only scores acceptability.")
        results = model.score_acceptability([i.sentence for i in items])
        if progress:
            progress(len(items), len(items))
        return [Prediction(r.label, [1 - r.p_acceptable, r.p_acceptable], r.n_tokens, r.n_dropped, r.details, r.note)
                for r in results]
    spec = get_task(task)
    spec.check_items(items)
    encoded = [spec.encode(i, input_format) for i in items]
    pos = model.positive_label
    if not spec.n_choices:
        seconds = None if encoded[0].second is None else [e.second for e in encoded]
        scored = classify(model, [e.first for e in encoded], seconds, truncation=encoded[0].truncation,
                          batch_size=batch_size, progress=progress)
        return _binary(scored, pos)
    if model.head == "multiple_choice":
        scored = choose(model, [e.first for e in encoded], [list(e.endings) for e in encoded], batch_size=batch_size,
                        truncation=encoded[0].truncation, progress=progress)
        return [Prediction(_first_best(s.probs), s.probs, s.n_tokens, s.n_dropped) for s in scored]
    # A pair classifier: P(this ending is right) for each ending, then the highest wins.
    rows = [pair for e in encoded for pair in e.pairs]
    scored = classify(model, [f for f, _ in rows], [s for _, s in rows], batch_size=batch_size, progress=progress)
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
