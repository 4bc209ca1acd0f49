"""The Peer room page: one live board per room, where peers add items and judge them beside the models.

Who is who: a display name (text, shown escaped) says whose votes are whose; a random author token in the session
lets an author hide their own items; the room's creator holds the presenter token (pin, hide, import) in their
session and never in a link. The board refreshes itself every few seconds (a fragment), so a pin or a new vote
reaches every screen without a reload.
"""

from __future__ import annotations

import os
from typing import Sequence

import pandas as pd
import streamlit as st

from explorer.registry import ModelEntry
from explorer.room import board as boards
from explorer.room.store import Item, Room, RoomError, RoomStore, new_token
from explorer.room.summary import Majority, human_vs_models, majority, model_vs_majority, most_disputed
from explorer.tasks.registry import TASKS
from explorer.text import escape_markdown, script_note
from explorer.ui.state import app_settings, current_precision, get_explorer
from explorer.ui.tables import MISSING
from explorer.ui.task_page import field_widget, kiwi_analyse

# Seconds between the board's refreshes; EXPLORER_ROOM_REFRESH changes it (tests make it short).
REFRESH_S = float(os.environ.get("EXPLORER_ROOM_REFRESH", "3"))


@st.cache_resource(show_spinner=False)
def room_store(url: str) -> RoomStore:
    """One store (one connection pool) per database for the whole server: every session shares it."""
    return RoomStore(url)


def _session(key: str, default):
    if key not in st.session_state:
        st.session_state[key] = default
    return st.session_state[key]


def author_token() -> str:
    return _session("room_author_token", new_token())


def presenter_tokens() -> dict[str, str]:
    return _session("room_presenter_tokens", {})


def joined_rooms() -> set[str]:
    return _session("room_joined", set())


# --- choosing a room ---------------------------------------------------------------------------------------

def open_room(store: RoomStore) -> Room | None:
    """The room named in the link (``?room=``), joined; or the forms to open, create or join one."""
    name = st.query_params.get("room", "")
    if not name:
        pick_room(store)
        return None
    room = store.room(name)
    if room is None:
        st.info(f"There is no room named **{escape_markdown(name)}** on this server yet.")
        create_room(store, name)
        return None
    if room.has_code and room.name not in joined_rooms() and room.name not in presenter_tokens():
        join_form(store, room)
        return None
    return room


def pick_room(store: RoomStore) -> None:
    names = store.room_names()
    with st.form("room-open"):
        name = st.text_input("Room name", placeholder="e.g. 스터디 3조", max_chars=40)
        if st.form_submit_button("Open or create"):
            if name.strip():
                st.query_params["room"] = " ".join(name.split())
                st.rerun()
            st.error("Type a room name.")
    if names:
        st.caption("Rooms on this server: " + ", ".join(f"[{escape_markdown(n)}](?room={_quote(n)})" for n in names))


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def create_room(store: RoomStore, name: str) -> None:
    with st.form("room-create"):
        code = st.text_input("Join code (optional): peers must type it to enter", type="password", max_chars=40)
        if st.form_submit_button(f"Create room “{name}”"):
            try:
                room, token = store.create_room(name, code)
            except RoomError as exc:
                st.error(escape_markdown(str(exc)))
                return
            presenter_tokens()[room.name] = token
            st.rerun()


def join_form(store: RoomStore, room: Room) -> None:
    with st.form("room-join"):
        code = st.text_input(f"Room **{escape_markdown(room.name)}** has a join code", type="password")
        if st.form_submit_button("Join"):
            if store.may_join(room, code):
                joined_rooms().add(room.name)
                st.rerun()
            st.error("That is not this room's join code.")


# --- the room ----------------------------------------------------------------------------------------------

def usable_models(entries: Sequence[ModelEntry]) -> list[ModelEntry]:
    return [e for e in entries if e.task in TASKS and not e.problems]


