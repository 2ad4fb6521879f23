"""The SQLite speed tricks against their plain paths: a run of PUTs written by multi-row
upserts (``storage/sql/sqlite_put_batch.py``) and ``SetFields`` PATCHes merged by
``json_patch``, alone or as one ``UPDATE ... FROM (VALUES ...)`` (``sqlite_field_patch.py``),
leave the database and every caller's result exactly as the plain path does: one write at a
time, the document read, merged in Python and written back."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus, SetFields, StoredObject
from ocpikit.storage import SqlStorage, upgrade
from ocpikit.storage.sql.objects_sqlite import SQLITE_UPSERT_SAME_OWNER
from ocpikit.storage.sql.sqlite_field_patch import (
    JSON_PATCH,
    SQLITE_PATCH_FIELDS_OF_OWNER,
    patch_rows,
)
from ocpikit.storage.sql.sqlite_put_batch import upsert_rows

from .test_group_commit import _grouped

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

Open = Callable[[str], Awaitable[SqlStorage]]


@pytest.fixture
async def open_sqlite(tmp_path: Path) -> AsyncIterator[Open]:
    opened: list[SqlStorage] = []

    async def open_(name: str) -> SqlStorage:
        url = f"sqlite:///{tmp_path / name}"
        upgrade(url)
        storage = SqlStorage.from_url(url, pool_size=2)
        opened.append(storage)
        await storage.partners.save(Partner(id="p1", status=PartnerStatus.REGISTERED))
        return storage

    yield open_
    for storage in opened:
        await storage.aclose()


def key(i: int) -> ObjectKey:
    return ObjectKey("Session", "DE", "CPO", f"S{i}")


def doc(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"S{i}",
        "country_code": "DE",
        "party_id": "CPO",
        "kwh": 0,
        "last_updated": "2024-03-01T12:00:00Z",
        **extra,
    }


async def rows(storage: SqlStorage) -> dict[str, list[Any]]:
    """Every row the object writes touch (``chg`` only as "moved past the fill")."""

    def read(conn: Any) -> dict[str, list[Any]]:
        def q(sql: str) -> list[Any]:
            return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]

        return {
            "objects": q(
                "SELECT seq, kind, country_code, party_id, object_id, owner, last_updated, "
                "revision, CAST(document AS BLOB), chg > 20 FROM ocpi_objects ORDER BY seq"
            ),
            "counts": q("SELECT kind, owner_key, n FROM ocpi_object_counts ORDER BY 1, 2"),
            "order": q("SELECT kind, epoch FROM ocpi_object_order ORDER BY 1"),
            "outbox": q(
                "SELECT partner_id, object_id, operation, payload, revision FROM outbox "
                "ORDER BY partner_id, object_id"
            ),
        }

    return await storage.objects._db.read(read)


def outcome(result: Any) -> Any:
    if isinstance(result, StoredObject):
        return (result.key, result.owner, result.raw, result.last_updated, result.seq,
                result.revision)  # fmt: skip
    return result


async def fill(storage: SqlStorage) -> None:
    for i in range(20):
        owner = "OTHER" if i == 3 else "DE-CPO"
        await storage.objects.put(key(i), doc(i, tags=["x"]), last_updated=T0, owner=owner)


def test_the_batched_statements_are_the_single_ones_repeated() -> None:
    returning = " RETURNING seq, revision"
    assert upsert_rows(1) == SQLITE_UPSERT_SAME_OWNER.replace(
        returning, " RETURNING kind, cc_key, pid_key, id_key, seq, revision"
    )
    assert upsert_rows(4).count("(SELECT coalesce(max(chg), 0) + 1") == 4
    assert patch_rows(8).count("(?, ?, ?, ?, ?, ?, ?, ?)") == 8
    assert SQLITE_PATCH_FIELDS_OF_OWNER.count("?") == 8


async def test_a_run_of_puts_stores_what_one_put_at_a_time_stores(open_sqlite: Open) -> None:
    batched, plain = await open_sqlite("batched.db"), await open_sqlite("plain.db")

    def puts(storage: SqlStorage) -> list[Any]:
        writes = [
            storage.objects.put(key(i), doc(i, kwh=i), last_updated=T0, owner="DE-CPO")
            for i in range(0, 30, 2)  # updates, one of another owner (3 is odd: kept), creations
        ]
        writes += [storage.objects.put(key(3), doc(3, kwh=3), last_updated=T0, owner="DE-CPO")]
        writes += [
            storage.objects.put(key(i), doc(i), last_updated=T0, owner=None) for i in (31, 33)
        ]
        return writes

    for storage in (batched, plain):
        await fill(storage)
    together = await _grouped(batched, puts(batched))
    one_by_one = [await write for write in puts(plain)]
    assert [outcome(r) for r in together] == [outcome(r) for r in one_by_one]
    assert await rows(batched) == await rows(plain)


@pytest.mark.skipif(not JSON_PATCH, reason=f"SQLite {sqlite3.sqlite_version} has no json_patch")
async def test_field_patches_in_sql_store_what_the_python_merge_stores(open_sqlite: Open) -> None:
    in_sql, plain = await open_sqlite("in_sql.db"), await open_sqlite("plain.db")
    plain.objects._fields_in_sql = False  # the reference: read, SetFields.apply, write

    def fields(i: int) -> SetFields:
        return SetFields(
            {
                "kwh": i + 0.25,
                "status": 'Zürich "Hbf" \\ ✓',
                "tags": ["a", i],
                "big": 12345678901234567890,
                "new_field": i,
                "last_updated": f"2024-03-01T12:{i % 60:02d}:00.5+01:00",
            }
        )

    def patches(storage: SqlStorage) -> list[Any]:
        run = [storage.objects.patch(key(i), fields(i), owner="DE-CPO") for i in range(12)]
        run.append(storage.objects.patch(key(99), fields(99), owner="DE-CPO"))  # unknown
        run.append(storage.objects.patch(key(5), fields(50), owner="DE-CPO"))  # repeated key
        return run

    for storage in (in_sql, plain):
        await fill(storage)
    together = await _grouped(in_sql, patches(in_sql))
    one_by_one = [await write for write in patches(plain)]
    assert [outcome(r) for r in together] == [outcome(r) for r in one_by_one]
    assert together[3] is None and together[12] is None  # another owner's; unknown

    for storage in (in_sql, plain):  # alone, with the outbox, any owner
        await storage.objects.patch(key(7), fields(70), push_to=["p1"])
        await storage.objects.patch(key(3), fields(30))
    assert await rows(in_sql) == await rows(plain)


async def test_a_single_object_read_in_one_statement_is_the_two_statement_read(
    open_sqlite: Open,
) -> None:
    """``SqliteObjectStatements.get_alone`` (object and cached wire form joined, no
    transaction) against ``get`` (two statements in a read transaction), the reference: a
    missing object, no cached form, a cached form of the current revision, of an older one,
    and of another version."""
    from ocpikit.protocol.ports import WireEntry
    from ocpikit.storage.sql.database import cursor

    storage = await open_sqlite("alone.db")
    for i in range(4):
        await storage.objects.put(key(i), doc(i), last_updated=T0, owner="p1")
    await storage.objects.put(key(1), doc(1, kwh=5), last_updated=T0, owner="p1")  # revision 2
    await storage.objects.store_wire(
        [
            WireEntry(key(0), 1, "2.2.1", b"wire-0"),
            WireEntry(key(1), 1, "2.2.1", b"stale-1"),
            WireEntry(key(2), 1, "2.1.1", b"other-version-2"),
        ]
    )
    statements = storage.objects._sqlite
    assert statements is not None

    def both(conn: Any) -> list[tuple[Any, Any]]:
        found = []
        for k in (key(0), key(1), key(2), key(3), key(9)):
            cur = cursor(conn)
            try:
                (alone,) = statements.get_alone(cur, k, "2.2.1")
            finally:
                cur.close()
            found.append((alone, statements.get(conn, k, "2.2.1")))
        return found

    def fields(o: StoredObject | None) -> Any:
        if o is None:
            return None
        return (o.key, o.owner, o.raw, o.last_updated, o.seq, o.revision, o.wire)

    pairs = await storage.objects._db.read(both)
    assert [fields(alone) for alone, _ in pairs] == [fields(plain) for _, plain in pairs]
    assert [p.wire if p else None for _, p in pairs] == [b"wire-0", None, None, None, None]
    got = await storage.objects.get(key(0), version="2.2.1")  # the path the endpoints take
    assert fields(got) == fields(pairs[0][1])


async def test_log_batches_of_every_size_use_a_few_insert_texts(
    open_sqlite: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exchange log's multi-row INSERTs: batches of 1 to 300 rows arrive whole and in
    order, written by INSERTs of at most nine sizes (powers of two), so the driver's statement
    cache, which keeps each text's prepared program (hundreds of KiB for 200 rows), stays small
    (it held one per batch size and grew by tens of MiB in a hub's long run)."""
    from ocpikit.protocol.ports import Exchange, ExchangeDirection
    from ocpikit.storage.sql import exchange_log as module

    storage = await open_sqlite("log.db")
    sizes: set[int] = set()
    insert = module._sqlite_log_insert

    def counted(rows: int) -> str:
        sizes.add(rows)
        return insert(rows)

    monkeypatch.setattr(module, "_sqlite_log_insert", counted)
    batches = [*range(1, 40), 127, 128, 129, 200, 255, 256, 257, 300]
    n = 0
    for size in batches:
        await storage.exchanges.record(
            [
                Exchange(
                    direction=ExchangeDirection.INBOUND,
                    method="PUT",
                    url=f"https://us/ocpi/x/{n + i}",
                    started_at=T0,
                    status=200,
                )
                for i in range(size)
            ]
        )
        n += size
    assert sizes == {1 << k for k in range(9)}
    logged = await storage.exchanges.recent(limit=n + 1)
    assert [e.url for e in reversed(logged)] == [f"https://us/ocpi/x/{i}" for i in range(n)]


