"""SQLite group commit: concurrent writes share one transaction and one fsync, yet each is
atomic on its own — a write that fails is rolled back alone and only its caller sees the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocpikit.protocol.ports import ObjectKey, SetFields
from ocpikit.storage import SqlStorage, upgrade

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class Boom(Exception):
    pass


async def _grouped(storage: SqlStorage, writes: list[Any]) -> list[Any]:
    """Run ``writes`` as one group: the writer is held busy until they are all queued."""
    import threading

    gate = threading.Event()
    holder = asyncio.ensure_future(storage.objects._db.write(lambda conn: gate.wait(10)))
    await asyncio.sleep(0.05)  # the writer thread is now inside the holder
    tasks = [asyncio.ensure_future(w) for w in writes]
    await asyncio.sleep(0.05)  # every write is queued behind it
    gate.set()
    await holder
    return await asyncio.gather(*tasks, return_exceptions=True)


def _doc(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"S{i}",
        "country_code": "DE",
        "party_id": "CPO",
        "last_updated": "2024-03-01T12:00:00Z",
        **extra,
    }


async def test_a_failing_write_in_a_group_fails_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    try:
        key = ObjectKey("Session", "DE", "CPO", "S0")
        await storage.objects.put(key, _doc(0, kwh=1), last_updated=T0, owner="DE-CPO")

        def explode(current: Any) -> Any:
            # a write that has already changed the row when it fails
            raise Boom("merge failed")

        def bump(current: Any) -> Any:
            return {**current, "kwh": current["kwh"] + 1}

        writes = [
            storage.objects.put(
                ObjectKey("Session", "DE", "CPO", f"S{i}"), _doc(i), last_updated=T0, owner="DE-CPO"
            )
            for i in range(1, 40)
        ]
        writes.insert(10, storage.objects.patch(key, explode))
        writes.insert(20, storage.objects.patch(key, bump))
        results = await _grouped(storage, writes)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1 and isinstance(errors[0], Boom)
        for i in range(1, 40):
            assert await storage.objects.get(ObjectKey("Session", "DE", "CPO", f"S{i}")) is not None
        stored = await storage.objects.get(key)
        assert stored is not None and stored.document["kwh"] == 2
        page = await storage.objects.list_page("Session", offset=0, limit=100, owner="DE-CPO")
        assert page.total == 40  # the counts table agrees with the rows
    finally:
        await storage.aclose()


async def test_a_duplicate_key_error_inside_a_group_keeps_the_others(tmp_path: Path) -> None:
    """An SQL error (not just a Python one) inside one write leaves the group's transaction
    usable for the writes after it."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    db = storage.objects._db  # the internal write path, to force an SQL error in a group
    try:

        def bad(conn: sa.Connection) -> None:
            # writes a whole object (row, counts), then fails: all of it must be undone
            key = ObjectKey("Tariff", "DE", "CPO", "HALF")
            storage.objects._write(conn, key, '{"id": "HALF"}', T0, None, ())
            conn.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")

        writes: list[Any] = [
            storage.objects.put(
                ObjectKey("Tariff", "DE", "CPO", f"T{i}"),
                {"id": f"T{i}"},
                last_updated=T0,
                owner=None,
            )
            for i in range(20)
        ]
        writes.insert(5, db.write(bad))
        results = await _grouped(storage, writes)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert len(failures) == 1 and isinstance(failures[0], sa.exc.OperationalError)
        page = await storage.objects.list_page("Tariff", offset=0, limit=100, owner=None)
        assert page.total == 20 and len(page.items) == 20
        assert await storage.objects.get(ObjectKey("Tariff", "DE", "CPO", "HALF")) is None
    finally:
        await storage.aclose()


@pytest.mark.parametrize("n", [1, 300])
async def test_every_caller_gets_its_own_result(tmp_path: Path, n: int) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    try:
        stored = await asyncio.gather(
            *(
                storage.objects.put(
                    ObjectKey("Location", "NL", "CPO", f"L{i}"),
                    {"id": f"L{i}"},
                    last_updated=T0,
                    owner=None,
                )
                for i in range(n)
            )
        )
        assert [s.key.id for s in stored] == [f"L{i}" for i in range(n)]
        assert all(s.created for s in stored)
    finally:
        await storage.aclose()


