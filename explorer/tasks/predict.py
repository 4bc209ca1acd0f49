"""One entry point for every task: items in, predictions out.

Pages, ``evaluate`` and the CLI all call ``predict_items``, so a checkpoint is
encoded the same way wherever it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from explorer.data.readers import BoolqItem, ColaItem, CopaItem, WicItem
from explorer.loading import LoadedModel
from explorer.tasks import boolq, copa, wic
from explorer.tasks.common import Scored, choose, classify

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
    pos = model.positive_label
    if task == "cola":
        _expect(items, ColaItem)
        return _binary(classify(model, [i.sentence for i in items], batch_size=batch_size, progress=progress), pos)
    if task == "wic":
        _expect(items, WicItem)
        pairs = [wic.encode(i, input_format) for i in items]
        scored = classify(model, [a for a, _ in pairs], [b for _, b in pairs], batch_size=batch_size, progress=progress)
        return _binary(scored, pos)
    if task == "boolq":
        _expect(items, BoolqItem)
        encoded = [boolq.encode(i, input_format) for i in items]
        truncation = encoded[0][2]
        scored = classify(
            model, [a for a, _, _ in encoded], [b for _, b, _ in encoded], truncation=truncation,
            batch_size=batch_size, progress=progress,
        )
        return _binary(scored, pos)
    if task == "copa":
        _expect(items, CopaItem)
        encoded = [copa.encode(i, input_format) for i in items]
        if model.head == "multiple_choice":
            scored = choose(model, [f for f, _ in encoded], [e for _, e in encoded], batch_size=batch_size, progress=progress)
            return [Prediction(int(s.probs[1] > s.probs[0]), s.probs, s.n_tokens, s.n_dropped) for s in scored]
        # A pair classifier: P(this alternative is right) for each, then the higher wins.
        firsts = [f for f, ends in encoded for _ in ends]
        seconds = [e for _, ends in encoded for e in ends]
        scored = classify(model, firsts, seconds, batch_size=batch_size, progress=progress)
        out = []
        for k in range(len(items)):
            a, b = scored[2 * k], scored[2 * k + 1]
            pa, pb = a.probs[pos], b.probs[pos]
            total = (pa + pb) or 1.0
            out.append(Prediction(int(pb > pa), [pa / total, pb / total], max(a.n_tokens, b.n_tokens), a.n_dropped + b.n_dropped,
                                  {"pair_scores": [pa, pb]}))
        return out
    raise ValueError(f"unknown task {task!r}")


def _expect(items: Sequence[Any], kind: type) -> None:
    if not isinstance(items[0], kind):
        raise ValueError(f"expected {kind.__name__} items, got {type(items[0]).__name__}")
