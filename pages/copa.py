"""Cause and effect (COPA): which alternative is the premise's cause or effect? One row per model."""

from explorer.tasks.registry import get
from explorer.ui.task_page import render

render(get("copa"))
