"""Training curves from the ``trainer_state.json`` that Hugging Face ``Trainer`` writes.

``explorer.finetune`` leaves it at the top of its output folder; plain Trainer
runs leave one per ``checkpoint-*`` subfolder, each holding the history up to
that step (so the highest step's file is the whole run). Reading is forgiving:
a missing or corrupt file gives ``None`` so a page can list many folders
without one bad file breaking it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["STATE_FILE", "Curves", "curves_frame", "overfitting_signals", "read_curves", "state_files"]

STATE_FILE = "trainer_state.json"
SUMMARY_FILE = "explorer_finetune.json"  # explorer.finetune's summary: names the metric that picked the best epoch
# Log keys that are bookkeeping, not curves: axes, throughput, FLOPs, and the run-average train loss
# (one number for the whole run; plotted beside the per-step loss it would read as a curve point).
_NOT_CURVES = {"step", "epoch", "total_flos", "train_loss"}
_NOT_CURVE_SUFFIXES = ("_runtime", "_per_second")
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# The metrics whose rise means "better", in the order a metric is picked when nothing names one.
_METRICS = ("mcc", "f1_macro", "accuracy")


@dataclass
class Curves:
    """A run's logged history.

    Attributes:
        frame: Long form, columns ``step, epoch, name, value``, sorted by name then step.
        best_checkpoint: ``best_model_checkpoint`` as recorded (a path at training time), or None.
        best_step: The best checkpoint's step, or None.
        best_metric: ``best_metric`` as recorded, or None.
        metric: The eval metric to judge the run by (``mcc``, ``accuracy``...), or None.
        source: The ``trainer_state.json`` read.
    """

    frame: pd.DataFrame
    best_checkpoint: str | None
    best_step: int | None
    best_metric: float | None
    metric: str | None
    source: Path

    def series(self, name: str) -> pd.DataFrame:
        """One curve (``step, epoch, value``) by log name, e.g. ``eval_loss``; empty when not logged."""
        return self.frame.loc[self.frame["name"] == name, ["step", "epoch", "value"]].reset_index(drop=True)

    @property
    def names(self) -> list[str]:
        """The logged curve names."""
        return sorted(self.frame["name"].unique())


def state_files(folder: str | Path) -> list[Path]:
    """The ``trainer_state.json`` files of a folder, in the order they should be tried.

    The top-level file first (finetune writes the final state there), then the
    ``checkpoint-*`` subfolders' files from the highest step down.

    Args:
        folder: A checkpoint folder, or a ``trainer_state.json`` path.

    Returns:
        Existing files only; empty when there are none.
    """
    path = Path(folder)
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    found = [path / STATE_FILE] if (path / STATE_FILE).is_file() else []
    steps = []
    for sub in path.iterdir():
        match = _CHECKPOINT.match(sub.name)
        if match and (sub / STATE_FILE).is_file():
            steps.append((int(match.group(1)), sub / STATE_FILE))
    return found + [file for _, file in sorted(steps, reverse=True)]


def _load(file: Path) -> dict[str, Any] | None:
    """A parsed state with a list ``log_history``, or None for anything unreadable."""
    try:
        state = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        return None
    return state


def _number(value: Any) -> float | None:
    # bool is an int in Python; a flag is not a curve point.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _records(history: list[Any]) -> list[dict[str, Any]]:
    records = []
    for entry in history:
        if not isinstance(entry, dict) or _number(entry.get("step")) is None:
            continue
        for name, raw in entry.items():
            value = _number(raw)
            if value is None or name in _NOT_CURVES or name.endswith(_NOT_CURVE_SUFFIXES):
                continue
            records.append(
                {"step": int(entry["step"]), "epoch": _number(entry.get("epoch")), "name": name, "value": value}
            )
    return records


def _summary_metric(folder: Path) -> str | None:
    try:
        metric = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8")).get("metric")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    return metric if isinstance(metric, str) else None


def read_curves(folder: str | Path) -> Curves | None:
    """Reads a run's curves from a checkpoint folder.

    Args:
        folder: A checkpoint folder (top-level or ``checkpoint-*`` states), or
            a ``trainer_state.json`` path.

    Returns:
        The curves, or None when no readable state with a log history exists.
    """
    for file in state_files(folder):
        state = _load(file)
        if state is not None:
            break
    else:
        return None
    frame = pd.DataFrame(_records(state["log_history"]), columns=["step", "epoch", "name", "value"])
    frame = frame.sort_values(["name", "step"], kind="stable").reset_index(drop=True)
    best = state.get("best_model_checkpoint")
    best = best if isinstance(best, str) and best else None
    best_step = state.get("best_global_step")
    if not isinstance(best_step, int) or isinstance(best_step, bool):
        # Older Trainers record only the folder; its name carries the step.
        match = _CHECKPOINT.match(Path(best).name) if best else None
        best_step = int(match.group(1)) if match else None
    metric = _summary_metric(file.parent) or _summary_metric(file.parent.parent)
    if metric is None:
        metric = next((m for m in _METRICS if (frame["name"] == f"eval_{m}").any()), None)
    return Curves(
        frame=frame,
        best_checkpoint=best,
        best_step=best_step,
        best_metric=_number(state.get("best_metric")),
        metric=metric,
        source=file,
    )


def overfitting_signals(curves: Curves, min_rises: int = 2, clear_rise: float = 0.03) -> list[str]:
    """Flags stretches where eval loss keeps rising while the eval metric still improves.

    This is the pattern the study group saw on CoLA: past the first epochs the
    model grows more confident on the dev examples it gets wrong, so their
    cross-entropy (and the mean loss) rises, while the decision boundary still
    moves the right way on others, so MCC/accuracy, which only count which side
    of the boundary each example falls on, keep improving. It is an early sign
    of overfitting: the best checkpoint by metric is not the best by loss, and
    a few more epochs usually bring the metric down too.

    Args:
        curves: From :func:`read_curves`.
        min_rises: How many consecutive evaluations the loss must rise over.
        clear_rise: A shorter stretch counts too when the loss rose by at least this
            share of its value: a 2- or 3-epoch run (the study group's usual) has
            room for one rise only, and a 3 % jump is not evaluation noise.

    Returns:
        One human-readable message per stretch; empty when the pattern does not occur.
    """
    metric = curves.metric
    if metric is None:
        return []
    loss = curves.series("eval_loss").drop_duplicates("step", keep="last").set_index("step")["value"]
    score = curves.series(f"eval_{metric}").drop_duplicates("step", keep="last").set_index("step")["value"]
    steps = [s for s in loss.index if s in score.index]
    messages = []
    start = 0
    # Walk maximal stretches of strictly rising eval loss.
    for end in range(1, len(steps) + 1):
        if end < len(steps) and loss[steps[end]] > loss[steps[end - 1]]:
            continue
        rises = end - 1 - start
        first, last = steps[start], steps[end - 1]
        clear = rises >= 1 and loss[last] >= loss[first] * (1 + clear_rise)
        if (rises >= min_rises or clear) and score[last] > score[first]:
            messages.append(
                f"Eval loss rose{f' over {rises} consecutive evaluations' if rises > 1 else ''} (step {first} to {last}: "
                f"{loss[first]:.4f} -> {loss[last]:.4f}) while eval {metric} still improved "
                f"({score[first]:.4f} -> {score[last]:.4f}). The model grows more confident on the dev examples it "
                f"gets wrong, so their loss rises, while the decision boundary still improves on others; "
                f"{metric} only counts which side each example falls on. An early sign of overfitting: "
                f"pick the checkpoint by {metric}, and expect more epochs to hurt."
            )
        start = end
    return messages


def curves_frame(runs: dict[str, Curves]) -> pd.DataFrame:
    """Several runs' curves in one long frame for overlaid charts.

    Args:
        runs: Model name -> curves.

    Returns:
        Columns ``model, step, epoch, name, value, best`` (``best`` marks the
        best checkpoint's step).
    """
    parts = []
    for model, curves in runs.items():
        part = curves.frame.copy()
        part.insert(0, "model", model)
        part["best"] = part["step"] == curves.best_step if curves.best_step is not None else False
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["model", "step", "epoch", "name", "value", "best"])
    return pd.concat(parts, ignore_index=True)
