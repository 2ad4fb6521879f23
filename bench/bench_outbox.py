"""Outbox delivery between two processes over loopback vs the raw rate of the same PUTs.

Starts two ``ocpikit serve`` processes (CPO with ``--no-worker``, and eMSP; SQLite each, WAL),
registers the CPO with the eMSP, then in this process (the CPO's delivery worker, on the CPO's
database):

1. raw: the same Session PUTs sent by a plain httpx loop (same concurrency), no outbox;
2. outbox: ``put_own_object`` N sessions (object + outbox entry in one transaction), then a
   ``DeliveryWorker`` drains the outbox; objects/s end to end (enqueue excluded and included)
   and the ratio to the raw rate, in the same run;
3. memory: current RSS of this process (``/proc/self/statm``) while ``--pending`` entries wait
   and the worker claims batches of them (it holds one batch, never the queue).

``--profile DIR`` runs the eMSP under cProfile (every thread: the storage calls run on a thread
pool) and the worker drain under cProfile, writes ``emsp.prof``/``worker.prof`` and prints the
top functions of each.

Usage: .venv/bin/python bench/bench_outbox.py [--n 2000] [--concurrency 8] [--batch 200]
       [--pending 100000] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ocpikit.client.delivery import DeliveryWorker, Outcome
from ocpikit.client.http import http_client
from ocpikit.client.partner import PartnerClient
from ocpikit.core.logs import configure_logging
from ocpikit.operations import put_own_object
from ocpikit.operations.exchange_log import ExchangeLogBatcher
from ocpikit.protocol.ports import (
    ExchangeDirection,
    ExchangeQuery,
    ObjectKey,
    OutboxOperation,
    OutboxState,
)
from ocpikit.server.demo import demo_sessions_and_cdrs
from ocpikit.server.metrics import PlatformMetrics
from ocpikit.storage import SqlStorage
from ocpikit.storage.sql.secrets import SecretBox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import PROFILED_SERVE

EXE = str(Path(sys.executable).with_name("ocpikit"))


def _serve(
    tmp: Path, name: str, port: int, party: str, *extra: str, profile: Path | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OCPIKIT_DATABASE_URL": f"sqlite:///{tmp / name}.db",
        "OCPIKIT_PORT": str(port),
        "OCPIKIT_PARTY": party,
        "OCPIKIT_ADMIN_TOKEN": "bench-admin",
        # the bench measures throughput, not the rate limit; its partners run on this machine
        "OCPIKIT_REQUESTS_PER_SECOND": "0",
        "OCPIKIT_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    log = (tmp / f"{name}.log").open("wb")
    cmd = [EXE, "serve", *extra]
    if profile is not None:
        cmd = [sys.executable, "-c", PROFILED_SERVE, str(profile), "serve", *extra]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)


def _wait(port: int) -> None:
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/ocpi/versions", timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server on {port} did not start")


def _rss_mb() -> float:
    """Current resident set size of this process (not the peak)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _top(stats: pstats.Stats, title: str, n: int = 25) -> None:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(n)
    print(f"--- {title}: top {n} by own time")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system, every thread) used so far by process ``pid``."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Cpu:
    """CPU seconds of this process and of the eMSP over a phase."""

    def __init__(self, emsp_pid: int) -> None:
        self.pid = emsp_pid
        self.t0 = time.process_time()
        self.e0 = _cpu_s(emsp_pid)

    def per_object(self, n: int) -> str:
        me = (time.process_time() - self.t0) / max(1, n) * 1e6
        emsp = (_cpu_s(self.pid) - self.e0) / max(1, n) * 1e6
        return f"CPU/object: worker {me:4.0f} us, eMSP {emsp:4.0f} us"


async def _enqueue_all(
    storage: SqlStorage, partner_id: str, keys: list[ObjectKey], doc: dict[str, object]
) -> None:
    """Outbox entries written concurrently (each its own durable write; group commit)."""
    sem = asyncio.Semaphore(256)

    async def one(key: ObjectKey) -> None:
        async with sem:
            await storage.outbox.enqueue(
                partner_id, key, OutboxOperation.PUT, {**doc, "id": key.id}
            )

    await asyncio.gather(*(one(k) for k in keys))


