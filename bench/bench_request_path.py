"""The fixed cost of a request: small answers and single-object writes, the platform against a
bare ASGI app serving the same bytes, with the platform's 99th percentile (docs/server.md,
"Performance").

Both run as separate ``uvicorn`` processes on the production stack ``ocpikit serve`` runs
(uvloop's event loop, the httptools parser; one worker each, no access log). The bare app reads
the request body and answers with the platform's own response to one such request,
precomputed: body and headers (``_servers.reply_headers``).

Requests, each from 16 concurrent keep-alive clients (``_servers.http_load``) with a partner's
token:

- ``GET /ocpi/versions`` of a CPO platform (NL-CPO) and ``GET`` of one Location by id
  (OCPI 2.3.0 Sender interface), the CPO holding 200 Locations;
- ``PUT`` of a full Session and ``PATCH`` of three fields into an eMSP platform (NL-MSP),
  SQLite, committed durably before the answer (the WAL fsynced, as in bench_server_push).

Rounds alternate (platform, bare, ...; medians compared, ``_servers.compare``); after them the
platform alone runs once more while each request's time is recorded, and its 99th percentile
is printed. Targets (issue "a lighter request path"): GET /versions and a single Location
>= 40 % of the bare app, Session PUT >= 20 %, PATCH >= 15 %, p99 under 15 ms at 16 clients.
Only the ratios mean something: the machines are noisy.

``--sample-reads N`` runs the CPO with ``[exchange_log] sample_reads = N`` (one successful read
in N logged; docs/operations.md "The traffic log"), ``--reads-only`` skips the eMSP's writes.

Run: ``.venv/bin/python bench/bench_request_path.py [--seconds 2] [--rounds 5]
[--sample-reads 100] [--reads-only]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import (
    compare,
    free_port,
    http_load,
    reply_headers,
    start_bare,
    start_platform,
)
from bench_server_pages import TOKEN as CPO_TOKEN
from bench_server_pages import _fill as fill_cpo
from bench_server_push import BARE, TOKEN, _requests, _sessions, patch_request, put_request
from bench_server_push import _setup as setup_emsp

CLIENTS = 16
LOCATIONS = 200


def _get(path: str) -> Callable[[random.Random], bytes]:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {CPO_TOKEN}\r\n\r\n"
    ).encode()
    return lambda _rng: request


def _p99(port: int, make: Callable[[random.Random], bytes], seconds: float) -> float:
    """The platform's 99th percentile in milliseconds at :data:`CLIENTS` clients."""
    latencies: list[float] = []
    http_load(port, make, CLIENTS, seconds, latencies)
    return statistics.quantiles(latencies, n=100)[98] * 1000


def _measure(
    label: str,
    workdir: Path,
    platform: Any,
    port: int,
    make: Callable[[random.Random], bytes],
    reply: httpx.Response,
    args: argparse.Namespace,
) -> None:
    """One request kind: side by side with a bare app sending ``reply``, then the p99."""
    port_b = free_port()
    bare = start_bare(workdir, BARE, reply.content, port_b, reply_headers(reply.headers))
    try:
        http_load(port, make, CLIENTS, 1.0)  # warm-up
        compare(
            f"{label:<16} {CLIENTS} clients",
            platform.pid,
            bare.pid,
            lambda t: http_load(port, make, CLIENTS, t),
            lambda t: http_load(port_b, make, CLIENTS, t),
            seconds=args.seconds,
            rounds=args.rounds,
        )
        print(f"  {label:<16} p99 {_p99(port, make, args.seconds):5.1f} ms (target < 15 ms)")
    finally:
        bare.terminate()
        bare.wait()


def _cpo_side(workdir: Path, args: argparse.Namespace) -> None:
    if args.sample_reads != 1:  # the platform reads ocpikit.toml from its working directory
        (workdir / "ocpikit.toml").write_text(
            f"[exchange_log]\nsample_reads = {args.sample_reads}\n"
        )
    db_url = f"sqlite:///{workdir / 'cpo.db'}"
    asyncio.run(fill_cpo(db_url, LOCATIONS))  # the locations and the eMSP partner DE-MSP
    port = free_port()
    platform = start_platform(workdir, db_url, port, "NL-CPO:CPO")
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Token {CPO_TOKEN}"}
        with httpx.Client(base_url=base, headers=headers) as http:
            versions = http.get("/ocpi/versions").json()["data"]
            details_url = next(v["url"] for v in versions if v["version"] == "2.3.0")
            details = http.get(details_url).json()["data"]["endpoints"]
            url = next(
                e["url"]
                for e in details
                if e["identifier"] == "locations" and e["role"] == "SENDER"
            )
            location = url.removeprefix(base) + "/LOC00001"
            sampled = f", 1 read in {args.sample_reads} logged" if args.sample_reads != 1 else ""
            print(f"\n{LOCATIONS} locations in a CPO platform, OCPI 2.3.0, SQLite{sampled}")
            for label, path in (("GET /versions", "/ocpi/versions"), ("GET a Location", location)):
                reply = http.get(path)
                assert reply.status_code == 200, reply.text
                _measure(label, workdir, platform, port, _get(path), reply, args)
    finally:
        platform.terminate()
        platform.wait()


def _emsp_side(workdir: Path, args: argparse.Namespace) -> None:
    sessions = _sessions(1000)
    db_url = f"sqlite:///{workdir / 'emsp.db'}"
    asyncio.run(setup_emsp(db_url))
    port = free_port()
    platform = start_platform(workdir, db_url, port, "NL-MSP:EMSP")
    try:
        headers = {"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
            for s in sessions:
                r = http.put(f"/ocpi/2.3.0/emsp/sessions/DE/CPO/{s['id']}", json=s)
                assert r.status_code in (200, 201), r.text
            print(f"\n{len(sessions)} sessions of DE-CPO in an eMSP platform, OCPI 2.3.0, SQLite")
            for label, build in (
                ("Session PUT", put_request(sessions)),
                ("Session PATCH", patch_request(sessions)),
            ):
                method, path, body = build(random.Random(0))
                reply = http.request(method, path, content=body)
                assert reply.status_code == 200, reply.text
                _measure(label, workdir, platform, port, _requests(build), reply, args)
    finally:
        platform.terminate()
        platform.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--sample-reads",
        type=int,
        default=1,
        help="the CPO's [exchange_log] sample_reads (default 1: every read logged)",
    )
    parser.add_argument("--reads-only", action="store_true", help="the CPO's two reads only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cpo_dir, tempfile.TemporaryDirectory() as emsp_dir:
        _cpo_side(Path(cpo_dir), args)
        if not args.reads_only:
            _emsp_side(Path(emsp_dir), args)


if __name__ == "__main__":
    main()