async def test_a_large_log_batch_is_written_in_parts_in_order(
    open_sqlite: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of log rows is written in parts of at most ``_ROWS_PER_WRITE``, each its own
    write (so durable writes queued meanwhile are not held behind the whole batch), the parts
    in order and every row once."""
    from ocpikit.protocol.ports import Exchange, ExchangeDirection
    from ocpikit.storage.sql import exchange_log as module

    storage = await open_sqlite("log.db")
    parts: list[int] = []
    write_rows = module._sqlite_log_rows

    def counted(conn: Any, values: list[tuple[Any, ...]]) -> None:
        parts.append(len(values))
        write_rows(conn, values)

    monkeypatch.setattr(module, "_sqlite_log_rows", counted)
    per_write = module._ROWS_PER_WRITE
    n = 2 * per_write + 88
    await storage.exchanges.record(
        [
            Exchange(
                direction=ExchangeDirection.INBOUND,
                method="GET",
                url=f"https://us/ocpi/y/{i}",
                started_at=T0,
                status=200,
            )
            for i in range(n)
        ]
    )
    assert parts == [per_write, per_write, 88]
    logged = await storage.exchanges.recent(limit=n + 1)
    assert [e.url for e in reversed(logged)] == [f"https://us/ocpi/y/{i}" for i in range(n)]