async def _drain(
    worker: DeliveryWorker, expected: int, *, seconds: float | None = None
) -> tuple[int, int, float]:
    """Run the worker (``run``, as ``ocpikit serve`` does) until ``expected`` entries are
    handled or ``seconds`` passed; (sent, handled, elapsed). An entry counts once its
    acknowledgement is committed (the worker reports it after the commit)."""
    stop = asyncio.Event()
    sent = handled = 0

    def count(outcome: Outcome) -> None:
        nonlocal sent, handled
        handled += 1
        sent += outcome.result == "sent"
        if handled >= expected:
            stop.set()

    worker.on_outcome = count
    t0 = time.perf_counter()
    task = asyncio.create_task(worker.run(stop, idle=0.05))
    if seconds is None:
        await stop.wait()
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
    elapsed = time.perf_counter() - t0
    stop.set()
    await task
    worker.on_outcome = None
    return sent, handled, elapsed


async def bench(
    tmp: Path,
    emsp_pid: int,
    n: int,
    concurrency: int,
    batch: int,
    pending: int,
    profile: Path | None,
    traffic_log: bool = True,
) -> None:
    cpo_url = f"sqlite:///{tmp / 'cpo'}.db"
    key_file = tmp / ".ocpikit-secrets-key"  # the servers' key: partner tokens are sealed
    box = SecretBox([key_file.read_text().strip()]) if key_file.exists() else None
    storage = SqlStorage.from_url(cpo_url, pool_size=8, secrets=box)
    partner = await storage.partners.get("DE-MSP")
    assert partner is not None, "registration failed"
    base = demo_sessions_and_cdrs("NL", "CPO", 1)[0][0]
    docs = [{**base, "id": f"S{i:07d}"} for i in range(n)]
    print(
        f"{n} Sessions, OCPI {partner.version}, concurrency {concurrency}, batch {batch}; "
        "SQLite synchronous=FULL on both sides"
    )

    traffic = ExchangeLogBatcher(storage, observe=PlatformMetrics(storage).observe)
    async with http_client(concurrency=concurrency) as http:
        if traffic_log:  # as `ocpikit serve` does: exchange log, metrics, one log event each
            http.traffic = traffic.record
        client = PartnerClient(partner, http)
        sem = asyncio.Semaphore(concurrency)

        async def raw_put(doc: dict[str, object]) -> None:
            async with sem:
                key = ObjectKey("Session", "NL", "CPO", "R" + str(doc["id"]))
                await client.put_object("Session", key, {**doc, "id": key.id})

        cpu = _Cpu(emsp_pid)
        t0 = time.perf_counter()
        await asyncio.gather(*(raw_put(d) for d in docs))
        raw = n / (time.perf_counter() - t0)
        print(f"raw PUT loop (no outbox):  {raw:8.0f} objects/s   {cpu.per_object(n)}")

        t0 = time.perf_counter()
        put_sem = asyncio.Semaphore(64)

        async def enqueue(d: dict[str, object]) -> None:
            async with put_sem:
                await put_own_object(storage, ObjectKey("Session", "NL", "CPO", str(d["id"])), d)

        await asyncio.gather(*(enqueue(d) for d in docs))
        enqueue_s = time.perf_counter() - t0
        print(f"enqueue (put_own_object):    {n / enqueue_s:8.0f} objects/s   (64 concurrent)")

        worker = DeliveryWorker(storage, http, batch=batch, concurrency=concurrency)
        prof = cProfile.Profile() if profile is not None else None
        if prof is not None:
            prof.enable()
        cpu = _Cpu(emsp_pid)
        sent, handled, drain = await _drain(worker, n)
        if prof is not None:
            prof.disable()
            prof.dump_stats(profile / "worker.prof")  # type: ignore[operator]
        rate = sent / drain
        print(f"outbox delivery (worker):  {rate:8.0f} objects/s   {cpu.per_object(sent)}")
        print(f"  ({sent} of {n} sent and acknowledged in {drain:.2f} s; {handled - sent} not)")
        print(f"outbox incl. enqueue:      {n / (enqueue_s + drain):8.0f} objects/s")
        ratio = rate / raw
        print(
            f"TARGET outbox >= 2000 objects/s: {rate:6.0f}  {'met' if rate >= 2000 else 'NOT met'}"
        )
        print(
            f"TARGET outbox >= 50% of raw:     {ratio:6.0%}  {'met' if ratio >= 0.5 else 'NOT met'}"
        )

        if pending:
            # the same partner, a backlog of `pending` entries: the worker holds at most about
            # 1.5 batches of them, never the queue; RSS sampled while it delivers
            keys = [ObjectKey("Session", "NL", "CPO", f"P{i:07d}") for i in range(pending)]
            before = _rss_mb()
            t0 = time.perf_counter()
            await _enqueue_all(storage, "DE-MSP", keys, base)
            print(f"enqueued {pending} entries in {time.perf_counter() - t0:.0f} s")
            with_pending = _rss_mb()
            samples: list[float] = []

            async def sample(stop: asyncio.Event) -> None:
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0)
                    samples.append(_rss_mb())

            stop_sampling = asyncio.Event()
            sampler = asyncio.create_task(sample(stop_sampling))
            sent, _handled, elapsed = await _drain(worker, pending, seconds=20.0)
            stop_sampling.set()
            await sampler
            left = (await storage.outbox.counts())[OutboxState.PENDING]
            print(
                f"with {pending} pending: {sent} delivered in {elapsed:.0f} s "
                f"({sent / elapsed:.0f} objects/s), {left} still pending"
            )
            # the enqueue's own garbage (100,000 coroutines) inflates `with_pending`: compare
            # the samples with the first one
            growth = max(samples) - samples[0] if samples else 0.0
            print(
                f"RSS: {before:.0f} MB before, {with_pending:.0f} MB with {pending} pending, "
                "while delivering (1 s samples): " + ", ".join(f"{x:.0f}" for x in samples) + " MB"
            )
            print(
                f"TARGET memory flat with {pending} pending: growth {growth:+.0f} MB  "
                f"{'met' if growth < 20 else 'NOT met'}"
            )
    await traffic.close()
    out = ExchangeQuery(direction=ExchangeDirection.OUTBOUND)
    logged = await storage.exchanges.recent(limit=1, query=out)
    print(f"traffic log {'on' if traffic_log else 'off'}: newest outbound row id ", end="")
    print(logged[0].id if logged else None)
    await storage.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000, help="objects per phase")
    ap.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    ap.add_argument("--batch", type=int, default=500, help="entries per claim")
    ap.add_argument(
        "--pending", type=int, default=100000, help="backlog for the memory check (0: skip)"
    )
    ap.add_argument("--profile", type=Path, metavar="DIR")
    ap.add_argument(
        "--no-traffic-log",
        action="store_true",
        help="the worker's calls are not logged (default: logged as `ocpikit serve` does)",
    )
    args = ap.parse_args()
    # as `ocpikit serve` logs by default, to nowhere
    configure_logging("text", stream=open(os.devnull, "w"))  # noqa: SIM115
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        emsp_prof = args.profile / "emsp.prof" if args.profile is not None else None
        procs = [
            # the CPO's own in-process worker stays off: this process is the CPO's worker
            _serve(tmp, "cpo", 18201, "NL-CPO:CPO", "--no-worker"),
            _serve(tmp, "emsp", 18202, "DE-MSP:EMSP", profile=emsp_prof),
        ]
        try:
            _wait(18201)
            _wait(18202)
            env = {
                **os.environ,
                "OCPIKIT_DATABASE_URL": f"sqlite:///{tmp / 'emsp'}.db",
                "OCPIKIT_PORT": "18202",
                "OCPIKIT_PARTY": "DE-MSP:EMSP",
                "OCPIKIT_ADMIN_TOKEN": "bench-admin",
                "OCPIKIT_ALLOWED_HOSTS": "127.0.0.1",  # the partner runs on this machine
            }
            token = subprocess.run(
                [EXE, "invite"], env=env, cwd=tmp, capture_output=True, text=True, check=True
            ).stdout
            import json

            tok = json.loads(token)["token"]
            cpo_env = {
                **env,
                "OCPIKIT_DATABASE_URL": f"sqlite:///{tmp / 'cpo'}.db",
                "OCPIKIT_PORT": "18201",
                "OCPIKIT_PARTY": "NL-CPO:CPO",
            }
            subprocess.run(
                [
                    EXE,
                    "register",
                    "--versions-url",
                    "http://127.0.0.1:18202/ocpi/versions",
                    "--token",
                    tok,
                ],
                env=cpo_env,
                cwd=tmp,
                capture_output=True,
                check=True,
            )
            asyncio.run(
                bench(
                    tmp,
                    procs[1].pid,
                    args.n,
                    args.concurrency,
                    args.batch,
                    args.pending,
                    args.profile,
                    traffic_log=not args.no_traffic_log,
                )
            )
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=30)
    if args.profile is not None:
        _top(pstats.Stats(str(args.profile / "worker.prof")), "worker (CPO side, this process)")
        if emsp_prof is not None and emsp_prof.exists():
            _top(pstats.Stats(str(emsp_prof)), "eMSP receiver (every thread)")


if __name__ == "__main__":
    main()
