"""CDR checks in the platform against the bare price engine, and what checking costs the
receiving endpoint, in one run (docs/cdrs.md).

Set-up: an eMSP platform (in-process ASGI app, SQLite file database, migrated) registered
with a CPO; the CPO's tariff T1 stored with the eMSP. Documents: 2.2.1 CDRs of 10 kWh at T1
(one charging period), one in ten wrong by 1.50.

Measured:

- receiving: ``POST /ocpi/2.2.1/emsp/cdrs`` of N CDRs one after the other, mean answer time,
  (a) with no check running, (b) while the platform's checker runs as ``ocpikit serve`` runs
  it (the ``cdr-checks`` loop, every 0.5 s, in the same event loop), (c) while ``ocpikit cdr
  work`` checks them in a process of its own on the same database (``[cdrs] work =
  "worker"``);
- checks: ``run_pending_checks`` over the N CDRs of (a), CDRs per second (read, price, compare,
  store the result, queue nothing: no webhook);
- bare engine: ``ocpikit.tariffs.price`` on the same head CDRs and tariff, in a loop; and
  the bare checker (``ocpikit.tariffs.reconcile.check_cdr``: price, compare, explain a wrong
  total by the alternative readings) for context.

Targets (issue "The CDR pipeline inside the platform"): checks at least 50 % of the bare
engine's rate; checking slows the receiving endpoint by at most 10 %. Machines are noisy: only
the ratios mean something. Run: ``PYTHONPATH=$PWD/src:$PWD .venv/bin/python
bench/bench_cdr_checks.py [--count N]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.contract.server.conftest import Router, make_node
from tests.contract.server.test_cdr_checks import TARIFF, cdr

from ocpikit.core.versions import Role
from ocpikit.operations.cdr_checks import SERVE_BATCH, run_pending_checks
from ocpikit.operations.pace import Pace
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.settings import Limits
from ocpikit.storage import SqlStorage, upgrade
from ocpikit.tariffs import price
from ocpikit.tariffs.reconcile import check_cdr

BASE = "/ocpi/2.2.1/emsp"
NO_RATE_LIMIT = Limits(requests_per_second=0)


async def _post_all(http: Any, bodies: list[dict[str, Any]]) -> list[float]:
    times = []
    for body in bodies:
        t0 = time.perf_counter()
        r = await http.post(f"{BASE}/cdrs", json=body)
        times.append(time.perf_counter() - t0)
        assert r.status_code == 201, r.text
    return times


def _bodies(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        cdr(f"{prefix}{i:05d}", session_id=f"{prefix}S{i:05d}", excl=4.5 if i % 10 == 0 else 3.0)
        for i in range(count)
    ]


async def _checker(storage: SqlStorage, stop: asyncio.Event) -> int:
    """The ``cdr-checks`` task as ``ocpikit serve`` runs it (every 0.5 s, drain the queue)."""
    done = 0
    while not stop.is_set():
        pace = Pace()
        while (n := await run_pending_checks(storage, limit=SERVE_BATCH, pace=pace)) > 0:
            done += n
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    return done


async def run(count: int, workdir: Path) -> None:
    url = f"sqlite:///{workdir / 'emsp.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,))
    # no rate limit: the bench posts faster than a partner may (the limit is not measured here)
    emsp = make_node(
        router, "emsp.test", "DE", "MSP", (Role.EMSP,), storage=storage, limits=NO_RATE_LIMIT
    )
    await emsp.register(cpo)
    partner = await cpo.storage.partners.get("DE-MSP")
    assert partner is not None and partner.outbound_token
    try:
        async with emsp.client(partner.outbound_token) as http:
            r = await http.put(f"{BASE}/tariffs/NL/CPO/T1", json=TARIFF)
            assert r.status_code in (200, 201), r.text
            await _post_all(http, _bodies("W", 50))  # warm-up
            await run_pending_checks(storage, limit=1000)
            quiet = await _post_all(http, _bodies("A", count))

            t0 = time.perf_counter()
            checked = 0
            while (n := await run_pending_checks(storage)) > 0:
                checked += n
            check_s = time.perf_counter() - t0

            stop = asyncio.Event()
            checker = asyncio.create_task(_checker(storage, stop))
            busy = await _post_all(http, _bodies("B", count))
            stop.set()
            await checker

            worker = _worker(url, workdir)
            try:
                await asyncio.sleep(2.0)  # the worker's start-up
                apart = await _post_all(http, _bodies("C", count))
                await _until_checked(storage, 3 * count + 50)
            finally:
                worker.terminate()
                worker.wait(timeout=20)

        tariff = await storage.objects.get(ObjectKey("Tariff", "NL", "CPO", "T1"))
        assert tariff is not None
        docs = []
        for i in range(count):
            got = await storage.objects.get(ObjectKey("CDR", "NL", "CPO", f"A{i:05d}"))
            assert got is not None
            docs.append(got.document)
        t0 = time.perf_counter()
        for doc in docs:
            price(doc, [tariff.document], origin="2.2.1")
        bare_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for doc in docs:
            check_cdr(doc, [tariff.document], None, origin="2.2.1")
        checker_s = time.perf_counter() - t0
    finally:
        await storage.aclose()

    check_rate, bare_rate = checked / check_s, count / bare_s
    q, b = statistics.mean(quiet), statistics.mean(busy)
    print(f"CDRs: {count} (checked {checked})")
    print(f"bare engine:      {bare_rate:9.0f} CDRs/s")
    print(f"bare checker:     {count / checker_s:9.0f} CDRs/s  (check_cdr: price + compare)")
    print(f"platform checks:  {check_rate:9.0f} CDRs/s  ({check_rate / bare_rate:.0%} of bare)")
    print(f"POST /cdrs quiet: {q * 1000:9.2f} ms mean, p95 {_p95(quiet) * 1000:.2f} ms")
    print(f"POST /cdrs busy:  {b * 1000:9.2f} ms mean, p95 {_p95(busy) * 1000:.2f} ms")
    a = statistics.mean(apart)
    print(f"slowdown of the receiving endpoint while checking: {b / q - 1:+.1%}")
    print(f"POST /cdrs, checks in `ocpikit cdr work`: {a * 1000:.2f} ms mean ({a / q - 1:+.1%})")


def _worker(url: str, workdir: Path) -> subprocess.Popen[bytes]:
    """``ocpikit cdr work`` on the same database, in a process of its own."""
    env = {**os.environ, "OCPIKIT_DATABASE_URL": url}
    code = "from ocpikit.cli.main import main; raise SystemExit(main(['cdr', 'work']))"
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=workdir)


async def _until_checked(storage: SqlStorage, n: int) -> None:
    for _ in range(600):
        rows = await storage.cdr_checks.listing(limit=100000)
        if sum(1 for r in rows if r.state.value == "done") >= n:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("the worker did not check every CDR")


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.count, Path(tmp)))


if __name__ == "__main__":
    main()
