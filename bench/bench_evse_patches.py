"""EVSE status changes posted to the backend API and fanned out as EVSE-level PATCHes to 20
registered receiver connections, vs a raw httpx loop of the same PATCHes without the platform.

Processes (loopback): one receiver (a bare ASGI app on the uvicorn stack, ``_servers``) that
serves the 20 connections under ``/r{n}/locations`` and keeps each connection's latest status
per EVSE and the arrival time of every PATCH; one CPO ``ocpikit serve`` (SQLite, its outbox
worker in process) with the 20 connections registered (OCPI 2.2.1, Locations Receiver) and
``--locations`` demo Locations of our own, first pushed whole (PUT) to every connection.

1. raw: the PATCHes the platform would send for ``--changes`` status changes (one per
   connection and change, the same URL and body) sent by an httpx loop (``--concurrency``
   requests in flight, the worker's default); PATCHes/s.
2. platform: ``--changes`` changes posted to ``PATCH /admin/api/locations/{id}/evses/{uid}``
   (8 in flight), round robin over the EVSEs, until every connection holds each EVSE's final
   status; delivered PATCHes/s (counted by the receiver) and the ratio to the raw rate
   (target: >= 50 %), changes/s accepted.
3. latency: changes at half the sustainable change rate for ``--seconds``; per change and
   connection the time from the change being posted to the first PATCH carrying it (or a
   later change of that EVSE: coalesced) arriving; p50/p99/max (target: p99 < 1 s).

Every receiver must end with each EVSE's final status (checked after 2 and 3).

Run: ``.venv/bin/python bench/bench_evse_patches.py [--locations 50] [--changes 1000]``
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import free_port, peak_rss_mb, start_bare, start_platform

CONNECTIONS = 20
ADMIN = {"Authorization": "Bearer bench"}
STATUSES = ("CHARGING", "AVAILABLE", "BLOCKED", "RESERVED")

RECEIVER = """
import sys, time, orjson, uvicorn
state, arrivals, count = {}, [], [0]
ok = orjson.dumps({"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"})
async def body_of(receive):
    chunks, more = [], True
    while more:
        m = await receive()
        chunks.append(m.get("body", b""))
        more = m.get("more_body", False)
    return b"".join(chunks)
async def reply(send, body, status=200):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body, now, path = await body_of(receive), time.time(), scope["path"]
    if path == "/state":
        await reply(send, orjson.dumps({"count": count[0], "state": [[*k, v] for k, v in
                                        state.items()], "arrivals": arrivals}))
        return
    if path == "/reset":
        arrivals.clear(); count[0] = 0  # the statuses stay: the receivers keep them
        await reply(send, ok)
        return
    parts = path.strip("/").split("/")  # r{n}/locations/CC/PID/LOC[/EVSE]
    doc = orjson.loads(body) if body else {}
    count[0] += 1
    if scope["method"] == "PATCH" and len(parts) == 6:
        if "status" in doc:
            state[(parts[0], parts[4], parts[5])] = doc["status"]
        arrivals.append([parts[0], parts[5], doc["last_updated"], now])
    elif scope["method"] == "PUT":
        for evse in doc.get("evses") or []:
            state[(parts[0], parts[4], evse["uid"])] = evse["status"]
    await reply(send, ok)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


