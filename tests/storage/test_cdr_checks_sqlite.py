"""The SQLite statements of a run of CDR checks (``storage/sql/cdr_checks_sqlite.py``) against
the SQLAlchemy constructs they stand for: two databases given the same writes, one run through
each, answer the same checks and end with the same rows (claims and their leases, stored
outcomes, a CDR written again while checked left pending, an unverifiable check whose tariff
arrived meanwhile put back to pending, the checks of each session)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ocpikit.protocol.cdr_checks import CdrCheck, CheckOutcome, Verdict
from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus
from ocpikit.storage import SqlStorage, upgrade
from ocpikit.storage.sql.cdr_checks import SqlCdrChecks

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class _Constructs:
    """The storage's database under another dialect name: :class:`SqlCdrChecks` then takes
    its SQLAlchemy constructs (the reference), on the same SQLite connection."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self.clock: Callable[[], datetime] = db.clock
        self.dialect = "sqlite-constructs"

    async def read(self, fn: Any, *, scan: bool = False) -> Any:
        return await self._db.read(fn, scan=scan)

    async def write(self, fn: Any) -> Any:
        return await self._db.write(fn)


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


Pair = tuple[SqlStorage, SqlCdrChecks, Path, _Clock]


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[list[Pair]]:
    out: list[Pair] = []
    for name, fast in (("fast.db", True), ("constructs.db", False)):
        path = tmp_path / name
        upgrade(f"sqlite:///{path}")
        clock = _Clock()
        storage = SqlStorage.from_url(f"sqlite:///{path}", clock=clock, pool_size=2)
        checks = storage.cdr_checks if fast else SqlCdrChecks(_Constructs(storage._db))
        assert isinstance(checks, SqlCdrChecks)
        out.append((storage, checks, path, clock))
    yield out
    for storage, *_ in out:
        await storage.aclose()


def _doc(key: ObjectKey, **extra: Any) -> dict[str, Any]:
    return {
        "country_code": key.country_code,
        "party_id": key.party_id,
        "id": key.id,
        "last_updated": "2024-01-01T00:00:00Z",
        **extra,
    }


async def _put(storage: SqlStorage, owner: str, cid: str) -> None:
    key = ObjectKey("CDR", "NL", "CPO" if owner == "p1" else "CPX", cid)
    await storage.objects.put(key, _doc(key), last_updated=T0, owner=owner)


def _same(checks: list[CdrCheck]) -> list[CdrCheck]:
    """The checks without the time the trigger queued them (the database's own clock)."""
    return [replace(c, queued_at=T0) for c in checks]


def _rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT object_seq, owner, revision, state, checked_at, session_key, verdict, "
            "result, resolution, note, resolved_at, lease_until, tariff_changed "
            "FROM cdr_checks ORDER BY object_seq"
        ).fetchall()


async def test_the_sqlite_statements_do_what_the_constructs_do(pair: list[Pair]) -> None:
    answers: list[list[Any]] = [[], []]
    for (storage, checks, _path, clock), seen in zip(pair, answers, strict=True):
        for pid in ("p1", "p2"):
            await storage.partners.save(Partner(id=pid, status=PartnerStatus.REGISTERED))
        for owner, cid in [("p2", "D1")] + [("p1", f"C{i}") for i in range(6)] + [("p2", "D2")]:
            await _put(storage, owner, cid)
        first = await checks.claim(limit=3, lease=60)  # D1, C0, C1
        second = await checks.claim(limit=3, lease=60)  # the next three: C2, C3, C4
        seen.extend([_same(first), _same(second)])
        clock.now = T0 + timedelta(seconds=61)  # the first leases ran out
        await _put(storage, "p1", "C1")  # written again while checked: stays pending
        tariff = ObjectKey("Tariff", "NL", "CPO", "T1")  # arrives while C2 is checked
        await storage.objects.put(tariff, _doc(tariff), last_updated=T0, owner="p1")
        unverifiable = CheckOutcome(Verdict.UNVERIFIABLE, ["tariff_missing"], {}, "S1")
        outcomes = [
            (first[0], replace(unverifiable, session_id=None)),  # no tariff since: done
            (first[1], CheckOutcome(Verdict.OK, [], {}, "S1", {"breakdown": {"a": [1, 2.5]}})),
            (first[2], CheckOutcome(Verdict.DISPUTED, ["cost"], {}, "s1")),
            (second[0], unverifiable),  # its tariff arrived meanwhile: pending again
            (second[1], CheckOutcome(Verdict.DISPUTED, ["cost"], {}, "s1").packed()),
        ]
        seen.append(await checks.finish_many(outcomes))
        seen.append(_same(await checks.claim(limit=10, lease=60)))
        seen.append({k: _same(v) for k, v in (await checks.with_sessions([("p1", "S1")])).items()})
        seen.append(await checks.with_sessions([("p2", "S1"), ("p1", "s9")]))
    assert answers[0] == answers[1]
    assert answers[0][2] == [True, True, False, True, True]  # C1 was written again
    assert [c.cdr_id for c in answers[0][4][("p1", "S1")]] == ["C0", "C2", "C3"]
    assert _rows(pair[0][2]) == _rows(pair[1][2])
    states = [r[3] for r in _rows(pair[0][2])]
    assert states.count("done") == 3  # D1, C0, C3; C2 went back to pending
