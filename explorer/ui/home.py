"""The registry as a table for the home page."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from explorer.registry import ModelEntry
from explorer.loading import count_parameters
from explorer.scorers import capabilities
from explorer.service import Explorer
from explorer.tasks.registry import find as find_task


def loaded_names(explorer: Explorer, entries: Sequence[ModelEntry]) -> list[str]:
    """Names of the models currently held in memory."""
    return [e.name for e in entries if explorer.is_loaded(e)]


def _task_title(task_id: str | None) -> str:
    """A registered task's title, a checkpoint's own classifier's labels, or "base encoder" (no task)."""
    task = find_task(task_id)
    return task.title if task else (task_id or "base encoder")


def registry_frame(explorer: Explorer, entries: Sequence[ModelEntry]) -> pd.DataFrame:
    """One row per registered model: task, size, status, description, origin, how the task was inferred."""
    loaded = set(loaded_names(explorer, entries))
    rows = []
    for e in entries:
        params = count_parameters(Path(e.source)) if capabilities(e).parameters else None
        rows.append(
            {
                "model": e.name + (" (demo)" if e.demo else ""),
                "task": _task_title(e.task),
                "parameters": params if params is not None else pd.NA,
                "status": e.problems[0] if e.problems else ("loaded" if e.name in loaded else "ready"),
                # What a reader wants first fits a laptop screen (a model from your data names its dev score
                # here); where a model came from and how its task was inferred come after.
                "about": e.description,
                "source": e.origin,
                "task inferred from": e.task_how,
            }
        )
    return pd.DataFrame(rows)
