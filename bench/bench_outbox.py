"""Outbox delivery between two processes over loopback vs the raw rate of the same PUTs.

Starts two ``ocpikit serve`` processes (CPO with ``--no-worker``, and eMSP; SQLite each, WAL),
registers the CPO with the eMSP, then in this process (the CPO's delivery worker, on the CPO's
database):

1. raw: the same Session PUTs sent by a plain httpx loop (same concurrency), no outbox;
2. outbox: ``put_and_push`` N sessions (object + outbox entry in one transaction), then a
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
import cProfile
import io
import logging
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ocpikit.client.delivery import DeliveryWorker, put_and_push
from ocpikit.client.http import http_client
from ocpikit.client.partner import PartnerClient
from ocpikit.protocol.ports import ObjectKey, OutboxOperation
from ocpikit.server.demo import demo_sessions_and_cdrs
from ocpikit.storage import SqlStorage

EXE = str(Path(sys.executable).with_name("ocpikit"))

# `ocpikit serve` with cProfile in every thread; the merged stats are written on shutdown
_PROFILED = """
import cProfile, pstats, signal, sys, threading
# uvicorn re-raises SIGTERM after its graceful shutdown: exit through the finally below instead
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
profiles = [cProfile.Profile()]
run = threading.Thread.run
def profiled(self):
    p = cProfile.Profile()
    profiles.append(p)
    p.enable()
    try:
        run(self)
    finally:
        p.disable()
threading.Thread.run = profiled
from ocpikit.cli.main import main
profiles[0].enable()
try:
    main(sys.argv[2:])
finally:
    profiles[0].disable()
    stats = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        try:
            stats.add(p)
        except TypeError:  # a thread that never ran anything
            pass
    stats.dump_stats(sys.argv[1])
"""


def _serve(
    tmp: Path, name: str, port: int, party: str, *extra: str, profile: Path | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OCPIKIT_DATABASE_URL": f"sqlite:///{tmp / name}.db",
        "OCPIKIT_PORT": str(port),
        "OCPIKIT_PARTY": party,
        "OCPIKIT_ADMIN_TOKEN": "bench-admin",
    }
    log = (tmp / f"{name}.log").open("wb")
    cmd = [EXE, "serve", *extra]
    if profile is not None:
        cmd = [sys.executable, "-c", _PROFILED, str(profile), "serve", *extra]
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


async def bench(
    tmp: Path, n: int, concurrency: int, batch: int, pending: int, profile: Path | None
) -> None:
    cpo_url = f"sqlite:///{tmp / 'cpo'}.db"
    storage = SqlStorage.from_url(cpo_url, pool_size=8)
    partner = await storage.partners.get("DE-MSP")
    assert partner is not None, "registration failed"
    base = demo_sessions_and_cdrs("NL", "CPO", 1)[0][0]
    docs = [{**base, "id": f"S{i:07d}"} for i in range(n)]

    async with http_client(concurrency=concurrency) as http:
        client = PartnerClient(partner, http)
        sem = asyncio.Semaphore(concurrency)

        async def raw_put(doc: dict[str, object]) -> None:
            async with sem:
                key = ObjectKey("Session", "NL", "CPO", "R" + str(doc["id"]))
                await client.put_object("Session", key, {**doc, "id": key.id})

        t0 = time.perf_counter()
        await asyncio.gather(*(raw_put(d) for d in docs))
        raw = n / (time.perf_counter() - t0)

        t0 = time.perf_counter()
        for d in docs:
            await put_and_push(storage, ObjectKey("Session", "NL", "CPO", str(d["id"])), d)
        enqueue = time.perf_counter() - t0
        worker = DeliveryWorker(storage, http, batch=batch, concurrency=concurrency)
        prof = cProfile.Profile() if profile is not None else None
        t1 = time.perf_counter()
        sent = 0
        if prof is not None:
            prof.enable()
        while True:
            outs = await worker.run_once()
            if not outs:
                break
            sent += sum(o.result == "sent" for o in outs)
        drain = time.perf_counter() - t1
        if prof is not None:
            prof.disable()
            prof.dump_stats(profile / "worker.prof")  # type: ignore[operator]
    print(f"raw httpx PUT loop:      {raw:8.0f} objects/s")
    print(f"enqueue (put_and_push):  {n / enqueue:8.0f} objects/s")
    print(f"outbox drain (worker):   {sent / drain:8.0f} objects/s  ({sent} sent)")
    print(f"outbox incl. enqueue:    {n / (enqueue + drain):8.0f} objects/s")
    print(f"ratio drain / raw:       {sent / drain / raw:8.2f}")

    if pending:
        from ocpikit.protocol.ports import Partner, PartnerStatus

        await storage.partners.save(Partner(id="NOBODY", status=PartnerStatus.SUSPENDED))
        before = _rss_mb()
        stamp = docs[0]
        t0 = time.perf_counter()
        for i in range(pending):
            await storage.outbox.enqueue(
                "NOBODY", ObjectKey("Session", "NL", "CPO", f"P{i:07d}"), OutboxOperation.PUT, stamp
            )
        after_enqueue = _rss_mb()
        print(f"enqueued {pending} entries in {time.perf_counter() - t0:.0f} s")
        samples: list[float] = []
        logging.getLogger("ocpikit.delivery").setLevel(logging.ERROR)  # 10,000 dead letters
        async with http_client() as http:
            worker = DeliveryWorker(storage, http, batch=batch)
            for i in range(50):  # claims and dead-letters batches of an unknown partner
                await worker.run_once()
                if i % 10 == 9:
                    samples.append(_rss_mb())
        print(
            f"RSS: {before:.0f} MB before, {after_enqueue:.0f} MB with {pending} pending, "
            f"during 50 worker batches of {batch}: "
            + ", ".join(f"{x:.0f}" for x in samples)
            + " MB"
        )
    await storage.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--pending", type=int, default=0)
    ap.add_argument("--profile", type=Path, metavar="DIR")
    args = ap.parse_args()
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
                bench(tmp, args.n, args.concurrency, args.batch, args.pending, args.profile)
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
