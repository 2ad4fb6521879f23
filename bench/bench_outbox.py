"""Outbox delivery between two processes over loopback vs the raw rate of the same PUTs.

Starts two ``ocpikit serve`` processes (CPO and eMSP, SQLite each, durable commits), registers the
CPO with the eMSP, then in this process (the CPO's delivery worker, on the CPO's database):

1. raw: the same Session PUTs sent by a plain httpx loop (same concurrency), no outbox;
2. outbox: ``put_and_push`` N sessions (object + outbox entry in one transaction), then a
   ``DeliveryWorker`` drains the outbox; objects/s end to end (enqueue excluded and included);
3. memory: RSS growth of this process while ``--pending`` entries wait and the worker claims
   batches (the worker holds one batch, never the queue).

Usage: .venv/bin/python bench/bench_outbox.py [--n 2000] [--concurrency 32] [--pending 0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ocpikit.client.delivery import DeliveryWorker, put_and_push
from ocpikit.client.http import http_client
from ocpikit.client.partner import PartnerClient
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.demo import demo_sessions_and_cdrs
from ocpikit.storage import SqlStorage

EXE = str(Path(sys.executable).with_name("ocpikit"))


def _serve(tmp: Path, name: str, port: int, party: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OCPIKIT_DATABASE_URL": f"sqlite:///{tmp / name}.db",
        "OCPIKIT_PORT": str(port),
        "OCPIKIT_PARTY": party,
        "OCPIKIT_ADMIN_TOKEN": "bench-admin",
    }
    log = (tmp / f"{name}.log").open("wb")
    return subprocess.Popen([EXE, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)


def _wait(port: int) -> None:
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/ocpi/versions", timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server on {port} did not start")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bench(tmp: Path, n: int, concurrency: int, pending: int) -> None:
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
        worker = DeliveryWorker(storage, http, batch=200, concurrency=concurrency)
        t1 = time.perf_counter()
        sent = 0
        while True:
            outs = await worker.run_once()
            if not outs:
                break
            sent += sum(o.result == "sent" for o in outs)
        drain = time.perf_counter() - t1
    print(f"raw httpx PUT loop:      {raw:8.0f} objects/s")
    print(f"outbox drain (worker):   {sent / drain:8.0f} objects/s  ({sent} sent)")
    print(f"outbox incl. enqueue:    {n / (enqueue + drain):8.0f} objects/s")
    print(f"ratio drain / raw:       {sent / drain / raw:8.2f}")

    if pending:
        from ocpikit.protocol.ports import Partner, PartnerStatus

        await storage.partners.save(Partner(id="NOBODY", status=PartnerStatus.SUSPENDED))
        before = _rss_mb()
        stamp = docs[0]
        for i in range(pending):
            await storage.outbox.enqueue(
                "NOBODY", ObjectKey("Session", "NL", "CPO", f"P{i:07d}"), _put(), stamp
            )
        after_enqueue = _rss_mb()
        async with http_client() as http:
            worker = DeliveryWorker(storage, http, batch=200)
            for _ in range(20):  # claims and dead-letters batches of an unknown partner
                await worker.run_once()
        print(
            f"max RSS: {before:.0f} MB before, {after_enqueue:.0f} MB with {pending} pending, "
            f"{_rss_mb():.0f} MB after 20 worker batches"
        )
    await storage.aclose()


def _put() -> object:
    from ocpikit.protocol.ports import OutboxOperation

    return OutboxOperation.PUT


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--pending", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        procs = [
            _serve(tmp, "cpo", 18201, "NL-CPO:CPO"),
            _serve(tmp, "emsp", 18202, "DE-MSP:EMSP"),
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
            asyncio.run(bench(tmp, args.n, args.concurrency, args.pending))
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=10)


if __name__ == "__main__":
    main()
