"""The peer room's two databases for tests: an SQLite file per test, and a real PostgreSQL server.

PostgreSQL is named by EXPLORER_TEST_DB_URL (``.ci/run`` starts Debian's server and sets it). Without it the
PostgreSQL cases skip, unless EXPLORER_REQUIRE_POSTGRES=1 (CI) turns the skip into a failure. Each test gets a
schema of its own on that server (the suite's two workers share it), empty as a fresh server's.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

BACKENDS = ["sqlite", "postgresql"]


def database_url(backend: str, tmp_path, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'room.db'}"
    url = os.environ.get("EXPLORER_TEST_DB_URL")
    if not url:
        if os.environ.get("EXPLORER_REQUIRE_POSTGRES") == "1":
            pytest.fail("EXPLORER_REQUIRE_POSTGRES=1 but EXPLORER_TEST_DB_URL names no PostgreSQL server")
        pytest.skip("no PostgreSQL server named (EXPLORER_TEST_DB_URL)")
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    request.addfinalizer(drop)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
