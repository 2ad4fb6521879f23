"""Sessions pushed into the eMSP receiver (PUT and PATCH): the platform vs a bare ASGI app.

Both run as separate ``uvicorn`` processes (the same server stack as bench_server_pages: one
worker each, no access log). The platform is an eMSP (``NL-MSP``) with a registered CPO
partner (``DE-CPO``, OCPI 2.3.0) and a SQLite database; every request is validated against the
version's Session model, converted, stored and committed durably before the answer (the
writer connection runs ``synchronous=FULL``: the WAL is fsynced at each commit). The bare app
reads the request body and answers with the platform's own response, precomputed: body and
headers (``_servers.reply_headers``).

Load: C concurrent keep-alive clients (16, 64; ``_servers.http_load``) for a fixed time, in
alternating rounds
(platform, bare, ...; medians compared, see ``_servers.compare``), each sending

- ``PUT /ocpi/2.3.0/emsp/sessions/DE/CPO/{id}`` with a full Session (a fresh ``last_updated``),
- ``PATCH`` of the same URL with ``kwh``, ``status`` and ``last_updated``,

over a pool of sessions created beforehand. Printed: requests/s of each, the ratio (target:
>= 25 %), and the server's peak RSS. Only the ratios mean something: the machines are noisy.

Run: ``.venv/bin/python bench/bench_server_push.py [--sessions 1000] [--seconds 2] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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

TOKEN = "bench-push-token-0123456789"
PATH = "/ocpi/2.3.0/emsp/sessions/DE/CPO"


def _sessions(count: int) -> list[dict[str, Any]]:
    from ocpikit.server.demo import demo_sessions_and_cdrs

    sessions, _cdrs = demo_sessions_and_cdrs("DE", "CPO", count)
    for n, s in enumerate(sessions):
        s["id"] = f"S{n:06d}"
    return sessions


async def _setup(db_url: str) -> None:
    from ocpikit.protocol.ports import Partner, PartnerStatus, PartyRole, TokenKind
    from ocpikit.storage.sql import SqlStorage, upgrade

    upgrade(db_url)
    storage = SqlStorage.from_url(db_url)
    try:
        await storage.partners.save(
            Partner(
                id="DE-CPO",
                status=PartnerStatus.REGISTERED,
                roles=(PartyRole("CPO", "DE", "CPO"),),
                version="2.3.0",
                local_party=("NL", "MSP"),
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
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
)


def _stamp(rng: random.Random) -> str:
    t = time.time() + rng.random()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def put_request(
    sessions: list[dict[str, Any]],
) -> Callable[[random.Random], tuple[str, str, bytes]]:
    def build(rng: random.Random) -> tuple[str, str, bytes]:
        s = dict(rng.choice(sessions))
        s["last_updated"] = _stamp(rng)
        return "PUT", f"{PATH}/{s['id']}", orjson.dumps(s)

    return build


def patch_request(
    sessions: list[dict[str, Any]],
) -> Callable[[random.Random], tuple[str, str, bytes]]:
    def build(rng: random.Random) -> tuple[str, str, bytes]:
        s = rng.choice(sessions)
        body = {
            "kwh": round(rng.uniform(1, 60), 2),
            "status": "ACTIVE",
            "last_updated": _stamp(rng),
        }
        return "PATCH", f"{PATH}/{s['id']}", orjson.dumps(body)

    return build


def _requests(
    build: Callable[[random.Random], tuple[str, str, bytes]],
) -> Callable[[random.Random], bytes]:
    """``build``'s requests as request bytes."""

    def make(rng: random.Random) -> bytes:
        method, path, body = build(rng)
        return (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Token {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    return make


def run(count: int, seconds: float, rounds: int) -> None:
    sessions = _sessions(count)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'bench.db'}"
        asyncio.run(_setup(db_url))
        port_p, port_b = free_port(), free_port()
        platform = start_platform(workdir, db_url, port_p, "NL-MSP:EMSP")
        try:
            headers = {"Authorization": f"Token {TOKEN}"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port_p}", headers=headers) as http:
                for s in sessions:  # the pool: every session exists before the load
                    r = http.put(f"{PATH}/{s['id']}", json=s)
                    assert r.status_code in (200, 201), r.text
                _method, path, body = put_request(sessions)(random.Random(0))
                reply = http.put(path, content=body, headers={"Content-Type": "application/json"})
                assert reply.status_code == 200, reply.text
            bare = start_bare(workdir, BARE, reply.content, port_b, reply_headers(reply.headers))
            try:
                print(f"\n{count} sessions of DE-CPO in an eMSP platform, OCPI 2.3.0, SQLite")
                for name, build in (
                    ("PUT", put_request(sessions)),
                    ("PATCH", patch_request(sessions)),
                ):
                    make = _requests(build)
                    for clients in (16, 64):
                        http_load(port_p, make, clients, 1.0)  # warm-up
                        compare(
                            f"{name:<5} {clients:>2} clients",
                            platform.pid,
                            bare.pid,
                            lambda t, m=make, c=clients: http_load(port_p, m, c, t),
                            lambda t, m=make, c=clients: http_load(port_b, m, c, t),
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
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    run(args.sessions, args.seconds, args.rounds)


if __name__ == "__main__":
    main()