def presenter_panel(store: RoomStore, room: Room) -> str | None:
    """The presenter's token when this session holds it; a way to claim it back from another tab."""
    token = presenter_tokens().get(room.name)
    if token and store.is_presenter(room, token):
        with st.expander("You are the presenter (pin, hide, import)"):
            st.caption("To present from another tab or browser, paste this presenter key there. "
                       "Never put it in a shared link.")
            st.code(token, language=None)
        return token
    with st.expander("Presenter? Claim the role with your key"):
        key = st.text_input("Presenter key", type="password", key="room-claim")
        if key and st.button("Claim"):
            if store.is_presenter(room, key):
                presenter_tokens()[room.name] = key
                st.rerun()
            st.error("That key does not present this room.")
    return None


def add_item_form(store: RoomStore, room: Room, me: str) -> None:
    """The form to add an item of any registered task."""
    task_id = st.selectbox("Task", list(TASKS), format_func=lambda t: TASKS[t].name, key="room-task")
    task = TASKS[task_id]
    with st.form("room-add", clear_on_submit=True):
        for field in task.fields:
            field_widget(st, task, field, key=f"room-{task.id}-{field.name}")
        added = st.form_submit_button("Add to the board", disabled=not me)
    if not me:
        st.caption("Type your display name above to add items and vote.")
    if added:
        values = {f.name: st.session_state.get(f"room-{task.id}-{f.name}", "") for f in task.fields}
        try:
            fields = boards.check_fields(task.id, values)
            boards.make_item(task.id, fields, kiwi_analyse(get_explorer()) if task.uses_morphemes else None)
            store.add_item(room, task.id, fields, me, author_token())
        except RoomError as exc:
            st.error(escape_markdown(str(exc)))
            return
        st.toast("Added to the board")
        if note := script_note({f.what: fields[f.name] for f in task.fields if f.kind != "choice"}):
            st.warning(escape_markdown(note) + " The models' answers to it are a guess at best.")


def humans_line(task_id: str, m: Majority) -> str:
    names = TASKS[task_id].label_names
    if not m.n_votes:
        return "No human judgements yet."
    spread = ", ".join(f"{names.get(k, k)} {n}" for k, n in sorted(m.counts.items()))
    if m.label is None:
        return f"Humans are split ({spread})."
    return f"Humans: **{names[m.label]}** ({m.share:.0%} of {m.n_votes}; {spread})."


def models_frame(item: Item, models: Sequence[str], m: Majority) -> pd.DataFrame:
    names = TASKS[item.task].label_names
    rows = []
    for model in models:
        j = item.judgements.get(model)
        if j is None:
            continue
        if j["error"]:
            answer, p = "error: " + j["error"][:80], None
        elif j["label"] is None:
            answer, p = "cannot judge", None
        else:
            answer, p = names[j["label"]], max(j["probs"]) if j["probs"] else None
        agrees = None if m.label is None or j["label"] is None else ("✓" if j["label"] == m.label else "✗")
        rows.append({"model": model, "answer": answer, "confidence": p, "agrees with humans": agrees or MISSING})
    return pd.DataFrame(rows, columns=["model", "answer", "confidence", "agrees with humans"])


def item_card(store: RoomStore, room: Room, item: Item, models: Sequence[str], me: str, presenter: str | None,
              pinned: bool = False) -> None:
    task = TASKS[item.task]
    # Keyed by the item (a CSS class st-key-room-item-N): the card is the same element however the board reorders.
    with st.container(border=True, key=f"room-item-{item.id}"):
        head = f"{':material/push_pin: Pinned · ' if pinned else ''}**{task.name}** · #{item.id} · added by {escape_markdown(item.author)}"
        st.markdown(head)
        for field in task.fields:  # a one-field item (a CoLA sentence) needs no label
            text = escape_markdown(item.fields.get(field.name, ""))
            st.markdown(text if len(task.fields) == 1 else f"{escape_markdown(field.label)}: {text}")
        m = majority(item)
        st.markdown(humans_line(item.task, m))
        vote_buttons(store, room, item, me)
        frame = models_frame(item, models, m)
        if len(frame):
            st.dataframe(frame, hide_index=True, width="stretch", placeholder=MISSING,
                         column_config={"confidence": st.column_config.NumberColumn(format="percent")},
                         key=f"room-models-{item.id}")
        item_actions(store, room, item, presenter, pinned)