async def test_only_groups_of_non_durable_writes_skip_the_fsync(tmp_path: Path) -> None:
    """The exchange log commits with ``synchronous=NORMAL`` (no WAL fsync); any group holding
    a durable write, and every write after, commits with ``FULL``."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    db = storage.objects._db

    def level(conn: sa.Connection) -> int:
        return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())

    try:
        assert await db.write(level, durable=False) == 1  # NORMAL
        assert await db.write(level) == 2  # FULL again
        mixed = await _grouped(storage, [db.write(level, durable=False), db.write(level)])
        assert mixed == [2, 2]  # one durable write makes the whole group durable
        relaxed = await _grouped(storage, [db.write(level, durable=False) for _ in range(3)])
        assert relaxed == [1, 1, 1]
        assert await db.write(level) == 2
    finally:
        await storage.aclose()


async def test_savepoints_only_after_a_write_failed_half_way(tmp_path: Path) -> None:
    """A group of good writes, and one with a write that fails before it changed anything,
    runs without a SAVEPOINT per write; a write that fails after it changed rows makes the
    group run again with them (and its other writes still land, once)."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    db = storage.objects._db
    statements: list[str] = []

    @sa.event.listens_for(db.engines.write, "connect")
    def _trace(dbapi: Any, _record: Any) -> None:
        dbapi.set_trace_callback(statements.append)

    db.engines.write.dispose()  # reconnect with the trace
    try:

        def put(i: int) -> Any:
            key = ObjectKey("Tariff", "DE", "CPO", f"T{i}")
            return storage.objects.put(key, {"id": f"T{i}"}, last_updated=T0, owner=None)

        def refuse(conn: sa.Connection) -> None:
            conn.exec_driver_sql("SELECT 1").fetchall()
            raise Boom("nothing written yet")

        results = await _grouped(storage, [put(i) for i in range(10)] + [db.write(refuse)])
        assert [isinstance(r, Boom) for r in results] == [False] * 10 + [True]
        assert not any("SAVEPOINT" in s for s in statements)

        def half(conn: sa.Connection) -> None:
            key = ObjectKey("Tariff", "DE", "CPO", "HALF")
            storage.objects._write(conn, key, '{"id": "HALF"}', T0, None, ())
            raise Boom("after a write")

        statements.clear()
        results = await _grouped(storage, [put(i) for i in range(10, 20)] + [db.write(half)])
        assert [isinstance(r, Boom) for r in results] == [False] * 10 + [True]
        assert sum(s.startswith("SAVEPOINT") for s in statements) == 11
        assert sum(s.startswith("ROLLBACK TO") for s in statements) == 1
        assert await storage.objects.get(ObjectKey("Tariff", "DE", "CPO", "HALF")) is None
        page = await storage.objects.list_page("Tariff", offset=0, limit=100, owner=None)
        assert page.total == 20 and [o.revision for o in page.items] == [1] * 20
    finally:
        await storage.aclose()


