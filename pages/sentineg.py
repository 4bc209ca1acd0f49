"""Sentiment under negation (KoBEST SentiNeg): is a review sentence negative or positive? One row per model."""

from explorer.tasks.registry import get
from explorer.ui.task_page import render

render(get("sentineg"))
