"""Unregistering or rotating a token takes effect at once in every process: two stores on the
same database stand for two processes (a running ``serve`` and ``ocpikit partners unregister``,
or two servers); the second changes the credentials and the first one's very next request is
refused, on SQLite and on PostgreSQL (``server.auth``, ``storage.sql.credentials_changes``)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ocpikit.core.errors import Unauthorized
from ocpikit.operations.partners import unregister
from ocpikit.protocol.ports import Partner, PartnerStatus, TokenKind
from ocpikit.server.auth import AuthCache
from ocpikit.storage import SqlStorage, upgrade
from ocpikit.storage.sql import credentials_changes
from ocpikit.storage.sql.credentials_changes import NotificationCount, SignalFile
from tests.storage.conftest import _truncate_pg

pytestmark = pytest.mark.anyio

PARTNER = Partner(id="DE-MSP", status=PartnerStatus.REGISTERED, local_party=("NL", "CPO"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def two_stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[SqlStorage, SqlStorage]]:
    """Two stores on one migrated database holding the registered partner DE-MSP (token C
    ``token-c``)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ocpikit.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("pg_schema_url")
        _truncate_pg(url)
    first = SqlStorage.from_url(url, pool_size=2)
    second = SqlStorage.from_url(url, pool_size=2)
    try:
        await second.partners.save(PARTNER, issue=[("token-c", TokenKind.C)])
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


async def _heard(store: SqlStorage, before: object) -> None:
    """PostgreSQL: wait (at most 5 s) until the store's listener has heard of a change; the
    notification leaves the database at commit and arrives a moment later (SQLite: at once)."""
    changes = store.credentials_changes
    if not isinstance(changes, NotificationCount):
        return
    deadline = time.monotonic() + 5
    while await changes.mark() == before and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def _cached(cache: AuthCache, header: str) -> object:
    """Authenticate twice: the second answer comes from the cache. Returns the mark."""
    first = await cache.authenticate(header)
    if isinstance(cache.changes, NotificationCount):  # the listener is up before we go on
        deadline = time.monotonic() + 5
        while (await cache.changes.mark())[0] != "heard" and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        # a notification of the fixture's own writes may still be on its way (a loaded
        # machine): go on once the mark has held still for 0.2 s
        settled = await cache.changes.mark()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            now = await cache.changes.mark()
            if now == settled:
                break
            settled = now
        first = await cache.authenticate(header)
    assert await cache.authenticate(header) is first
    return await cache.changes.mark()


async def test_unregistering_in_another_process_refuses_the_very_next_request(
    two_stores: tuple[SqlStorage, SqlStorage],
) -> None:
    serving, cli = two_stores
    cache = AuthCache(serving)
    mark = await _cached(cache, "Token token-c")
    assert await unregister(cli, "DE-MSP")
    await _heard(serving, mark)
    with pytest.raises(Unauthorized):
        await cache.authenticate("Token token-c")


async def test_rotating_in_another_process_refuses_the_old_token_and_takes_the_new(
    two_stores: tuple[SqlStorage, SqlStorage],
) -> None:
    serving, other = two_stores
    cache = AuthCache(serving)
    mark = await _cached(cache, "Token token-c")
    await other.partners.save(PARTNER, issue=[("token-c2", TokenKind.C)], revoke=["token-c"])
    await _heard(serving, mark)
    with pytest.raises(Unauthorized):
        await cache.authenticate("Token token-c")
    assert (await cache.authenticate("Token token-c2")).partner is not None


async def test_the_mark_stays_while_nothing_changes_and_moves_on_any_credentials_change(
    two_stores: tuple[SqlStorage, SqlStorage],
) -> None:
    serving, other = two_stores
    cache = AuthCache(serving)
    mark = await _cached(cache, "Token token-c")
    assert await serving.credentials_changes.mark() == mark
    await other.facts.set("base_url", "http://elsewhere")  # not credentials
    await asyncio.sleep(0.05)
    assert await serving.credentials_changes.mark() == mark
    await other.tokens.issue("token-a", TokenKind.A, local_party=("NL", "CPO"))
    await _heard(serving, mark)
    assert await serving.credentials_changes.mark() != mark


@pytest.mark.postgres
async def test_postgres_without_its_listener_reads_the_generation(
    pg_schema_url: str,
) -> None:
    _truncate_pg(pg_schema_url)
    serving = SqlStorage.from_url(pg_schema_url, pool_size=2)
    other = SqlStorage.from_url(pg_schema_url, pool_size=2)
    # a listener that can never connect: every mark is a read of the generation
    serving._credentials_changes = NotificationCount(
        serving._db, "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    )
    try:
        await other.partners.save(PARTNER, issue=[("token-c", TokenKind.C)])
        cache = AuthCache(serving)
        first = await cache.authenticate("Token token-c")
        assert await cache.authenticate("Token token-c") is first
        assert (await serving.credentials_changes.mark())[0] == "read"
        assert await unregister(other, "DE-MSP")
        with pytest.raises(Unauthorized):  # no waiting: the read sees the commit
            await cache.authenticate("Token token-c")
    finally:
        await serving.aclose()
        await other.aclose()


async def test_sqlite_reads_the_generation_only_when_the_signal_file_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'ocpikit.db'}"
    upgrade(url)
    serving, other = SqlStorage.from_url(url, pool_size=2), SqlStorage.from_url(url, pool_size=2)
    try:
        await other.partners.save(PARTNER, issue=[("token-c", TokenKind.C)])
        changes = serving.credentials_changes
        assert isinstance(changes, SignalFile)
        reads = 0
        read = serving._db.read

        async def counted(fn: Any, **kw: Any) -> Any:
            nonlocal reads
            reads += 1
            return await read(fn, **kw)

        monkeypatch.setattr(serving._db, "read", counted)
        mark = await changes.mark()
        assert reads == 1
        for _ in range(100):
            assert await changes.mark() == mark
        assert reads == 1  # the fast path: the mapped file's bytes, no system call
        await other.tokens.revoke("token-c")  # touches the file
        assert await changes.mark() != mark
        assert reads == 2
    finally:
        await serving.aclose()
        await other.aclose()


@pytest.mark.parametrize("two_stores", ["sqlite"], indirect=True)
async def test_sqlite_sees_a_change_that_did_not_touch_the_file_within_the_reread_time(
    two_stores: tuple[SqlStorage, SqlStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    serving, _other = two_stores
    changes = serving.credentials_changes
    assert isinstance(changes, SignalFile)
    monkeypatch.setattr(credentials_changes, "REREAD_SECONDS", 0.2)
    cache = AuthCache(serving)
    await _cached(cache, "Token token-c")
    by_hand = sqlite3.connect(changes.path.removesuffix("-credentials"))  # no touch
    with by_hand:
        by_hand.execute("UPDATE credentials_tokens SET revoked_at = '2020-01-01T00:00:00.000000Z'")
    by_hand.close()
    await asyncio.sleep(0.25)
    with pytest.raises(Unauthorized):
        await cache.authenticate("Token token-c")
