"""What the traffic log costs: bytes stored per request, and the request's time with the log on
and off, in one run (docs/operations.md "The traffic log").

Set-up: two in-process platforms (ASGI, no sockets), each on a SQLite file: a CPO with the
demo's 300 locations and an eMSP, the eMSP's partner row and token C written straight into the
CPO's storage (no handshake). Measured, per policy (``[exchange_log] bodies = "failures"``, the
default, and ``"all"``):

- bytes: ``GET /ocpi/2.2.1/cpo/locations?limit=100`` and ``PUT .../emsp/sessions/{id}`` N times
  each, then the log's rows measured as :func:`ocpikit.protocol.exchanges.stored_size` counts
  them (what ``[exchange_log] max_mb`` caps) and as the growth of the database file per
  request, WAL checkpointed, indexes included, over a second round of the same requests (the
  PUTs then rewrite their sessions in place, so the growth is the log's). Target: at most 512
  bytes a request with the default policy;
- time: the same requests with the log on and with it off (``create_app(log_exchanges=...)``),
  in alternating rounds; the medians and their ratio (the log is written by a background task,
  so the request should not see it).

Run: ``PYTHONPATH=$PWD/src .venv/bin/python bench/bench_exchange_log.py [--n 500]``
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from ocpikit.core.versions import V2_2_1, Role
from ocpikit.operations.exchange_log import LogPolicy
from ocpikit.protocol.exchanges import stored_size
from ocpikit.protocol.ports import Partner, PartnerStatus, PartyRole, TokenKind
from ocpikit.server.app import create_app, platform_of
from ocpikit.server.demo import load_demo
from ocpikit.server.settings import Limits, PartyConfig, Settings
from ocpikit.storage import SqlStorage, upgrade

TOKEN = "bench-token-c"
SESSION: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "CPO",
    "start_date_time": "2026-01-01T10:00:00Z",
    "kwh": 4.5,
    "cdr_token": {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": "10000000",
        "type": "RFID",
        "contract_id": "DE-MSP-C1",
    },
    "auth_method": "WHITELIST",
    "location_id": "LOC00001",
    "evse_uid": "LOC00001-E1",
    "connector_id": "1",
    "currency": "EUR",
    "status": "ACTIVE",
    "last_updated": "2026-01-01T10:00:00Z",
}


def _settings(cc: str, pid: str, role: Role) -> Settings:
    return Settings(
        parties=(PartyConfig(cc, pid, (role,), "bench", versions=(V2_2_1,)),),
        base_url="http://bench.test",
        database_url="sqlite://",
        admin_token="bench-admin",
        limits=Limits(requests_per_second=0),
    )


async def _node(db: Path, role: Role, caller: tuple[str, str, str]) -> tuple[SqlStorage, Any]:
    url = f"sqlite:///{db}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    cc, pid = ("NL", "CPO") if role is Role.CPO else ("DE", "MSP")
    if role is Role.CPO:
        await load_demo(storage, [(cc, pid, ("CPO",))], locations=300)
    partner = Partner(
        id=caller[0],
        status=PartnerStatus.REGISTERED,
        roles=(PartyRole(caller[2], caller[0][:2], caller[0][3:]),),
        version="2.2.1",
        local_party=(cc, pid),
    )
    await storage.partners.save(partner, issue=[(TOKEN, TokenKind.C)])
    return storage, _settings(cc, pid, role)


async def _requests(app: Any, n: int, kind: str) -> list[float]:
    """``n`` requests of ``kind`` (page or put); the time of each, seconds."""
    times: list[float] = []
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Token {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as http:
        for i in range(n):
            t0 = time.perf_counter()
            if kind == "page":
                r = await http.get(
                    f"/ocpi/2.2.1/cpo/locations?limit=100&offset={i % 3 * 100}", headers=headers
                )
            else:
                sid = f"B{i:06d}"
                r = await http.put(
                    f"/ocpi/2.2.1/emsp/sessions/NL/CPO/{sid}",
                    json={**SESSION, "id": sid},
                    headers=headers,
                )
            times.append(time.perf_counter() - t0)
            assert r.status_code in (200, 201), r.text
    return times


def _file_size(db: Path) -> int:
    """The database file's size once the WAL is written into it (what the disk holds)."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.stat().st_size


async def _bytes(storage: SqlStorage, db: Path, app: Any, n: int, kind: str) -> tuple[float, float]:
    await platform_of(app).exchange_log.flush()
    before_rows = await storage.exchanges.recent(limit=1)
    first = (before_rows[0].id or 0) if before_rows else 0
    await _requests(app, n, kind)  # objects first: the file's growth below is the log's alone
    await platform_of(app).exchange_log.flush()
    size_before = _file_size(db)
    await _requests(app, n, kind)
    await platform_of(app).exchange_log.flush()
    grew = (_file_size(db) - size_before) / n
    rows = [e for e in await storage.exchanges.recent(limit=2 * n + 10) if (e.id or 0) > first]
    return sum(stored_size(e) for e in rows) / max(1, len(rows)), grew


async def main(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cpo_db, emsp_db = Path(tmp, "cpo.db"), Path(tmp, "emsp.db")
        cpo, cpo_settings = await _node(cpo_db, Role.CPO, ("DE-MSP", "", "EMSP"))
        emsp, emsp_settings = await _node(emsp_db, Role.EMSP, ("NL-CPO", "", "CPO"))
        print(f"traffic log per request ({n} requests of each kind, SQLite)")
        for policy in ("failures", "all"):
            for storage, settings, db, kind in (
                (cpo, cpo_settings, cpo_db, "page"),
                (emsp, emsp_settings, emsp_db, "put"),
            ):
                app = create_app(settings, storage)
                platform_of(app).exchange_log.policy = LogPolicy(bodies=policy)
                stored, grew = await _bytes(storage, db, app, n, kind)
                print(
                    f"  bodies={policy:8s} {kind:4s}: {stored:7.0f} bytes stored a request "
                    f"(file +{grew:7.0f} bytes a request)"
                )
        on: list[float] = []
        off: list[float] = []
        for _ in range(rounds):
            for enabled, into in ((True, on), (False, off)):
                app = create_app(cpo_settings, cpo, log_exchanges=enabled)
                into.append(statistics.median(await _requests(app, n // 2, "page")))
                await platform_of(app).exchange_log.close()
        m_on, m_off = statistics.median(on) * 1e6, statistics.median(off) * 1e6
        print(
            f"page request with the log on {m_on:.0f} µs, off {m_off:.0f} µs: "
            f"ratio {m_on / m_off:.2f} (medians of {rounds} rounds)"
        )
        await cpo.aclose()
        await emsp.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds))
