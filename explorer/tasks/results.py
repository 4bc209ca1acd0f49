"""The per-model results table of the WiC, COPA and BoolQ pages, without Streamlit.

One row per model that answered: its probabilities, its answer, the input format
it read, tokens and notes; plus the majority verdict across models and a CSV that
carries the inputs on every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from explorer.agreement import Agreement, majority
from explorer.tasks.base import short  # noqa: F401  (re-exported: the task pages use it)
from explorer.tasks.registry import TASKS
from explorer.tasks.registry import get as get_task
from explorer.tasks.runs import TaskRun

# Views of the task registry, by task id.
PROB_COLUMNS = {task_id: task.prob_columns for task_id, task in TASKS.items()}
VERDICT_COLUMN = {task_id: task.verdict_column for task_id, task in TASKS.items()}


def agreement(task: str, labels: Sequence[int | None]) -> Agreement:
    """Majority verdict and the share of models agreeing with it (``split`` on ties).

    Models that could not judge (None) do not vote.
    """
    return majority([label for label in labels if label is not None], get_task(task).label_names)


def judged_labels(runs: Sequence[TaskRun]) -> list[int | None]:
    """Each answering model's label on the first item, None where it could not judge (in table order)."""
    return [r.predictions[0].label if r.predictions[0].judged else None
            for r in runs if r.error is None and r.predictions]


def results_frame(task: str, item: Any, runs: Sequence[TaskRun]) -> pd.DataFrame:
    """One row per model that answered: probabilities, its answer, input format, tokens, notes."""
    spec = get_task(task)
    rows = [{"model": r.entry.name, **spec.result_row(item, r.predictions[0], r.entry.input_format)}
            for r in runs if r.error is None and r.predictions]
    return pd.DataFrame(rows)


def csv_frame(task: str, item: Any, frame: pd.DataFrame, agreed: Agreement) -> pd.DataFrame:
    """The table with the inputs and the agreement on every row, so the CSV stands alone."""
    out = frame.copy()
    for n, (name, value) in enumerate(get_task(task).values(item).items()):
        out.insert(n, name, value)
    out["majority"] = agreed.verdict
    out["agreement"] = agreed.share
    return out
