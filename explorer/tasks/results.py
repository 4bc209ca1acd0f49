"""The results tables of the task pages, without Streamlit.

``results_frame``: one item, one row per model that answered (its probabilities,
its answer, the input format it read, tokens and notes), plus the majority verdict
across models and a CSV that carries the inputs on every row (every task page built
by ``explorer.ui.task_page``). ``matrix_frame``: many items × models with the verdict per item (the
CoLA page). Both read the same ``TaskRun``s, from ``Explorer.predict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from explorer.agreement import Agreement, majority
from explorer.tasks.registry import get as get_task
from explorer.tasks.runs import TaskRun



def agreement(task: str, labels: Sequence[int | None]) -> Agreement:
    """Majority verdict and the share of models agreeing with it (``split`` on ties).

    Models that could not judge (None) do not vote.
    """
    return majority([label for label in labels if label is not None], get_task(task).label_names)


def judged_label(pred: Any) -> int | None:
    """A prediction's label, or None when the model could not judge the item (it does not vote)."""
    return pred.label if pred.judged else None


def judged_labels(runs: Sequence[TaskRun]) -> list[int | None]:
    """Each answering model's label on the first item, None where it could not judge (in table order)."""
    return [judged_label(r.predictions[0]) for r in runs if r.error is None and r.predictions]


def results_frame(task: str, item: Any, runs: Sequence[TaskRun]) -> pd.DataFrame:
    """One row per model that answered: probabilities, its answer, input format, tokens, notes."""
    spec = get_task(task)
    answered = [r for r in runs if r.error is None and r.predictions]
    rows = [{"model": r.entry.name, **spec.result_row(item, r.predictions[0], r.entry.input_format)} for r in answered]
    if any(r.precision != "fp32" for r in answered):  # a number from bf16 says so
        for row, r in zip(rows, answered):
            row["precision"] = r.precision
    return pd.DataFrame(rows)


def csv_frame(task: str, item: Any, frame: pd.DataFrame, agreed: Agreement) -> pd.DataFrame:
    """The table with the inputs and the agreement on every row, so the CSV stands alone."""
    out = frame.copy()
    for n, (name, value) in enumerate(get_task(task).values(item).items()):
        out.insert(n, name, value)
    out["majority"] = agreed.verdict
    out["agreement"] = agreed.share
    return out


def matrix_frame(task: str, items: Sequence[Any], runs: Sequence[TaskRun]) -> pd.DataFrame:
    """Items × models, with the majority verdict per item (the CoLA page's table).

    Columns: the item's fields (CoLA: ``sentence``); then each probability column per
    model that answered (``P(acceptable) · MODEL``; empty where it could not judge);
    then ``verdict`` (the majority label, ``split`` on a tie), ``agreement`` (the share
    of judging models that agree with it) and ``notes`` (``MODEL: note``, see ``note_of``).
    """
    spec = get_task(task)
    answered = [r for r in runs if r.error is None and r.predictions]
    rows = []
    for i, item in enumerate(items):
        row: dict[str, Any] = dict(spec.values(item))
        for run in answered:
            shown = spec.result_row(item, run.predictions[i], run.entry.input_format)
            row.update({f"{column} · {run.entry.name}": shown[column] for column in spec.prob_columns})
        agreed = agreement(task, [judged_label(run.predictions[i]) for run in answered])
        row["verdict"] = agreed.verdict
        row["agreement"] = agreed.share
        row["notes"] = "; ".join(f"{run.entry.name}: {note}" for run in answered if (note := note_of(run.predictions[i])))
        rows.append(row)
    return pd.DataFrame(rows)


def note_of(pred: Any) -> str:
    """What a model must say about one answer: its own note (the Kiwi LM's characters read,
    no content words), else how many tokens truncation dropped; "" when nothing."""
    if pred.note:
        return pred.note
    if pred.n_dropped:
        return f"truncated: {pred.n_dropped} of {pred.n_tokens + pred.n_dropped} tokens dropped"
    return ""

