"""A board as a file (JSON to move it between servers, CSV to read it), and the models' answers to its items.

``judge_missing`` asks each model once per item: answers are stored, so a peer joining late, or the page's next
refresh, reads them instead of running the models again.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Callable, Mapping, Sequence

from explorer.room.store import Item, Room, RoomError, RoomStore
from explorer.room.summary import majority
from explorer.tasks.base import InputError
from explorer.tasks.registry import TASKS, find

FORMAT = "ko-model-explorer peer room"
IMPORT_ITEMS = 500  # a board file larger than this is refused, not half-read


def check_fields(task_id: str, fields: Mapping[str, str]) -> dict[str, str]:
    """The item's fields, checked against the task's form: a registered task, its field names, no field empty."""
    task = find(task_id)
    if task is None:
        raise RoomError(f"Unknown task {task_id!r}; this server has {', '.join(TASKS)}.")
    names = [f.name for f in task.fields]
    extra = set(fields) - set(names)
    if extra:
        raise RoomError(f"A {task.name} item has the fields {', '.join(names)}; not {', '.join(sorted(extra))}.")
    clean = {f.name: task.form_value(f, str(fields.get(f.name, ""))).strip() for f in task.fields}
    empty = [f.label for f in task.fields if not clean[f.name]]
    if empty:
        raise RoomError(f"Fill in {', '.join(empty)}.")
    return clean


def make_item(task_id: str, fields: Mapping[str, str], analyse: Callable | None = None) -> Any:
    """The task's item for a board entry (what the models read); RoomError with the task's reason when it cannot be."""
    try:
        item, _ = find(task_id).make_item(fields, analyse)
    except InputError as exc:
        raise RoomError(str(exc)) from None
    return item


def judge_missing(store: RoomStore, explorer: Any, board: Sequence[Item], entries: Sequence[Any],
                  analyse: Callable | None = None, device: str | None = None, precision: str = "fp32") -> int:
    """Runs each model (registered for the item's task) on the items it has not answered yet; returns how many
    answers were added. A model that fails is recorded with its error, so it is not retried on every refresh."""
    added = 0
    for item in board:
        todo = [e for e in entries if e.task == item.task and e.name not in item.judgements]
        if not todo:
            continue
        try:
            task_item = make_item(item.task, item.fields, analyse)
        except RoomError as exc:
            for entry in todo:
                store.save_judgement(item.id, entry.name, None, None, error=str(exc))
            continue
        for run in explorer.predict(todo, item.task, [task_item], device=device, precision=precision):
            if run.error or not run.predictions:
                store.save_judgement(item.id, run.entry.name, None, None, error=run.error or "no answer")
            else:
                pred = run.predictions[0]
                store.save_judgement(item.id, run.entry.name, pred.label if pred.judged else None, pred.probs,
                                     note=pred.note)
            added += 1
    return added


def to_json(room: Room, board: Sequence[Item]) -> str:
    return json.dumps({
        "format": FORMAT, "version": 1, "room": room.name,
        "items": [{"task": i.task, "fields": i.fields, "author": i.author, "hidden": i.hidden, "votes": i.votes,
                   "models": i.judgements} for i in board],
    }, ensure_ascii=False, indent=1)


def to_csv(board: Sequence[Item], models: Sequence[str]) -> str:
    """One row per item: its fields, the humans' votes and majority, each model's answer (label wordings)."""
    field_names = list(dict.fromkeys(name for item in board for name in item.fields))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["item", "task", *field_names, "author", "hidden", "votes", "human majority", "majority share",
                     *models])
    for item in board:
        names = TASKS[item.task].label_names if item.task in TASKS else {}
        m = majority(item)
        answers = []
        for model in models:
            j = item.judgements.get(model)
            answers.append("" if j is None else names.get(j["label"], "cannot judge" if not j["error"] else "error"))
        writer.writerow([
            item.id, item.task, *(item.fields.get(n, "") for n in field_names), item.author, item.hidden,
            "; ".join(f"{v}={names.get(label, label)}" for v, label in sorted(item.votes.items())),
            names.get(m.label, "tie" if m.n_votes else ""), f"{m.share:.2f}" if m.n_votes else "", *answers,
        ])
    return out.getvalue()


def import_json(store: RoomStore, room: Room, text: str | bytes, token: str) -> int:
    """Adds a board file's items and votes to ``room`` (the presenter's action); the models answer them afresh
    here, since a name on another server may be another model. Refuses the whole file on any bad item."""
    if not store.is_presenter(room, token):
        raise RoomError("Only the room's presenter can import a board.")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RoomError(f"Not a board file (JSON could not be read: {exc}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("items"), list):
        raise RoomError("Not a board file: export one from a peer room's Export button.")
    if len(data["items"]) > IMPORT_ITEMS:
        raise RoomError(f"The file has {len(data['items'])} items; a board takes at most {IMPORT_ITEMS} at once.")
    checked = []
    for k, raw in enumerate(data["items"], 1):
        try:
            if not isinstance(raw, dict) or not isinstance(raw.get("fields"), dict):
                raise RoomError("no fields")
            task = find(str(raw.get("task")))
            fields = check_fields(str(raw.get("task")), raw["fields"])
            votes = {str(v): int(label) for v, label in (raw.get("votes") or {}).items()}
            if task and any(label not in task.label_names for label in votes.values()):
                raise RoomError(f"a vote is not one of {task.name}'s answers")
        except (RoomError, TypeError, ValueError) as exc:
            raise RoomError(f"Item {k} of the file cannot be added: {exc}. Nothing was imported.") from None
        checked.append((task.id, fields, str(raw.get("author") or "imported"), bool(raw.get("hidden")), votes))
    for task_id, fields, author, hidden, votes in checked:
        item_id = store.add_item(room, task_id, fields, author, token, flood_check=False)
        if hidden:
            store.set_hidden(room, item_id, True, token)
        for voter, label in votes.items():
            store.vote(room, item_id, voter, label)
    return len(checked)
