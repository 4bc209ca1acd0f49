"""Building task items from what users type (pages and the CLI).

Each builder lives with its task (``make_wic`` in ``explorer.tasks.wic`` ...); this
module gathers them, with ``InputError``, for the pages, the CLI and the tests.
"""

from __future__ import annotations

from typing import Callable, Sequence

from explorer.tasks.base import InputError, clean_field  # pages and the CLI import them from here
from explorer.tasks.boolq import make_boolq
from explorer.tasks.cola import make_cola
from explorer.tasks.copa import QUESTIONS, make_copa  # QUESTIONS: the one 원인/결과 ↔ cause/effect table
from explorer.tasks.registry import TASKS
from explorer.tasks.registry import get as get_task
from explorer.tasks.wic import make_wic

__all__ = ["CLI_SHAPES", "QUESTIONS", "InputError", "clean_field", "make_boolq", "make_cola", "make_copa", "make_wic",
           "parse_cli_input"]
CLI_SHAPES = {task_id: task.cli_shape for task_id, task in TASKS.items()}  # a view of the task registry


def parse_cli_input(task: str, text: str, analyse: Callable[[str], Sequence] | None = None):
    """One CLI argument → one item (``Task.parse_line`` without its notes); fields are separated by ``|``."""
    return get_task(task).parse_line(text, analyse)[0]
