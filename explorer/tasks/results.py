"""The results tables of the task pages, without Streamlit.

``results_frame``: one item, one row per model that answered (its probabilities,
its answer, the input format it read, tokens and notes), plus the majority verdict
across models and a CSV that carries the inputs on every row (every task page built
by ``explorer.ui.task_page``). ``matrix_frame``: many items × models with the verdict per item (the
CoLA page). Both read the same ``TaskRun``s, from ``Explorer.predict``.

When the input is a built-in example, its right answer is known (``Task.expected_label``): the
tables then mark each model's answer right or wrong in words and signs (readable without colour),
and the CSV carries the expected answer. Any other input has no marks: a page never guesses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from explorer.agreement import Agreement, majority
from explorer.tasks.registry import get as get_task
from explorer.tasks.runs import TaskRun

RIGHT_COLUMN = "right?"  # the results table's column of marks
RIGHT, WRONG, NOT_JUDGED = "✓ right", "✗ wrong", "–"


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


def mark(label: int | None, expected: int | None) -> str:
    """A model's answer against the known one: ✓ right, ✗ wrong, – when it could not judge; "" when
    no answer is known (the input is not a built-in example)."""
    if expected is None:
        return ""
    if label is None:
        return NOT_JUDGED
    return RIGHT if label == expected else WRONG


def tally(labels: Sequence[int | None], expected: int | None) -> str:
    """``3 of 5 models right`` (models that could not judge count as not right, and are named so); ""
    when no answer is known."""
    if expected is None or not labels:
        return ""
    right = sum(1 for label in labels if label == expected)
    unjudged = sum(1 for label in labels if label is None)
    text = f"{right} of {len(labels)} {'model' if len(labels) == 1 else 'models'} right"
    return text + (f" ({unjudged} could not judge)" if unjudged else "")


def results_frame(task: str, item: Any, runs: Sequence[TaskRun], expected: int | None = None) -> pd.DataFrame:
    """One row per model that answered: probabilities, its answer, input format, tokens, notes.

    Args:
        expected: The right answer's class id when the item is a built-in example: a ``right?``
            column then follows the answer. None (any other input): no such column.
    """
    spec = get_task(task)
    answered = [r for r in runs if r.error is None and r.predictions]
    rows = []
    for r in answered:
        row = {"model": r.entry.name}
        for column, value in spec.result_row(item, r.predictions[0], r.entry.input_format).items():
            row[column] = value
            if column == spec.verdict_column and expected is not None:
                row[RIGHT_COLUMN] = mark(judged_label(r.predictions[0]), expected)
        rows.append(row)
    if any(r.precision != "fp32" for r in answered):  # a number from bf16 says so
        for row, r in zip(rows, answered):
            row["precision"] = r.precision
    return pd.DataFrame(rows)


def csv_frame(task: str, item: Any, frame: pd.DataFrame, agreed: Agreement, expected: int | None = None) -> pd.DataFrame:
    """The table with the inputs (and the expected answer, when known) and the agreement on every row,
    so the CSV stands alone."""
    spec = get_task(task)
    out = frame.copy()
    values = spec.values(item)
    for n, (name, value) in enumerate(values.items()):
        out.insert(n, name, value)
    if expected is not None:
        out.insert(len(values), "expected", spec.answer(item, expected))
    out["majority"] = agreed.verdict
    out["agreement"] = agreed.share
    return out


def matrix_frame(task: str, items: Sequence[Any], runs: Sequence[TaskRun],
                 expected: Sequence[int | None] | None = None) -> pd.DataFrame:
    """Items × models, with the majority verdict per item (the CoLA page's table).

    Columns: the item's fields (CoLA: ``sentence``); then each probability column per
    model that answered (``P(acceptable) · MODEL``; empty where it could not judge);
    then ``verdict`` (the majority label, ``split`` on a tie), ``agreement`` (the share
    of judging models that agree with it) and ``notes`` (``MODEL: note``, see ``note_of``).

    Args:
        expected: Per item, the right answer's class id when the item is a built-in example,
            else None. When any is known, ``expected`` (its wording) and ``right?`` (see
            ``right_cell``) follow the verdict; blank for the items with no known answer.
    """
    spec = get_task(task)
    answered = [r for r in runs if r.error is None and r.predictions]
    known = expected is not None and any(e is not None for e in expected)
    rows = []
    for i, item in enumerate(items):
        row: dict[str, Any] = dict(spec.values(item))
        for run in answered:
            shown = spec.result_row(item, run.predictions[i], run.entry.input_format)
            row.update({f"{column} · {run.entry.name}": shown[column] for column in spec.prob_columns})
        labels = [judged_label(run.predictions[i]) for run in answered]
        agreed = agreement(task, labels)
        row["verdict"] = agreed.verdict
        if known:
            right = expected[i]
            row["expected"] = "" if right is None else spec.answer(item, right)
            row[RIGHT_COLUMN] = right_cell(labels, right)
        row["agreement"] = agreed.share
        row["notes"] = "; ".join(f"{run.entry.name}: {note}" for run in answered if (note := note_of(run.predictions[i])))
        rows.append(row)
    return pd.DataFrame(rows)


def right_cell(labels: Sequence[int | None], expected: int | None) -> str:
    """One item's marks across models, one sign per model in the table's column order, then the count:
    ``✓ ✗ ✓ (2 of 3)`` (– for a model that could not judge); "" when no answer is known.

    Signs rather than names keep the column narrow on a laptop; the page's tally line names each model.
    """
    if expected is None or not labels:
        return ""
    signs = " ".join(mark(label, expected)[0] for label in labels)
    return f"{signs} ({sum(1 for label in labels if label == expected)} of {len(labels)})"


def model_tallies(runs: Sequence[TaskRun], expected: Sequence[int | None]) -> dict[str, tuple[int, int]]:
    """Per model that answered: (items it got right, items with a known answer), over many items."""
    known = [i for i, e in enumerate(expected) if e is not None]
    return {
        run.entry.name: (sum(1 for i in known if judged_label(run.predictions[i]) == expected[i]), len(known))
        for run in runs if run.error is None and run.predictions
    }


def note_of(pred: Any) -> str:
    """What a model must say about one answer: its own note (the Kiwi LM's characters read,
    no content words), else how many tokens truncation dropped; "" when nothing."""
    if pred.note:
        return pred.note
    if pred.n_dropped:
        return f"truncated: {pred.n_dropped} of {pred.n_tokens + pred.n_dropped} tokens dropped"
    return ""

