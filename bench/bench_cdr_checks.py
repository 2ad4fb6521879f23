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
  store the result, queue nothing: no webhook), once the traffic log of the posts is written
  (its writer task runs within an interval of them: the cost of receiving, not of checking);
- bare engine: ``ocpikit.tariffs.price`` on the same head CDRs and tariff, in a loop; and for
  context, on the same CDRs, the bare checker (``ocpikit.tariffs.reconcile.check_cdr``: price,
  compare, explain a wrong total by the alternative readings) and the judging in memory
  (``cdr_check_judge.judge`` then ``CheckOutcome.packed``: what a check records, serialized,
  without claiming, reading or storing: the most the platform checks could reach).

Targets (issue "The CDR pipeline inside the platform"): checks at least 50 % of the bare
engine's rate; checking slows the receiving endpoint by at most 10 %. Machines are noisy: only
the ratios mean something, so (a), the checks, the bare engine and (b) are measured in
``--rounds`` rounds one after the other, each ratio within its round (by wall clock, and by
the process's CPU time, all threads: steadier on a loaded machine), and the median ratio is
given. Run: ``PYTHONPATH=$PWD/src:$PWD .venv/bin/python bench/bench_cdr_checks.py [--count N]
[--rounds R]``

Measured (2 shared cores, load 2.7-5.3 from other work; seven runs of ``--count 400 --rounds
3`` alternating with the code before, medians of the runs, CPU time): platform checks 26 % of
the bare engine (runs 19-31 %; the code before: 18 %, runs 15-22 %), judging in memory 46 %
(before 36 %); ``POST /cdrs`` while checking in ``serve`` -6.9 % (runs -32 % to +32 %; before
-3.4 %, runs -20 % to +27 %). Where the rest goes: docs/cdrs.md "Performance".
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
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.contract.server.conftest import Router, make_node
from tests.contract.server.test_cdr_checks import TARIFF, cdr

from ocpikit.core.versions import Role
from ocpikit.operations.cdr_check_judge import BatchSessions, CheckInputs, judge
from ocpikit.operations.cdr_checks import SERVE_BATCH, run_pending_checks
from ocpikit.operations.exchange_log import LOG_INTERVAL
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


class _Spent:
    """Wall-clock and process CPU seconds (every thread's) since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __call__(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


Seconds = tuple[float, float]


async def _bare(storage: SqlStorage, prefix: str, count: int) -> tuple[Seconds, Seconds, Seconds]:
    """(wall, CPU) seconds of the bare engine, of the bare checker and of the checks' judging
    in memory (what a check records, serialized, without storage) over the CDRs ``prefix``."""
    tariff = await storage.objects.get(ObjectKey("Tariff", "NL", "CPO", "T1"))
    assert tariff is not None
    found = await storage.objects.get_many(
        ObjectKey("CDR", "NL", "CPO", f"{prefix}{i:05d}") for i in range(count)
    )
    docs = [obj.document for obj in found.values()]
    assert len(docs) == count
    spent = _Spent()
    for doc in docs:
        price(doc, [tariff.document], origin="2.2.1")
    bare = spent()
    spent = _Spent()
    for doc in docs:
        check_cdr(doc, [tariff.document], None, origin="2.2.1")
    checker = spent()
    (done,) = await storage.cdr_checks.find(f"{prefix}00000")
    partner = await storage.partners.get(done.owner)
    checks = [replace(done, seq=done.seq + i, cdr_id=str(d["id"])) for i, d in enumerate(docs)]
    batch: BatchSessions = {}
    spent = _Spent()
    for check, doc in zip(checks, docs, strict=True):
        inputs = CheckInputs(doc, [tariff.document], [], None, None, None)
        judge(check, partner, inputs, batch).packed()
    return bare, checker, spent()


async def _round(storage: SqlStorage, http: Any, r: int, count: int) -> dict[str, float]:
    """One round: posts with no check running, their checks timed, the bare engine and checker
    on the same CDRs, then posts while the checker runs as in ``serve``. Rates per second of
    wall clock, and (``cpu_*``) per second of the process's CPU time."""
    quiet = await _post_all(http, _bodies(f"A{r}", count))
    # the traffic log of those posts is written by its writer task within an interval: let it
    # be written before the checks are timed (it is the cost of receiving, not of checking)
    await asyncio.sleep(2 * LOG_INTERVAL)
    spent = _Spent()
    checked = 0
    while (n := await run_pending_checks(storage)) > 0:
        checked += n
    checks = spent()
    assert checked == count, checked
    bare, checker, judged = await _bare(storage, f"A{r}", count)
    stop = asyncio.Event()
    task = asyncio.create_task(_checker(storage, stop))
    busy = await _post_all(http, _bodies(f"B{r}", count))
    stop.set()
    await task
    out = {"quiet": statistics.mean(quiet), "busy": statistics.mean(busy)}
    for name, (wall, cpu) in (
        ("bare", bare),
        ("checker", checker),
        ("judge", judged),
        ("checks", checks),
    ):
        out[name], out[f"cpu_{name}"] = count / wall, count / cpu
    return out


async def run(count: int, rounds: int, workdir: Path) -> None:
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
            results = [await _round(storage, http, r, count) for r in range(rounds)]
            quiet = statistics.median(x["quiet"] for x in results)
            worker = _worker(url, workdir)
            try:
                await asyncio.sleep(2.0)  # the worker's start-up
                apart = await _post_all(http, _bodies("C", count))
                await _until_checked(storage, (2 * rounds + 1) * count + 50)
            finally:
                worker.terminate()
                worker.wait(timeout=20)
    finally:
        await storage.aclose()

    print(f"CDRs: {count} per phase, {rounds} rounds (each: quiet posts, checks, bare, busy)")
    for i, x in enumerate(results):
        print(
            f"round {i}: bare engine {x['bare']:7.0f}/s, bare checker {x['checker']:6.0f}/s "
            f"({x['checker'] / x['bare']:.0%}), judging in memory {x['judge']:6.0f}/s "
            f"({x['judge'] / x['bare']:.0%}), "
            f"platform checks {x['checks']:6.0f}/s ({x['checks'] / x['bare']:.0%} of bare); "
            f"POST /cdrs {x['quiet'] * 1000:.2f} ms quiet, {x['busy'] * 1000:.2f} ms busy "
            f"({x['busy'] / x['quiet'] - 1:+.1%})"
        )
    share = statistics.median(x["checks"] / x["bare"] for x in results)
    slowdown = statistics.median(x["busy"] / x["quiet"] - 1 for x in results)
    for name, label in (
        ("checker", "bare checker"),
        ("judge", "judging in memory (check_cdr, findings, compact breakdown, serialized)"),
    ):
        part = statistics.median(x[name] / x["bare"] for x in results)
        cpu = statistics.median(x[f"cpu_{name}"] / x["cpu_bare"] for x in results)
        print(f"{label} / bare engine (median of rounds): {part:.0%} (CPU time: {cpu:.0%})")
    cpu_share = statistics.median(x["cpu_checks"] / x["cpu_bare"] for x in results)
    print(
        f"platform checks / bare engine (median of rounds): {share:.0%} (CPU time: {cpu_share:.0%})"
    )
    print(f"slowdown of the receiving endpoint while checking (median of rounds): {slowdown:+.1%}")
    a = statistics.mean(apart)
    print(
        f"POST /cdrs, checks in `ocpikit cdr work`: {a * 1000:.2f} ms mean ({a / quiet - 1:+.1%})"
    )


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.count, args.rounds, Path(tmp)))


if __name__ == "__main__":
    main()
