"""PostgreSQL against SQLite, in one run, on the production stack (``ocpikit serve``).

Three comparisons, each measured in alternating rounds (one stretch of load on each target in
turn, medians compared: the shared machine's speed drifts over a run):

- **pages**: ``GET /ocpi/2.3.0/cpo/locations?offset=R&limit=100`` (R random) from a CPO holding
  N locations, served by ``ocpikit serve`` on SQLite, on PostgreSQL, and by
  ``ocpikit serve --workers 2`` on the same PostgreSQL database (and, for reference, on the
  same SQLite file: what two processes gain on this machine at all). Before the rounds each
  target pulls the listing whole, page by page (a partner's first full pull: the listing
  cache's steady state). Targets: PostgreSQL >= 50 % of SQLite; two processes >= 1.4x one.
- **Session PUT** and **PATCH** into an eMSP (a full Session with a fresh ``last_updated``;
  ``kwh``, ``status`` and ``last_updated``), over a pool of sessions created beforehand, on
  SQLite and on PostgreSQL. Target: PostgreSQL >= 50 % of SQLite, each.

Every target runs on the same machine as the PostgreSQL server and the load client
(``_servers.http_load``, C keep-alive connections from this process): on two cores the client
and the database take their share, so "two processes" may be limited by cores; the platform's
CPU per request (all its processes), the PostgreSQL server's CPU per request (its processes
serve every database on it: other users' load shows up there too, also beside SQLite) and the
machine's busy share are printed beside the rates.

PostgreSQL: ``--pg-url`` names the server (default ``postgresql://127.0.0.1:5432/test``); the
bench creates databases of its own there (``ocpikit_bench_<random>``) and drops them at the
end, so nothing in the named database is touched.

Run: ``.venv/bin/python bench/bench_postgres.py [--locations 10000] [--sessions 1000]
[--clients 16,64] [--seconds 2] [--rounds 5] [--only pages|push]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_server_pages as pages
import bench_server_push as push
from _servers import cpu_seconds, free_port, http_load, process_tree, start_platform


@dataclass
class Target:
    """One platform under load: its label, the root of its processes and its port."""

    label: str
    proc: subprocess.Popen[bytes]
    port: int
    rates: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    db: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _postgres_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL server's processes (all of its databases:
    other users of the server count too)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            total += cpu_seconds(int(stat.parent.name))
    return total


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores so far."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _measure(
    targets: list[Target],
    make: Callable[[int], Callable[..., bytes]],
    clients: int,
    seconds: float,
    rounds: int,
) -> None:
    """``rounds`` alternating stretches of load on each target; appends each stretch's rate,
    the platform's CPU per request (µs, every process of it), the PostgreSQL server's and the
    machine's busy share."""
    for t in targets:
        t.rates.clear()
        t.cpus.clear()
        t.db.clear()
        t.busy.clear()
        http_load(t.port, make(t.port), clients, 1.0)  # warm-up
    for _ in range(rounds):
        for t in targets:
            pids = process_tree(t.proc.pid)
            c0 = sum(cpu_seconds(p) for p in pids)
            d0 = _postgres_cpu()
            b0, a0 = _machine_busy()
            rate = http_load(t.port, make(t.port), clients, seconds)
            b1, a1 = _machine_busy()
            t.rates.append(rate)
            t.cpus.append((sum(cpu_seconds(p) for p in pids) - c0) / (rate * seconds) * 1e6)
            t.db.append((_postgres_cpu() - d0) / (rate * seconds) * 1e6)
            t.busy.append((b1 - b0) / max(a1 - a0, 1))


def _line(t: Target) -> str:
    return (
        f"    {t.label:<24} {statistics.median(t.rates):7.0f} req/s  "
        f"{statistics.median(t.cpus):5.0f} µs CPU/req (PostgreSQL server "
        f"{statistics.median(t.db):4.0f})  machine {statistics.median(t.busy):4.0%} busy"
    )


def _ratio(label: str, a: Target, b: Target, target: str) -> str:
    per_round = [x / y for x, y in zip(a.rates, b.rates, strict=True)]
    median = statistics.median(a.rates) / statistics.median(b.rates)
    return (
        f"    {label:<24} {median:6.2f}x  (rounds {min(per_round):.2f}-{max(per_round):.2f}x, "
        f"by CPU/req {statistics.median(b.cpus) / statistics.median(a.cpus):.2f}x)   "
        f"target {target}"
    )


