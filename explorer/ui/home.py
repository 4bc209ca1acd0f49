"""The registry as a table for the home page."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from explorer.registry import TASK_TITLES, ModelEntry
from explorer.service import Explorer, count_parameters


def registry_frame(explorer: Explorer, entries: Sequence[ModelEntry]) -> pd.DataFrame:
    """One row per registered model: task, origin, how the task was inferred, size, status."""
    loaded = set(explorer.cache.keys())
    rows = []
    for e in entries:
        params = count_parameters(Path(e.source)) if e.kind == "transformer" else None
        is_loaded = any(k.startswith(f"{e.source}@") for k in loaded) or (e.kind == "kiwi-lm" and "kiwi-lm" in loaded)
        rows.append(
            {
                "model": e.name + (" (demo)" if e.demo else ""),
                "task": TASK_TITLES.get(e.task or "", "base encoder"),
                "source": e.origin,
                "task inferred from": e.task_how,
                "parameters": params,
                "status": e.problems[0] if e.problems else ("loaded" if is_loaded else "ready"),
                "about": e.description,
            }
        )
    return pd.DataFrame(rows)