def _act(action, *args) -> None:
    """A button's callback: runs before the rerun, so the board drawn next shows the change; a refusal is kept
    for the board to show (callbacks cannot draw)."""
    try:
        action(*args)
    except RoomError as exc:
        st.session_state["room_refusal"] = str(exc)


def vote_buttons(store: RoomStore, room: Room, item: Item, me: str) -> None:
    names = TASKS[item.task].label_names
    mine = item.votes.get(me) if me else None
    cols = st.columns(len(names) + 1)
    for col, (label, name) in zip(cols, names.items()):
        chosen = mine == label
        col.button(("✔ " if chosen else "") + name, key=f"room-vote-{item.id}-{label}", disabled=not me,
                   type="primary" if chosen else "secondary", on_click=_act, args=(store.vote, room, item.id, me, label))


def item_actions(store: RoomStore, room: Room, item: Item, presenter: str | None, pinned: bool) -> None:
    token = presenter or author_token()
    may_hide = presenter is not None or store.is_author(item.id, author_token())
    cols = st.columns(4)
    if presenter is not None:
        cols[0].button("Unpin" if pinned else "Pin for everyone", key=f"room-pin-{item.id}",
                       on_click=_act, args=(store.pin, room, presenter, None if pinned else item.id))
    if may_hide:
        cols[1].button("Hide", key=f"room-hide-{item.id}", on_click=_act,
                       args=(store.set_hidden, room, item.id, True, token))


def hidden_items(store: RoomStore, room: Room, presenter: str | None) -> None:
    hidden = [i for i in store.items(room, include_hidden=True) if i.hidden
              and (presenter is not None or store.is_author(i.id, author_token()))]
    if not hidden:
        return
    with st.expander(f"Hidden items you may show again ({len(hidden)})"):
        for item in hidden:
            text = " / ".join(item.fields.values())
            st.button(f"Show #{item.id}: {text[:60]}", key=f"room-show-{item.id}", on_click=_act,
                      args=(store.set_hidden, room, item.id, False, presenter or author_token()))


def summary(board: Sequence[Item], models: Sequence[str]) -> None:
    """Per model: agreement with the human majority and kappa; per human: agreement with each model; the items
    humans and models dispute most."""
    st.subheader("Humans and models")
    rows = [{"model": a.judge, "items": a.n_items, "agreement": a.agreement, "Cohen's κ": a.kappa}
            for a in model_vs_majority(board, models)]
    st.caption("Each model against the humans' majority, over items with a majority (no tie) and a model answer. "
               "κ corrects for chance; it is empty when either side gave one answer throughout.")
    st.dataframe(pd.DataFrame(rows, columns=["model", "items", "agreement", "Cohen's κ"]), hide_index=True,
                 width="stretch", placeholder=MISSING, key="room-summary-models",
                 column_config={"agreement": st.column_config.NumberColumn(format="percent"),
                                "Cohen's κ": st.column_config.NumberColumn(format="%.2f")})
    humans = human_vs_models(board, models)
    if humans:
        table = pd.DataFrame([{"person": a.judge, "model": a.other, "agreement": a.agreement, "items": a.n_items}
                              for a in humans])
        wide = table.pivot(index="person", columns="model", values="agreement").reset_index()
        st.caption("Each person's agreement with each model, over the items both judged.")
        st.dataframe(wide, hide_index=True, width="stretch", placeholder=MISSING, key="room-summary-humans",
                     column_config={m: st.column_config.NumberColumn(format="percent") for m in models})
    disputed = most_disputed(board, models)
    if disputed:
        st.caption("Where humans and models part ways most (share of models against the majority × how sure "
                   "the humans are):")
        for item, score in disputed:
            st.markdown(f"- #{item.id} {escape_markdown(' / '.join(item.fields.values())[:120])} — {score:.0%}")


