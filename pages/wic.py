"""Word in context (WiC): does the target word mean the same in both sentences? One row per model."""

from explorer.tasks.registry import get
from explorer.ui.task_page import render

render(get("wic"))