async def _setup(db_url: str, receiver: int) -> None:
    from ocpikit.protocol.ports import Endpoint, Partner, PartnerStatus, PartyRole, TokenKind
    from ocpikit.storage.sql import SqlStorage, upgrade

    upgrade(db_url)
    storage = SqlStorage.from_url(db_url)
    try:
        for n in range(CONNECTIONS):
            url = f"http://127.0.0.1:{receiver}/r{n}/locations"
            await storage.partners.save(
                Partner(
                    id=f"R{n:02d}",
                    status=PartnerStatus.REGISTERED,
                    roles=(PartyRole("EMSP", "DE", f"M{n:02d}"),),
                    version="2.2.1",
                    endpoints=(Endpoint("locations", url, "RECEIVER"),),
                    outbound_token=f"bench-token-b-{n:02d}",
                    local_party=("NL", "CPO"),
                ),
                issue=[(f"bench-token-c-{n:02d}", TokenKind.C)],
            )
    finally:
        await storage.aclose()


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Changes:
    """Status changes round robin over the EVSEs, each to another status than the EVSE has
    (so every change is one a receiver sees); remembers each EVSE's last status."""

    def __init__(self, current: dict[tuple[str, str], str]) -> None:
        self.evses = list(current)
        self.turn = itertools.count()
        self.current = current
        self.final: dict[tuple[str, str], str] = {}
        self.sent: list[tuple[str, str, float]] = []  # (uid, last_updated, posted at)

    def next(self) -> tuple[str, str, dict[str, str]]:
        i = next(self.turn)
        loc, uid = self.evses[i % len(self.evses)]
        now = self.current[(loc, uid)]
        status = (
            STATUSES[(STATUSES.index(now) + 1) % len(STATUSES)] if now in STATUSES else STATUSES[0]
        )
        self.current[(loc, uid)] = self.final[(loc, uid)] = status
        return loc, uid, {"status": status, "last_updated": _stamp()}


async def _post(http: httpx.AsyncClient, changes: Changes, loc: str, uid: str, body: Any) -> None:
    changes.sent.append((uid, body["last_updated"], time.time()))
    r = await http.patch(f"/admin/api/locations/{loc}/evses/{uid}", json=body)
    assert r.status_code == 200, r.text


async def _receiver_state(http: httpx.AsyncClient) -> dict[str, Any]:
    return orjson.loads((await http.get("/state")).content)


async def _settled(rx: httpx.AsyncClient, changes: Changes, timeout: float = 60) -> float:
    """Until every connection holds each changed EVSE's final status; when that was seen."""
    want = {
        (f"r{n}", loc, uid): s
        for (loc, uid), s in changes.final.items()
        for n in range(CONNECTIONS)
    }
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = await _receiver_state(rx)
        held = {(c, loc, uid): s for c, loc, uid, s in state["state"]}
        if all(held.get(k) == s for k, s in want.items()):
            return time.time()
        await asyncio.sleep(0.05)
    missing = [(k, s, held.get(k)) for k, s in want.items() if held.get(k) != s]
    raise AssertionError(
        f"the receivers did not get every final status: {len(missing)} missing, e.g. {missing[:3]}"
    )


async def _raw(receiver: int, changes: Changes, count: int, concurrency: int) -> float:
    """PATCHes/s of a plain httpx loop sending what the platform sends for ``count`` changes."""
    jobs = []
    for _ in range(count):
        loc, uid, body = changes.next()
        for n in range(CONNECTIONS):
            jobs.append((f"/r{n}/locations/NL/CPO/{loc}/{uid}", orjson.dumps(body), n))
    queue = iter(jobs)
    headers = {"Content-Type": "application/json"}

    async def lane(http: httpx.AsyncClient) -> None:
        for path, body, n in queue:
            auth = {"Authorization": f"Token bench-token-b-{n:02d}", **headers}
            r = await http.patch(path, content=body, headers=auth)
            assert r.status_code == 200

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{receiver}", limits=limits, timeout=30
    ) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(lane(http) for _ in range(concurrency)))
        return len(jobs) / (time.perf_counter() - t0)


async def _platform(api: httpx.AsyncClient, rx: httpx.AsyncClient, changes: Changes, count: int):
    await rx.post("/reset")
    todo = [changes.next() for _ in range(count)]
    queue = iter(todo)
    t0 = time.time()

    async def lane() -> None:
        for loc, uid, body in queue:
            await _post(api, changes, loc, uid, body)

    await asyncio.gather(*(lane() for _ in range(8)))
    posted = time.time() - t0
    done = await _settled(rx, changes)
    delivered = (await _receiver_state(rx))["count"]
    return delivered / (done - t0), count / posted, count / (done - t0), delivered


