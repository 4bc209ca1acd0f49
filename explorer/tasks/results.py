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
from explorer.registry import ModelEntry
from explorer.tasks import boolq as boolq_task
from explorer.tasks import copa as copa_task
from explorer.tasks import wic as wic_task
from explorer.tasks.registry import TASKS
from explorer.tasks.registry import get as get_task
from explorer.tasks.runs import TaskRun

PROB_COLUMNS = {task_id: task.prob_columns for task_id, task in TASKS.items()}  # a view of the task registry
VERDICT_COLUMN = {"wic": "verdict", "copa": "choice", "boolq": "answer"}
NO_VERDICT = "cannot judge"


def short(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters with an ellipsis."""
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"



def agreement(task: str, labels: Sequence[int | None]) -> Agreement:
    """Majority verdict and the share of models agreeing with it (``split`` on ties).

    Models that could not judge (None) do not vote.
    """
    return majority([label for label in labels if label is not None], get_task(task).label_names)


def _format_name(entry: ModelEntry, default: str) -> str:
    return entry.input_format if entry.input_format else f"{default} (default)"


def copa_format(entry: ModelEntry, question: str) -> str:
    """How a COPA model joins premise and alternative for this question."""
    style, connectives = copa_task.parse_format(entry.input_format)
    default = "" if entry.input_format else " (default)"
    if style == "connective":
        return f"connective {connectives[question]}{default}"
    if style == "question":
        return f"question word {copa_task.QUESTION_WORDS[question]}{default}"
    return f"plain{default}"


def _row(task: str, item: Any, run: TaskRun) -> dict[str, Any]:
    pred = run.predictions[0]
    row: dict[str, Any] = {"model": run.entry.name}
    notes = []
    if task == "wic":
        row["P(same sense)"] = pred.probs[1]
        row["verdict"] = get_task("wic").label_name(pred.label)
        row["input format"] = _format_name(run.entry, wic_task.DEFAULT_FORMAT)
        row["tokens"] = pred.n_tokens
        if pred.n_dropped:
            notes.append(f"{pred.n_dropped} tokens cut")
    elif task == "copa":
        row["P(alternative 1)"], row["P(alternative 2)"] = pred.probs[0], pred.probs[1]
        row["choice"] = f"{pred.label + 1}: {short(item.alternatives[pred.label], 40)}"
        pair = (pred.details or {}).get("pair_scores")
        row["head"] = "pair classifier" if pair else "multiple choice"
        row["input format"] = copa_format(run.entry, item.question)
        if pair:
            notes.append(f"P(right) scored one at a time: {pair[0]:.3f} · {pair[1]:.3f}, normalised to sum to 1")
        if pred.n_dropped:
            notes.append(f"{pred.n_dropped} tokens cut")
    else:
        row["P(yes)"] = pred.probs[1]
        row["answer"] = get_task("boolq").label_name(pred.label)
        row["input format"] = _format_name(run.entry, boolq_task.DEFAULT_FORMAT)
        row["tokens read"] = pred.n_tokens
        row["passage tokens cut"] = pred.n_dropped
    if not pred.judged:
        row[VERDICT_COLUMN[task]] = NO_VERDICT
        for column in PROB_COLUMNS[task]:
            row[column] = None  # a placeholder 0.5 would read as "unsure", which is a judgement
    if pred.note:
        notes.append(pred.note)
    row["notes"] = "; ".join(notes)
    return row


def judged_labels(runs: Sequence[TaskRun]) -> list[int | None]:
    """Each answering model's label on the first item, None where it could not judge (in table order)."""
    return [r.predictions[0].label if r.predictions[0].judged else None
            for r in runs if r.error is None and r.predictions]


def results_frame(task: str, item: Any, runs: Sequence[TaskRun]) -> pd.DataFrame:
    """One row per model that answered: probabilities, its answer, input format, tokens, notes."""
    rows = [_row(task, item, r) for r in runs if r.error is None and r.predictions]
    return pd.DataFrame(rows)


def csv_frame(task: str, item: Any, frame: pd.DataFrame, agreed: Agreement) -> pd.DataFrame:
    """The table with the inputs and the agreement on every row, so the CSV stands alone."""
    out = frame.copy()
    for n, (name, value) in enumerate(get_task(task).values(item).items()):
        out.insert(n, name, value)
    out["majority"] = agreed.verdict
    out["agreement"] = agreed.share
    return out
