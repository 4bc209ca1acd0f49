"""The one table of tasks. A new task is a module with a ``Task`` subclass and one line here."""

from __future__ import annotations

from explorer.tasks.base import Task
from explorer.tasks.boolq import Boolq
from explorer.tasks.cola import Cola
from explorer.tasks.copa import Copa
from explorer.tasks.wic import Wic

TASKS: dict[str, Task] = {task.id: task for task in (Cola(), Wic(), Copa(), Boolq())}


def get(task_id: str) -> Task:
    """The registered task ``task_id``.

    Raises:
        ValueError: for an unknown id, naming the known ones.
    """
    try:
        return TASKS[task_id]
    except KeyError:
        raise ValueError(f"unknown task {task_id!r}; expected one of {', '.join(TASKS)}") from None
