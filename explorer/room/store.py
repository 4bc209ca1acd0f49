"""Rooms, items, votes and model judgements in one database, SQLite or PostgreSQL, one code path.

SQLAlchemy Core keeps the schema and every statement the same on both: SQLite (a WAL-mode file under the cache
folder) for one machine, PostgreSQL (``EXPLORER_DB_URL``) for a whole cohort on one server. Each peer's session
holds its own ``RoomStore`` or shares one; every method opens its own short transaction, so peers writing at once
never lose a write (SQLite serialises writers behind ``busy_timeout``; votes are upserts keyed by item and voter).

Secrets (a room's join code, the presenter's token, an author's token) are stored only as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import event

ROOM_NAME_CHARS = 40  # a room's name is part of the URL: short, plain
DISPLAY_NAME_CHARS = 40
FIELD_CHARS = 600  # one field of an item (a BoolQ passage is the longest input a peer types)
ITEM_CHARS = 2000  # all fields of an item together
ITEMS_PER_MINUTE = 10  # one author's items per minute in one room; more is a flood


class RoomError(ValueError):
    """A request the room refuses, with the reason a peer reads."""


metadata = sa.MetaData()

schema_version = sa.Table("room_schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))

rooms = sa.Table(
    "room_rooms", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(ROOM_NAME_CHARS), nullable=False, unique=True),
    sa.Column("code_hash", sa.String(64)),  # None: anyone with the link may join
    sa.Column("presenter_hash", sa.String(64), nullable=False),
    sa.Column("pinned_item", sa.Integer),
    sa.Column("created", sa.Float, nullable=False),
)

items = sa.Table(
    "room_items", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("room_id", sa.Integer, sa.ForeignKey("room_rooms.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("task", sa.String(40), nullable=False),
    sa.Column("fields", sa.Text, nullable=False),  # JSON: field name → text, as typed
    sa.Column("author", sa.String(DISPLAY_NAME_CHARS), nullable=False),
    sa.Column("author_hash", sa.String(64), nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False, default=False),
    sa.Column("created", sa.Float, nullable=False),
)

votes = sa.Table(
    "room_votes", metadata,
    sa.Column("item_id", sa.Integer, sa.ForeignKey("room_items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("voter", sa.String(DISPLAY_NAME_CHARS), primary_key=True),
    sa.Column("label", sa.Integer, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)

judgements = sa.Table(
    "room_judgements", metadata,
    sa.Column("item_id", sa.Integer, sa.ForeignKey("room_items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("model", sa.String(200), primary_key=True),
    sa.Column("label", sa.Integer),  # None: the model could not judge (or failed: see error)
    sa.Column("probs", sa.Text),  # JSON list, one probability per class or alternative
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("error", sa.Text, nullable=False, default=""),
)


def _v1(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[rooms, items, votes, judgements])


# Versioned migrations, applied in order, each once. A later schema change appends (2, fn): never edit a shipped one.
MIGRATIONS: tuple[tuple[int, Callable[[sa.Connection], None]], ...] = ((1, _v1),)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A secret held by one session: the presenter's or an author's (never part of a link)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Room:
    id: int
    name: str
    has_code: bool
    pinned_item: int | None


@dataclass
class Item:
    id: int
    task: str
    fields: dict[str, str]
    author: str
    hidden: bool
    created: float
    votes: dict[str, int] = field(default_factory=dict)  # voter → label
    judgements: dict[str, dict[str, Any]] = field(default_factory=dict)  # model → {label, probs, note, error}


def clean_name(name: str, what: str, limit: int) -> str:
    """A room or display name, trimmed; refused when empty or too long (it is shown to everyone, escaped)."""
    name = " ".join(str(name).split())
    if not name:
        raise RoomError(f"A {what} is needed.")
    if len(name) > limit:
        raise RoomError(f"A {what} has at most {limit} characters (this one has {len(name)}).")
    return name


class RoomStore:
    """The board's database. Safe to share between threads: every call is its own transaction."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.clock = clock
        self.engine = _engine(url)
        self._migrate()

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------- schema

    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            if self.backend == "postgresql":  # one server process migrates at a time
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242)"))
            schema_version.create(conn, checkfirst=True)
            current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
            if current > SCHEMA_VERSION:
                raise RoomError(f"The room database is at schema version {current}, newer than this app's "
                                f"{SCHEMA_VERSION}: update the app rather than let it write an older layout.")
            for version, migrate in MIGRATIONS:
                if version > current:
                    migrate(conn)
                    conn.execute(schema_version.insert().values(version=version))

    def version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0

    # ---------------------------------------------------------------- rooms

    def create_room(self, name: str, join_code: str = "") -> tuple[Room, str]:
        """A new room; returns it and the presenter's token (kept in the creator's session only)."""
        name = clean_name(name, "room name", ROOM_NAME_CHARS)
        token = new_token()
        with self.engine.begin() as conn:
            if conn.execute(sa.select(rooms.c.id).where(rooms.c.name == name)).first():
                raise RoomError(f"A room named {name!r} exists already: join it, or pick another name.")
            try:
                conn.execute(rooms.insert().values(
                    name=name, code_hash=_hash(join_code) if join_code else None, presenter_hash=_hash(token),
                    pinned_item=None, created=self.clock()))
            except sa.exc.IntegrityError:  # created by someone else in the same instant
                raise RoomError(f"A room named {name!r} exists already: join it, or pick another name.") from None
        return self.room(name), token

    def room(self, name: str) -> Room | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(rooms).where(rooms.c.name == " ".join(str(name).split()))).first()
        return Room(row.id, row.name, row.code_hash is not None, row.pinned_item) if row else None

    def room_names(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r.name for r in conn.execute(sa.select(rooms.c.name).order_by(rooms.c.created))]

    def may_join(self, room: Room, join_code: str) -> bool:
        if not room.has_code:
            return True
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(rooms.c.code_hash).where(rooms.c.id == room.id)).scalar()
        return secrets.compare_digest(stored or "", _hash(join_code))

    def is_presenter(self, room: Room, token: str | None) -> bool:
        with self.engine.connect() as conn:
            return _presenter(conn, room.id, token)

    def pin(self, room: Room, presenter_token: str, item_id: int | None) -> None:
        """Pins one item on every screen in the room (None unpins). Only the presenter may."""
        if not self.is_presenter(room, presenter_token):
            raise RoomError("Only the room's presenter (whoever created it) can pin an item.")
        if item_id is not None and self._item_room(item_id) != room.id:
            raise RoomError("That item is not in this room.")
        with self.engine.begin() as conn:
            conn.execute(rooms.update().where(rooms.c.id == room.id).values(pinned_item=item_id))

    def pinned(self, room: Room) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(rooms.c.pinned_item).where(rooms.c.id == room.id)).scalar()

    # ---------------------------------------------------------------- items

    def add_item(self, room: Room, task: str, fields: Mapping[str, str], author: str, author_token: str,
                 flood_check: bool = True) -> int:
        """Adds an item (its fields as typed) under a display name; refuses oversized items and floods
        (``flood_check`` off only for the presenter's import of a board file)."""
        author = clean_name(author, "display name", DISPLAY_NAME_CHARS)
        fields = {str(k): str(v) for k, v in fields.items()}
        for name, text in fields.items():
            if len(text) > FIELD_CHARS:
                raise RoomError(f"'{name}' has {len(text)} characters; an item's field may have at most {FIELD_CHARS}.")
        if sum(len(t) for t in fields.values()) > ITEM_CHARS:
            raise RoomError(f"An item may have at most {ITEM_CHARS} characters in all.")
        now = self.clock()
        with self.engine.begin() as conn:
            recent = conn.execute(sa.select(sa.func.count()).select_from(items).where(
                # by session and by name: a reload (a new session) under the same name is still one person
                items.c.room_id == room.id, items.c.created > now - 60,
                sa.or_(items.c.author_hash == _hash(author_token), items.c.author == author),
            )).scalar()
            if flood_check and recent >= ITEMS_PER_MINUTE:
                raise RoomError(f"You added {recent} items in the last minute; the room takes at most "
                                f"{ITEMS_PER_MINUTE} a minute from one person. Let the others catch up.")
            return conn.execute(items.insert().values(
                room_id=room.id, task=task, fields=json.dumps(fields, ensure_ascii=False), author=author,
                author_hash=_hash(author_token), hidden=False, created=now,
            )).inserted_primary_key[0]

    def _item_room(self, item_id: int) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(items.c.room_id).where(items.c.id == item_id)).scalar()

    def set_hidden(self, room: Room, item_id: int, hidden: bool, token: str) -> None:
        """Hides (or shows again) an item: its author or the presenter may."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(items.c.author_hash).where(
                items.c.id == item_id, items.c.room_id == room.id)).first()
            if row is None:
                raise RoomError("That item is not in this room.")
            if not (secrets.compare_digest(row.author_hash, _hash(token)) or _presenter(conn, room.id, token)):
                raise RoomError("Only the item's author or the room's presenter can hide it.")
            conn.execute(items.update().where(items.c.id == item_id).values(hidden=hidden))

    def is_author(self, item_id: int, token: str | None) -> bool:
        if not token:
            return False
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(items.c.author_hash).where(items.c.id == item_id)).scalar()
        return bool(stored) and secrets.compare_digest(stored, _hash(token))

    def items(self, room: Room, include_hidden: bool = False) -> list[Item]:
        """The room's items, oldest first, each with its votes and the models' judgements."""
        with self.engine.connect() as conn:
            query = sa.select(items).where(items.c.room_id == room.id).order_by(items.c.id)
            if not include_hidden:
                query = query.where(items.c.hidden == sa.false())
            board = {r.id: Item(r.id, r.task, json.loads(r.fields), r.author, bool(r.hidden), r.created)
                     for r in conn.execute(query)}
            if not board:
                return []
            ids = list(board)
            for v in conn.execute(sa.select(votes).where(votes.c.item_id.in_(ids))):
                board[v.item_id].votes[v.voter] = v.label
            for j in conn.execute(sa.select(judgements).where(judgements.c.item_id.in_(ids))):
                board[j.item_id].judgements[j.model] = {
                    "label": j.label, "probs": json.loads(j.probs) if j.probs else None, "note": j.note,
                    "error": j.error}
        return list(board.values())

    # ---------------------------------------------------------------- votes and judgements

    def vote(self, room: Room, item_id: int, voter: str, label: int) -> None:
        """Records (or changes) one person's judgement of an item: one vote per display name and item."""
        voter = clean_name(voter, "display name", DISPLAY_NAME_CHARS)
        if self._item_room(item_id) != room.id:
            raise RoomError("That item is not in this room.")
        self._upsert(votes, {"item_id": item_id, "voter": voter, "label": int(label), "updated": self.clock()},
                     keys=("item_id", "voter"), update=("label", "updated"))

    def unvote(self, room: Room, item_id: int, voter: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(votes.delete().where(votes.c.item_id == item_id, votes.c.voter == voter))

    def save_judgement(self, item_id: int, model: str, label: int | None, probs: Sequence[float] | None,
                       note: str = "", error: str = "") -> None:
        """A model's answer to an item, computed once: a second writer of the same answer changes nothing."""
        self._upsert(judgements, {"item_id": item_id, "model": model, "label": label,
                                  "probs": json.dumps([float(p) for p in probs]) if probs is not None else None,
                                  "note": note, "error": error}, keys=("item_id", "model"), update=())

    def _upsert(self, table: sa.Table, row: dict, keys: Sequence[str], update: Sequence[str]) -> None:
        # The one place the two databases differ in syntax: both have INSERT ... ON CONFLICT, each in its dialect.
        if self.backend == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table).values(**row)
        stmt = (stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in update})
                if update else stmt.on_conflict_do_nothing(index_elements=list(keys)))
        with self.engine.begin() as conn:
            conn.execute(stmt)


def _presenter(conn: sa.Connection, room_id: int, token: str | None) -> bool:
    if not token:
        return False
    stored = conn.execute(sa.select(rooms.c.presenter_hash).where(rooms.c.id == room_id)).scalar()
    return secrets.compare_digest(stored or "", _hash(token))


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # WAL: readers never block the writer; writers wait their turn
            dbapi_conn.isolation_level = None  # the "begin" hook below opens every transaction itself
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _immediate(conn) -> None:
            # A deferred transaction that reads, then writes (the flood check before an insert) fails at once with
            # SQLITE_BUSY when another writer committed in between; BEGIN IMMEDIATE queues it behind busy_timeout.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgres"):
        url = url.replace("postgres://", "postgresql://", 1)
        if url.startswith("postgresql://"):  # the driver this app installs
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    raise RoomError(f"EXPLORER_DB_URL must name an sqlite:/// file or a postgresql:// server, not {url.split(':')[0]!r}.")