async def test_the_writer_keeps_its_connection_and_replaces_a_broken_one(tmp_path: Path) -> None:
    """Groups share one writer connection (no pool round trip per group); a group whose
    COMMIT fails hands it back and the next group works on a fresh one; close gives it back."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    db = storage.objects._db
    group = db._group
    assert group is not None
    try:
        ids = set()
        for i in range(3):
            await storage.objects.put(
                ObjectKey("Session", "DE", "CPO", f"S{i}"), _doc(i), last_updated=T0, owner="X"
            )
            ids.add(id(group._conn))
        assert len(ids) == 1 and group._conn is not None
        kept = group._conn

        def breaks_the_connection(conn: Any) -> None:
            conn.connection.dbapi_connection.close()  # so the group's COMMIT fails

        with pytest.raises(Exception, match="closed database"):
            await db.write(breaks_the_connection)
        assert group._conn is None and kept.closed
        await storage.objects.put(
            ObjectKey("Session", "DE", "CPO", "S9"), _doc(9), last_updated=T0, owner="X"
        )
        assert group._conn is not None and group._conn is not kept
        assert await storage.objects.get(ObjectKey("Session", "DE", "CPO", "S9")) is not None
        last = group._conn
    finally:
        await storage.aclose()
    assert group._conn is None and last.closed


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[SqlStorage]:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    try:
        yield storage
    finally:
        await storage.aclose()


def _trace_writes(storage: SqlStorage) -> list[str]:
    """Every statement the writer connection runs from now on. SQLite reports each firing of
    a trigger program (the ``cdr_checks`` triggers of migration 0009 run per row) with the text
    of the statement that fired it: such repeats of the statement just reported are left out."""
    import sqlalchemy as sa

    statements: list[str] = []
    engine = storage.objects._db.engines.write

    def record(text: str) -> None:
        if not statements or statements[-1] != text:
            statements.append(text)

    @sa.event.listens_for(engine, "connect")
    def _trace(dbapi: Any, _record: Any) -> None:
        dbapi.set_trace_callback(record)

    group = storage.objects._db._group
    assert group is not None
    group.release()  # the writer reconnects, with the trace
    engine.dispose()
    return statements


def _session_key(i: int) -> ObjectKey:
    return ObjectKey("Session", "DE", "CPO", f"S{i}")


def _put(storage: SqlStorage, i: int, owner: str | None = "DE-CPO", **extra: Any) -> Any:
    return storage.objects.put(_session_key(i), _doc(i, **extra), last_updated=T0, owner=owner)


def test_runs_are_split_into_power_of_two_parts() -> None:
    from ocpikit.storage.sql.batch_parts import power_parts

    sizes = {n: [len(p) for p in power_parts(list(range(n)))] for n in (1, 2, 3, 13, 64, 200)}
    assert sizes == {
        1: [1],
        2: [2],
        3: [2, 1],
        13: [8, 4, 1],
        64: [64],
        200: [64, 64, 64, 8],
    }
    assert list(power_parts([])) == []


async def test_a_run_of_puts_is_written_by_one_statement_per_part(sqlite: SqlStorage) -> None:
    """13 PUTs queued together (5 updates, 8 creations): three upserts (8, 4, 1 rows) and one
    count update, and every caller gets its own object back."""
    storage = sqlite
    for i in range(5):
        await _put(storage, i, kwh=0)
    statements = _trace_writes(storage)
    results = await _grouped(storage, [_put(storage, i, kwh=i) for i in range(13)])
    upserts = [s for s in statements if s.startswith("INSERT INTO ocpi_objects ")]
    assert len(upserts) == 3
    assert [s.count("(SELECT coalesce(max(chg)") for s in upserts] == [8, 4, 1]
    assert sum(s.startswith("INSERT INTO ocpi_object_counts") for s in statements) == 1
    assert [r.key.id for r in results] == [f"S{i}" for i in range(13)]
    assert [r.revision for r in results] == [2] * 5 + [1] * 8
    assert [r.created for r in results] == [False] * 5 + [True] * 8
    for i in range(13):
        stored = await storage.objects.get(_session_key(i))
        assert stored is not None and stored.document["kwh"] == i
    page = await storage.objects.list_page("Session", offset=0, limit=100, owner="DE-CPO")
    assert page.total == 13 and [o.seq for o in page.items] == sorted(r.seq for r in results)


async def test_writes_of_the_same_object_in_a_group_keep_their_order(sqlite: SqlStorage) -> None:
    """A key repeated in a run ends the run: the object sees its writes in the order sent."""
    storage = sqlite
    await _put(storage, 0, kwh=0)
    fields = {"kwh": 5, "last_updated": "2024-03-01T12:05:00Z"}
    later = {**fields, "kwh": 6, "last_updated": "2024-03-01T12:06:00Z"}
    writes = [
        _put(storage, 0, kwh=1),
        _put(storage, 0, kwh=2),
        _put(storage, 1, kwh=1),
        _put(storage, 0, kwh=2.5),
        storage.objects.patch(_session_key(0), SetFields(fields), owner="DE-CPO"),
        storage.objects.patch(_session_key(0), SetFields(later), owner="DE-CPO"),
        _put(storage, 2),
        storage.objects.patch(_session_key(1), SetFields({**fields, "kwh": 7}), owner="DE-CPO"),
        _put(storage, 0, kwh=3),
    ]
    results = await _grouped(storage, writes)
    assert [r.revision for r in results] == [2, 3, 1, 4, 5, 6, 1, 2, 7]
    assert [r.document.get("kwh") for r in results] == [1, 2, 1, 2.5, 5, 6, None, 7, 3]
    stored = await storage.objects.get(_session_key(0))
    assert stored is not None and stored.document["kwh"] == 3 and stored.revision == 7
    stored = await storage.objects.get(_session_key(1))
    assert stored is not None and stored.document["kwh"] == 7


async def test_an_object_of_another_owner_in_a_run_moves_on_its_own(sqlite: SqlStorage) -> None:
    storage = sqlite
    await _put(storage, 2, owner="OTHER")
    results = await _grouped(storage, [_put(storage, i) for i in range(5)])
    assert [r.owner for r in results] == ["DE-CPO"] * 5
    moved = await storage.objects.get(_session_key(2))
    assert moved is not None and moved.owner == "DE-CPO" and moved.revision == 2
    mine = await storage.objects.list_page("Session", offset=0, limit=100, owner="DE-CPO")
    other = await storage.objects.list_page("Session", offset=0, limit=100, owner="OTHER")
    assert (mine.total, len(mine.items), other.total, other.items) == (5, 5, 0, [])


async def test_a_run_of_field_patches_is_one_statement(sqlite: SqlStorage) -> None:
    """PATCHes of plain fields queued together: one UPDATE per part of the run (8, 2); an
    unknown object and one of another owner are left to their own UPDATE, which finds nothing
    (None, as for the same PATCH alone)."""
    storage = sqlite
    for i in range(8):
        await _put(storage, i, kwh=0, status="ACTIVE")
    await _put(storage, 8, owner="OTHER")

    def patch(i: int) -> Any:
        fields = {"kwh": i + 0.5, "last_updated": f"2024-03-01T12:{i:02d}:00Z"}
        return storage.objects.patch(_session_key(i), SetFields(fields), owner="DE-CPO")

    statements = _trace_writes(storage)
    results = await _grouped(storage, [patch(i) for i in range(10)])
    updates = [s for s in statements if s.startswith("UPDATE ocpi_objects ")]
    assert [s.count("'DE-CPO')") for s in updates[:2]] == [8, 2]  # the rows' owner
    assert len(updates) == 2 + 2
    assert results[8] is None and results[9] is None  # another owner's; unknown
    for i in range(8):
        assert results[i].revision == 2
        assert results[i].document == {
            **_doc(i, kwh=i + 0.5, status="ACTIVE"),
            "last_updated": f"2024-03-01T12:{i:02d}:00Z",
        }
        stored = await storage.objects.get(_session_key(i))
        assert stored is not None and stored.raw == results[i].raw
    other = await storage.objects.get(_session_key(8))
    assert other is not None and other.revision == 1 and other.owner == "OTHER"


async def test_a_batch_that_fails_leaves_each_write_to_itself(tmp_path: Path) -> None:
    """A runner that raises before it changed anything: each write of the run runs alone. One
    that raises after it changed rows: the group runs again with a savepoint per write and no
    batches."""
    import sqlalchemy as sa

    from ocpikit.storage.sql.group_commit import Batch

    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    db = storage.objects._db
    calls: list[int] = []

    def early(conn: sa.Connection, items: list[Any]) -> list[Any]:
        calls.append(len(items))
        raise Boom("before any change")

    def late(conn: sa.Connection, items: list[Any]) -> list[Any]:
        calls.append(len(items))
        conn.exec_driver_sql("INSERT INTO ocpi_object_order (kind, epoch) VALUES ('X', 1)")
        raise Boom("after a change")

    def write(runner: Any, i: int) -> Any:
        def alone(conn: sa.Connection) -> int:
            conn.exec_driver_sql(f"INSERT INTO ocpi_object_order (kind, epoch) VALUES ('K{i}', 1)")
            return i

        return db.write(alone, batch=Batch(runner, i, i))

    try:
        statements = _trace_writes(storage)
        assert await _grouped(storage, [write(early, i) for i in range(4)]) == [0, 1, 2, 3]
        assert calls == [4] and not any("SAVEPOINT" in s for s in statements)
        calls.clear()
        assert await _grouped(storage, [write(late, i) for i in range(4, 8)]) == [4, 5, 6, 7]
        assert calls == [4] and sum(s.startswith("SAVEPOINT") for s in statements) == 4

        def kinds(conn: sa.Connection) -> list[str]:
            rows = conn.exec_driver_sql("SELECT kind FROM ocpi_object_order ORDER BY kind")
            return [row[0] for row in rows]

        assert await db.write(kinds) == [f"K{i}" for i in range(8)]  # no 'X': undone
    finally:
        await storage.aclose()


async def test_listings_see_every_object_a_batch_changed(sqlite: SqlStorage) -> None:
    """A batch moves ``chg`` for each object it writes, as single writes do: a listing that
    holds a version's bytes stops serving them for every object of the batch, and only those."""
    from ocpikit.protocol.ports import StoredObject, WireEntry

    storage = sqlite
    for i in range(12):
        await _put(storage, i, kwh=0)
    cold = await storage.objects.list_wire("Session", limit=20, version="2.2.1")
    await storage.objects.store_wire(
        WireEntry(o.key, o.revision, "2.2.1", b"old-%s" % o.key.id.encode())
        for o in cold.items
        if isinstance(o, StoredObject)
    )
    warm = await storage.objects.list_wire("Session", limit=20, version="2.2.1")
    assert all(isinstance(item, bytes) for item in warm.items)

    changed = [1, 2, 3, 5, 8, 9, 11]
    fields = {"kwh": 9, "last_updated": "2024-03-01T12:30:00Z"}
    writes = [_put(storage, i, kwh=1) for i in changed[:4]] + [
        storage.objects.patch(_session_key(i), SetFields(fields), owner="DE-CPO")
        for i in changed[4:]
    ]
    await _grouped(storage, writes)
    after = await storage.objects.list_wire("Session", limit=20, version="2.2.1")
    fresh = {item.key.id for item in after.items if isinstance(item, StoredObject)}
    assert fresh == {f"S{i}" for i in changed}
    assert all(item.revision == 2 for item in after.items if isinstance(item, StoredObject))