async def _latency(
    api: httpx.AsyncClient, rx: httpx.AsyncClient, changes: Changes, rate: float, seconds: float
) -> list[float]:
    await rx.post("/reset")
    changes.sent.clear()
    tasks = []
    t0 = time.monotonic()
    for i in range(int(rate * seconds)):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        loc, uid, body = changes.next()
        tasks.append(asyncio.create_task(_post(api, changes, loc, uid, body)))
    await asyncio.gather(*tasks)
    await _settled(rx, changes)
    arrivals = (await _receiver_state(rx))["arrivals"]
    by_evse: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for conn, uid, stamp, at in arrivals:
        by_evse.setdefault((conn, uid), []).append((stamp, at))
    delays = []
    for uid, stamp, posted in changes.sent:
        for n in range(CONNECTIONS):
            got = [at for s, at in by_evse.get((f"r{n}", uid), []) if s >= stamp]
            assert got, f"change {uid} {stamp} never reached r{n}: {by_evse.get((f'r{n}', uid))}"
            delays.append(min(got) - posted)
    return delays


async def _run(receiver: int, port: int, args: argparse.Namespace, pid: int) -> None:
    from ocpikit.server.demo import demo_locations

    locations = list(demo_locations("NL", "CPO", args.locations))
    evses = {(loc["id"], e["uid"]): e["status"] for loc in locations for e in loc["evses"]}
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=ADMIN, timeout=60) as api,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{receiver}", timeout=60) as rx,
    ):
        for loc in locations:  # new objects: a whole PUT to every connection
            r = await api.put(f"/admin/api/locations/NL/CPO/{loc['id']}", json=loc)
            assert r.status_code in (200, 201), r.text
        deadline = time.monotonic() + 120
        while (await _receiver_state(rx))["count"] < len(locations) * CONNECTIONS:
            assert time.monotonic() < deadline, "the first PUTs did not arrive"
            await asyncio.sleep(0.1)
        print(
            f"\n{len(evses)} EVSEs in {len(locations)} Locations, {CONNECTIONS} receiver "
            f"connections (OCPI 2.2.1), SQLite, {args.changes} status changes"
        )
        await _platform(api, rx, Changes(evses), min(200, args.changes))  # warm-up
        raw = await _raw(receiver, Changes(dict(evses)), args.changes, args.concurrency)
        await rx.post("/reset")
        rate, accepted, sustained, delivered = await _platform(
            api, rx, Changes(evses), args.changes
        )
        print(f"  raw httpx loop:  {raw:7.0f} PATCHes/s")
        print(
            f"  platform:        {rate:7.0f} PATCHes/s delivered ({delivered} PATCHes for "
            f"{args.changes * CONNECTIONS} changes x connections)   ratio {rate / raw:6.1%}   "
            f"(changes accepted {accepted:.0f}/s, end to end {sustained:.0f}/s)"
        )
        print("  every receiver holds each EVSE's final status: yes")
        delays = await _latency(api, rx, Changes(evses), sustained / 2, args.seconds)
        delays.sort()
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
        print(
            f"  latency at {sustained / 2:.0f} changes/s (half the sustainable rate), "
            f"{len(delays)} deliveries: p50 {statistics.median(delays) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms"
        )
        print("  every receiver holds each EVSE's final status: yes")
        print(f"  peak RSS: platform {peak_rss_mb(pid):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--locations", type=int, default=50)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0, help="of the latency run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'bench.db'}"
        receiver, port = free_port(), free_port()
        rx = start_bare(workdir, RECEIVER, b"", receiver)
        try:
            asyncio.run(_setup(db_url, receiver))
            platform = start_platform(workdir, db_url, port, "NL-CPO:CPO")
            try:
                asyncio.run(_run(receiver, port, args, platform.pid))
            finally:
                platform.terminate()
                platform.wait()
        finally:
            rx.terminate()
            rx.wait()


if __name__ == "__main__":
    main()
