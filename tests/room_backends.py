"""The peer room's two databases for tests: an SQLite file per test, and a real PostgreSQL server.

PostgreSQL is named by EXPLORER_TEST_DB_URL (``.ci/run`` starts Debian's server and sets it). Without it the
PostgreSQL cases skip, unless EXPLORER_REQUIRE_POSTGRES=1 (CI) turns the skip into a failure.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from explorer.room import store as room_store

BACKENDS = ["sqlite", "postgresql"]


def database_url(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'room.db'}"
    url = os.environ.get("EXPLORER_TEST_DB_URL")
    if not url:
        if os.environ.get("EXPLORER_REQUIRE_POSTGRES") == "1":
            pytest.fail("EXPLORER_REQUIRE_POSTGRES=1 but EXPLORER_TEST_DB_URL names no PostgreSQL server")
        pytest.skip("no PostgreSQL server named (EXPLORER_TEST_DB_URL)")
    wipe(url)
    return url


def wipe(url: str) -> None:
    """An empty database: each test starts from no schema at all, as a fresh server would."""
    engine = room_store._engine(url)
    with engine.begin() as conn:
        room_store.metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS room_schema_version"))
    engine.dispose()