async def test_writes_queued_in_one_round_of_the_loop_share_one_group(sqlite: SqlStorage) -> None:
    """The writer starts from the loop's next round: the writes the loop queues in the rest of
    its round (here, every task of one gather) join the first one's group."""
    statements = _trace_writes(sqlite)
    await asyncio.gather(*(_put(sqlite, i) for i in range(12)))
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert len([s for s in statements if s.startswith("INSERT INTO ocpi_objects")]) <= 2


def test_a_write_queued_by_a_loop_that_closed_before_starting_the_writer_is_not_lost(
    tmp_path: Path,
) -> None:
    """A loop that queued the first write of a group and closed before its next round never
    starts the writer: the next write, from another loop, starts it (and both are written)."""
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    first = asyncio.new_event_loop()
    try:
        task = first.create_task(_put(storage, 1))
        first.call_soon(first.stop)  # after the task's first step, before the writer starts
        first.run_forever()
        assert not task.done()
        first.close()

        async def second() -> None:
            await asyncio.wait_for(_put(storage, 2), 10)
            assert await storage.objects.get(_session_key(1)) is not None

        asyncio.run(second())
    finally:
        asyncio.run(storage.aclose())


@pytest.mark.parametrize("close_loop", [False, True])
def test_a_writer_handing_the_next_group_to_a_loop_that_stopped_goes_on(
    tmp_path: Path, close_loop: bool
) -> None:
    """After a commit with more writes queued, the writer hands the next group's start to the
    loop of the results; a loop that stopped (or closed) never starts it, and the writer goes
    on by itself: every queued write is written."""
    import threading

    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    db = storage.objects._db
    gate, inside, written = threading.Event(), threading.Event(), threading.Event()

    def first(conn: sa.Connection) -> None:
        inside.set()
        gate.wait(10)

    def second(conn: sa.Connection) -> None:
        written.set()

    loop = asyncio.new_event_loop()
    try:
        tasks = [loop.create_task(db.write(first))]
        loop.run_until_complete(asyncio.sleep(0.01))  # the writer starts the first group
        assert inside.wait(5)
        tasks.append(loop.create_task(db.write(second)))
        loop.run_until_complete(asyncio.sleep(0))  # queued behind the first group
        assert not any(task.done() for task in tasks)
        if close_loop:
            loop.close()
        gate.set()  # the first group commits; the loop never runs again
        assert written.wait(5)
    finally:
        if not loop.is_closed():
            loop.close()
        asyncio.run(storage.aclose())