@contextlib.contextmanager
def pg_databases(base: str) -> Iterator[Callable[[], str]]:
    """Hands out fresh PostgreSQL databases on the server of ``base``; drops them at the end."""
    import psycopg

    url = sa.make_url(base)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    created: list[str] = []

    def new() -> str:
        name = f"ocpikit_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return url.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )

    try:
        yield new
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for name in created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pull_all(port: int, size: int, token: str) -> None:
    """The listing once, page by page (as a partner's first full pull does)."""
    url = f"http://127.0.0.1:{port}/ocpi/2.3.0/cpo/locations"
    with httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=30) as http:
        for offset in range(0, size, 100):
            r = http.get(url, params={"offset": offset, "limit": 100})
            assert r.status_code == 200, r.text


def run_pages(
    new_pg: Callable[[], str], size: int, clients: list[int], seconds: float, rounds: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sqlite_url = f"sqlite:///{workdir / 'pages.db'}"
        pg_url = new_pg()
        t0 = time.perf_counter()
        asyncio.run(pages._fill(sqlite_url, size))
        asyncio.run(pages._fill(pg_url, size))
        print(
            f"\npages of 100 of {size} locations, OCPI 2.3.0 (filled in {time.perf_counter() - t0:.0f}s)"
        )
        targets: list[Target] = []
        try:
            two = ("--workers", "2")
            for label, url, args in (
                ("SQLite, 1 process", sqlite_url, ()),
                ("PostgreSQL, 1 process", pg_url, ()),
                ("PostgreSQL, 2 processes", pg_url, two),
                ("SQLite, 2 processes", sqlite_url, two),
            ):
                port = free_port()
                proc = start_platform(workdir, url, port, "NL-CPO:CPO", args=args)
                targets.append(Target(label, proc, port))
                # the listing pulled whole (a new connection each time: the kernel hands it
                # to any worker, so that each has likely served it)
                for _ in range(4 if args else 1):
                    _pull_all(port, size, pages.TOKEN)

            def make(port: int) -> Callable[..., bytes]:
                return pages._requests(f"http://127.0.0.1:{port}/ocpi/2.3.0/cpo/locations", size)

            for c in clients:
                _measure(targets, make, c, seconds, rounds)
                print(f"  {c} clients")
                for t in targets:
                    print(_line(t))
                sqlite, pg1, pg2, sqlite2 = targets
                print(_ratio("PostgreSQL / SQLite", pg1, sqlite, ">= 0.50x"))
                print(_ratio("2 processes / 1 (PG)", pg2, pg1, ">= 1.40x"))
                print(_ratio("2 processes / 1 (SQLite)", sqlite2, sqlite, "(reference)"))
        finally:
            for t in targets:
                t.stop()


def run_push(
    new_pg: Callable[[], str], count: int, clients: list[int], seconds: float, rounds: int
) -> None:
    sessions = push._sessions(count)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        targets: list[Target] = []
        try:
            for label, url in (
                ("SQLite", f"sqlite:///{workdir / 'push.db'}"),
                ("PostgreSQL", new_pg()),
            ):
                asyncio.run(push._setup(url))
                port = free_port()
                proc = start_platform(workdir, url, port, "NL-MSP:EMSP")
                targets.append(Target(label, proc, port))
                headers = {"Authorization": f"Token {push.TOKEN}"}
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
                    for s in sessions:  # the pool: every session exists before the load
                        r = http.put(f"{push.PATH}/{s['id']}", json=s)
                        assert r.status_code in (200, 201), r.text
            print(f"\n{count} sessions of DE-CPO pushed into an eMSP, OCPI 2.3.0")
            for name, build in (
                ("PUT", push.put_request(sessions)),
                ("PATCH", push.patch_request(sessions)),
            ):
                request = push._requests(build)
                for c in clients:
                    _measure(targets, lambda _port, r=request: r, c, seconds, rounds)
                    print(f"  Session {name}, {c} clients")
                    for t in targets:
                        print(_line(t))
                    sqlite, pg = targets
                    print(_ratio("PostgreSQL / SQLite", pg, sqlite, ">= 0.50x"))
        finally:
            for t in targets:
                t.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--locations", type=int, default=10000)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--clients", default="16,64")
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and target")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=("pages", "push"))
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    with pg_databases(args.pg_url) as new_pg:
        if args.only in (None, "pages"):
            run_pages(new_pg, args.locations, clients, args.seconds, args.rounds)
        if args.only in (None, "push"):
            run_push(new_pg, args.sessions, clients, args.seconds, args.rounds)


if __name__ == "__main__":
    main()
