"""Database fixtures of the storage suite: one suite, three backends (DESIGN §4, §7).

``storage`` is parametrised over ``memory``, ``sqlite`` (a fresh temp file per test, migrated)
and ``postgres``. PostgreSQL comes from ``OCPIKIT_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); the suite works in its own schema,
created for the session and dropped afterwards, so reruns start clean and nothing else in that
database is touched. When the server is not reachable, the PostgreSQL cases are skipped and the
skip reason says where it looked, except under ``CI=true``, where they fail (``tests/pg.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from ocpikit.protocol.ports import Storage
from ocpikit.storage import MemoryStorage, SqlStorage, upgrade
from ocpikit.storage.sql.schema import metadata
from tests.pg import PG_URL, require_postgres


class FakeClock:
    """An injectable clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A migrated, session-private schema in the test database; its URL pins ``search_path``."""
    require_postgres()
    schema = f"ocpikit_storage_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = (
            sa.make_url(PG_URL)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
SQL_BACKENDS = BACKENDS[1:]


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of the requested SQL backend (``request.param``)."""
    backend = request.param
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'ocpikit.db'}"
        upgrade(url)
        return url
    url = request.getfixturevalue("pg_schema_url")
    _truncate_pg(url)
    return str(url)


@pytest.fixture(params=BACKENDS)
async def storage(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Storage]:
    backend = request.param
    if backend == "memory":
        store: Storage = MemoryStorage(clock=clock)
    elif backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'ocpikit.db'}"
        upgrade(url)
        store = SqlStorage.from_url(url, clock=clock, pool_size=4)
    else:
        url = request.getfixturevalue("pg_schema_url")
        _truncate_pg(url)
        store = SqlStorage.from_url(url, clock=clock, pool_size=4)
    try:
        yield store
    finally:
        await store.aclose()
