"""Serving pages of 100 locations: the platform vs a bare ASGI app, side by side.

Both run as separate ``uvicorn`` processes (the same server stack, one worker each, no access
log). The platform serves ``GET /ocpi/{version}/cpo/locations?offset=R&limit=100`` from a SQLite
file holding N locations (R random); the bare app answers every request with the platform's
response to one such request, precomputed: its body and its headers (request ids, ``Link``,
``X-Total-Count``, ``X-Limit``, routing headers; ``_servers.reply_headers``), so that both
emit the same response bytes. Before the rounds the listing is pulled once, page by page (as a
partner's first full pull does), so that the platform's listing cache is in its steady state.

Load: C concurrent keep-alive clients from this process (``_servers.http_load``: a lean asyncio
client counting the response bytes into a reused buffer, ~55 µs of CPU per page against ~170 µs
with asyncio streams, so that the bare app, not the client, sets the ceiling), in alternating
rounds (platform, bare, platform, ...; ``_servers.compare``). Printed: median requests/s of
each, the ratio (target: >= 40 %) with its range over the rounds, the ratio of server CPU per
request, and the server's peak RSS (VmHWM). Only the ratios mean something: the machines are
noisy.

Run: ``.venv/bin/python bench/bench_server_pages.py [--sizes 10000,100000] [--seconds 2]
[--rounds 5] [--db-dir DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import (
    BARE_HEADERS,
    compare,
    free_port,
    http_load,
    peak_rss_mb,
    reply_headers,
    start_bare,
    start_platform,
)

TOKEN = "bench-token-0123456789"


async def _fill(db_url: str, count: int) -> None:
    from datetime import datetime

    from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus, PartyRole, TokenKind
    from ocpikit.server.demo import demo_locations
    from ocpikit.storage.sql import SqlStorage, upgrade

    upgrade(db_url)
    storage = SqlStorage.from_url(db_url)
    try:
        sem = asyncio.Semaphore(8)

        async def put(doc: dict[str, object]) -> None:
            async with sem:
                stamp = str(doc["last_updated"]).replace("Z", "+00:00")
                await storage.objects.put(
                    ObjectKey("Location", "NL", "CPO", str(doc["id"])),
                    orjson.dumps(doc),
                    last_updated=datetime.fromisoformat(stamp),
                    owner=None,
                )

        batch: list[asyncio.Task[None]] = []
        for doc in demo_locations("NL", "CPO", count):
            batch.append(asyncio.ensure_future(put(doc)))
            if len(batch) >= 512:
                await asyncio.gather(*batch)
                batch = []
        await asyncio.gather(*batch)
        await storage.partners.save(
            Partner(
                id="DE-MSP",
                status=PartnerStatus.REGISTERED,
                roles=(PartyRole("EMSP", "DE", "MSP"),),
                version="2.3.0",
                local_party=("NL", "CPO"),
            ),
            issue=[(TOKEN, TokenKind.C)],
        )
    finally:
        await storage.aclose()


BARE = (
    """
import sys
import uvicorn
body = open(sys.argv[2], "rb").read()
"""
    + BARE_HEADERS
    + """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
)


def _requests(url: str, total: int) -> Callable[[random.Random], bytes]:
    """``GET`` of a page of 100 at a random offset, as request bytes."""
    parts = httpx.URL(url)
    host, path = parts.host, parts.raw_path.decode()

    def make(rng: random.Random) -> bytes:
        offset = rng.randrange(0, max(total - 100, 1))
        return (
            f"GET {path}?offset={offset}&limit=100 HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Token {TOKEN}\r\n\r\n"
        ).encode()

    return make


def _settle(db: Path) -> None:
    """``db`` migrated to the current schema with its WAL folded into the file."""
    from ocpikit.storage.sql import upgrade

    upgrade(f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run(size: int, seconds: float, rounds: int, version: str, db_dir: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db = Path(db_dir) / f"locations-{size}.db" if db_dir else workdir / "filled.db"
        t0 = time.perf_counter()
        if not db.exists():
            db.parent.mkdir(parents=True, exist_ok=True)
            asyncio.run(_fill(f"sqlite:///{db}", size))
        # a kept database from an older schema is migrated once, here, and checkpointed: the
        # platform would otherwise migrate its copy at start and checkpoint the whole table
        # copy during the measured rounds
        _settle(db)
        fill = time.perf_counter() - t0
        # the platform serves a copy: a kept database stays as filled (the exchange log of a
        # run would otherwise grow it from run to run)
        served = workdir / "bench.db"
        shutil.copyfile(db, served)
        db_url = f"sqlite:///{served}"
        port_p, port_b = free_port(), free_port()
        platform = start_platform(workdir, db_url, port_p, "NL-CPO:CPO")
        url_p = f"http://127.0.0.1:{port_p}/ocpi/{version}/cpo/locations"
        try:
            page = httpx.get(
                url_p,
                params={"offset": 0, "limit": 100},
                headers={"Authorization": f"Token {TOKEN}"},
            )
            assert page.status_code == 200, page.text
            bare = start_bare(workdir, BARE, page.content, port_b, reply_headers(page.headers))
            url_b = f"http://127.0.0.1:{port_b}/page"
            try:
                print(
                    f"\n{size} locations (filled in {fill:.1f}s), OCPI {version}, "
                    f"page of 100 = {len(page.content) / 1024:.0f} KiB"
                )
                make_p, make_b = _requests(url_p, size), _requests(url_b, size)
                # the steady state of a serving platform: the listing has been pulled whole
                # (as a partner's first full pull does), so the cache holds what a page reads
                with httpx.Client(headers={"Authorization": f"Token {TOKEN}"}) as warm:
                    for offset in range(0, size, 100):
                        warm.get(url_p, params={"offset": offset, "limit": 100})
                for clients in (16, 64):
                    http_load(port_p, make_p, clients, 1.0)  # warm-up
                    compare(
                        f"{clients:>2} clients",
                        platform.pid,
                        bare.pid,
                        lambda t, c=clients: http_load(port_p, make_p, c, t),
                        lambda t, c=clients: http_load(port_b, make_b, c, t),
                        seconds=seconds,
                        rounds=rounds,
                    )
                print(
                    f"  peak RSS: platform {peak_rss_mb(platform.pid):.0f} MB, "
                    f"bare {peak_rss_mb(bare.pid):.0f} MB"
                )
            finally:
                bare.terminate()
                bare.wait()
        finally:
            platform.terminate()
            platform.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--version", default="2.3.0")
    parser.add_argument(
        "--db-dir", help="keep the filled databases here and reuse them (filling takes minutes)"
    )
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.seconds, args.rounds, args.version, args.db_dir)


if __name__ == "__main__":
    main()
