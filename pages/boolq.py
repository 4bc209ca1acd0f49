"""Yes/no questions (BoolQ): does the passage answer the question with yes or no? One row per model."""

from explorer.tasks.registry import get
from explorer.ui.task_page import render

render(get("boolq"))
