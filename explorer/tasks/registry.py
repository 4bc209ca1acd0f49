"""The one table of tasks. A new task is a module with a ``Task`` subclass and one line here."""

from __future__ import annotations

from typing import Any

from explorer.data.readers import Dataset, Layout, header_lines, read_table
from explorer.tasks.base import Task
from explorer.tasks.boolq import Boolq
from explorer.tasks.cola import Cola
from explorer.tasks.copa import Copa
from explorer.tasks.generic import from_id as generic_task
from explorer.tasks.generic import is_generic
from explorer.tasks.hellaswag import Hellaswag
from explorer.tasks.sentineg import Sentineg
from explorer.tasks.wic import Wic

TASKS: dict[str, Task] = {task.id: task for task in (Cola(), Wic(), Copa(), Boolq(), Sentineg(), Hellaswag())}


def get(task_id: str) -> Task:
    """The registered task ``task_id``, or a checkpoint's own classifier rebuilt from its id (``labels:bad|good``).

    Raises:
        ValueError: for an unknown id, naming the known ones.
    """
    if task_id in TASKS:
        return TASKS[task_id]
    if is_generic(task_id):  # a checkpoint's own classification task, rebuilt from its id
        return generic_task(task_id)
    raise ValueError(f"unknown task {task_id!r}; expected one of {', '.join(TASKS)}")


def find(task_id: str | None) -> Task | None:
    """The task ``task_id`` names (as ``get``), or None for no id or an unknown one."""
    try:
        return get(task_id) if task_id else None
    except ValueError:
        return None


def layouts() -> list[Layout]:
    """Every registered task's file layouts, in registry order (which breaks ties in detection)."""
    return [layout for task in TASKS.values() for layout in task.layouts]


def read_dataset(path_or_bytes: Any, name: str | None = None, task: str | None = None) -> Dataset:
    """Reads a task file in any registered task's published layout (see ``explorer.data.readers.read_table``).

    Args:
        path_or_bytes: A file path, the raw bytes of an upload, or a file-like object with ``read()``.
        name: Display name used in messages (defaults to the file name).
        task: When given, the file must hold this task.

    Raises:
        DatasetError: Unreadable or malformed file; the message names the line, the column and what was expected.
        ValueError: ``task`` is not a task with layouts.
    """
    if is_generic(task):  # a generic task's text/label layout would match too much to be a candidate for every file
        return read_table(path_or_bytes, get(task).layouts, name=name, task=task)
    return read_table(path_or_bytes, layouts(), name=name, task=task)


def supported_headers(task: str | None = None) -> list[str]:
    """The supported headers as ``"title: col, col, ..."`` lines: all, or only ``task``'s."""
    return header_lines(layouts(), task)


# A view of the layouts by key, under the reader's old name (tests read it).
FORMATS: dict[str, Layout] = {layout.key: layout for layout in layouts()}