def export_import(store: RoomStore, room: Room, board: Sequence[Item], models: Sequence[str],
                  presenter: str | None) -> None:
    cols = st.columns(2)
    cols[0].download_button("Export board (JSON)", boards.to_json(room, board), file_name=f"{room.name}.json",
                            mime="application/json", key="room-export-json")
    cols[1].download_button("Export board (CSV)", boards.to_csv(board, models), file_name=f"{room.name}.csv",
                            mime="text/csv", key="room-export-csv")
    if presenter is None:
        return
    upload = st.file_uploader("Import a board (JSON, from Export)", type=["json"], key="room-import")
    if upload is not None and st.button("Add its items to this room", key="room-import-go"):
        try:
            n = boards.import_json(store, room, upload.getvalue(), presenter)
        except RoomError as exc:
            st.error(escape_markdown(str(exc)))
        else:
            st.success(f"Imported {n} items with their votes; the models answer them here.")


def judge(store: RoomStore, board: Sequence[Item], entries: Sequence[ModelEntry]) -> None:
    """Computes the answers the board still lacks (once per item and model, shared by every session)."""
    missing = sum(1 for i in board for e in entries if e.task == i.task and e.name not in i.judgements)
    if not missing:
        return
    explorer = get_explorer()
    analyse = None
    if any(TASKS[i.task].uses_morphemes for i in board):
        analyse = kiwi_analyse(explorer)
    with st.spinner(f"The models answer {missing} new item×model pairs…"):
        boards.judge_missing(store, explorer, board, entries, analyse, precision=current_precision())


def render() -> None:
    st.title("Peer room")
    st.caption("One live board: add tricky items, judge them yourselves, and see every model's answer beside the "
               "humans' majority. Everyone in the room sees changes within a few seconds.")
    store = room_store(app_settings().room_db)
    room = open_room(store)
    if room is None:
        return
    st.markdown(f"### Room: {escape_markdown(room.name)}")
    st.caption("Share this page's link to invite peers" + (" (they will need the join code)." if room.has_code
                                                           else ".") + " The link never carries the presenter role.")
    me = " ".join(st.text_input("Your display name", key="room-me", max_chars=40,
                                placeholder="shown beside your items and votes").split())
    presenter = presenter_panel(store, room)
    entries, _ = get_explorer().registry()
    usable = usable_models(entries)
    names = st.multiselect("Models on the board", [e.name for e in usable], default=[e.name for e in usable],
                           key="room-models")
    chosen = [e for e in usable if e.name in names]
    with st.expander("Add an item", expanded=True):
        add_item_form(store, room, me)
    live_board(store, room, chosen, me, presenter)


def live_board(store: RoomStore, room: Room, entries: Sequence[ModelEntry], me: str, presenter: str | None) -> None:
    @st.fragment(run_every=REFRESH_S)
    def board_fragment() -> None:
        board = store.items(room)
        judge(store, board, entries)
        board = store.items(room)
        models = [e.name for e in entries]
        pinned_id = store.pinned(room)
        pinned = [i for i in board if i.id == pinned_id]
        if refusal := st.session_state.pop("room_refusal", None):
            st.error(refusal)
        tabs = st.tabs(["Board", "Summary", "Export / import"])
        with tabs[0]:
            if not board:
                st.info("The board is empty: add the first item above.")
            for item in pinned:
                item_card(store, room, item, models, me, presenter, pinned=True)
            for item in reversed(board):
                if item.id != pinned_id:
                    item_card(store, room, item, models, me, presenter)
            hidden_items(store, room, presenter)
        with tabs[1]:  # only the models that answered something on this board
            summary(board, [m for m in models if any(m in i.judgements for i in board)])
        with tabs[2]:
            export_import(store, room, board, models, presenter)

    board_fragment()
