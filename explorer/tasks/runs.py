"""One model's run over task items: what the model service returns and the results tables read."""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.registry import ModelEntry


@dataclass
class TaskRun:
    """One model's predictions on a list of task items, or why there are none."""

    entry: ModelEntry
    predictions: list = field(default_factory=list)
    error: str | None = None
    precision: str = "fp32"  # how a checkpoint ran (explorer.device.PRECISIONS); tables say so when not fp32
