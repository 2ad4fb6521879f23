"""Serving pages of locations from SQLite storage vs returning precomputed bytes.

    .venv/bin/python bench/bench_storage_pages.py [--n 10000] [--n 100000] [--seconds 3]

For each collection size: insert N location-sized documents (through the storage port, one
durable transaction each), then for 1, 16 and 64 concurrent readers time "GET a page of 100
at a random offset" as storage does it:

- ``head``: ``list_page`` (with total count) + joining the stored head JSON into one body;
- ``wire``: the same for an older version whose serialized form is in the wire cache;

against the baseline of awaiting a coroutine that returns the same page's body precomputed
(what a server with everything in memory would do). Prints pages/s, the ratio to the baseline,
the cost of the thread hop alone, and peak RSS. This isolates storage; the HTTP-level benchmark
of issue 3 (against a bare ASGI app) belongs to the server's bench.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ocpikit.protocol.ports import ObjectKey, WireEntry
from ocpikit.storage import SqlStorage, upgrade

PAGE = 100
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def location(i: int, rng: random.Random) -> dict[str, Any]:
    ts = (T0 + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
    evses = []
    for e in range(rng.randint(2, 4)):
        evses.append(
            {
                "uid": f"EVSE-{i}-{e}",
                "evse_id": f"NL*ABC*E{i:06d}{e}",
                "status": rng.choice(["AVAILABLE", "CHARGING", "OUTOFORDER"]),
                "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
                "connectors": [
                    {
                        "id": str(c + 1),
                        "standard": rng.choice(["IEC_62196_T2", "IEC_62196_T2_COMBO"]),
                        "format": "SOCKET",
                        "power_type": "AC_3_PHASE",
                        "max_voltage": 400,
                        "max_amperage": 32,
                        "max_electric_power": 22000,
                        "tariff_ids": [f"TARIFF-{i % 7}"],
                        "last_updated": ts,
                    }
                    for c in range(2)
                ],
                "floor_level": "-1",
                "physical_reference": f"P{e}",
                "last_updated": ts,
            }
        )
    return {
        "country_code": "NL",
        "party_id": "ABC",
        "id": f"LOC{i:07d}",
        "publish": True,
        "name": f"Station {i} Parking Garage",
        "address": f"Stationsstraat {i % 300}",
        "city": rng.choice(["Amsterdam", "Utrecht", "Rotterdam", "Den Haag", "Eindhoven"]),
        "postal_code": f"{1000 + i % 8999}AB",
        "country": "NLD",
        "coordinates": {"latitude": f"52.{i:06d}", "longitude": f"4.{i:06d}"},
        "parking_type": "PARKING_GARAGE",
        "evses": evses,
        "operator": {"name": "ABC Charging", "website": "https://abc.example"},
        "facilities": ["CAFE", "SUPERMARKET"],
        "time_zone": "Europe/Amsterdam",
        "opening_times": {"twentyfourseven": True},
        "charging_when_closed": True,
        "last_updated": ts,
    }


async def fill(store: SqlStorage, n: int) -> float:
    rng = random.Random(7)
    started = time.perf_counter()
    for i in range(n):
        doc = location(i, rng)
        await store.objects.put(
            ObjectKey("Location", "NL", "ABC", doc["id"]),
            orjson.dumps(doc),
            last_updated=T0 + timedelta(seconds=i),
            owner=None,
        )
    return time.perf_counter() - started


async def throughput(
    op: Callable[[int], Awaitable[bytes]], n: int, workers: int, secs: float
) -> float:
    """Pages per second with ``workers`` concurrent readers for about ``secs`` seconds."""
    deadline = time.perf_counter() + secs
    done = 0

    async def worker(seed: int) -> None:
        nonlocal done
        rng = random.Random(seed)
        while time.perf_counter() < deadline:
            body = await op(rng.randrange(0, max(1, n - PAGE)))
            assert body
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(workers)))
    return done / (time.perf_counter() - started)


async def bench(n: int, secs: float, workdir: Path) -> None:
    url = f"sqlite:///{workdir / f'bench-{n}.db'}"
    upgrade(url)
    store = SqlStorage.from_url(url, pool_size=8)
    try:
        fill_s = await fill(store, n)
        size = (workdir / f"bench-{n}.db").stat().st_size
        print(
            f"\n== {n:,} locations: inserted in {fill_s:.1f}s ({n / fill_s:,.0f} puts/s), "
            f"db {size / 1e6:.0f} MB"
        )

        async def head_page(offset: int) -> bytes:
            page = await store.objects.list_page("Location", offset=offset, limit=PAGE, owner=None)
            return b"[" + b",".join(item.raw for item in page.items) + b"]"

        # fill the wire cache for "2.2.1" (here simply the head bytes: the point is the read path)
        offset = 0
        while True:
            page = await store.objects.list_page("Location", offset=offset, limit=1000)
            if not page.items:
                break
            await store.objects.store_wire(
                WireEntry(i.key, i.revision, "2.2.1", i.raw) for i in page.items
            )
            offset += 1000

        async def wire_page(offset: int) -> bytes:
            page = await store.objects.list_page(
                "Location", offset=offset, limit=PAGE, owner=None, version="2.2.1"
            )
            return b"[" + b",".join(item.wire or b"" for item in page.items) + b"]"

        # baseline: the page bodies computed in advance, handed out by a coroutine
        precomputed: dict[int, bytes] = {}
        for off in random.Random(1).sample(range(max(1, n - PAGE)), k=min(200, max(1, n - PAGE))):
            precomputed[off] = await head_page(off)
        keys = list(precomputed)

        async def baseline(offset: int) -> bytes:
            return precomputed[keys[offset % len(keys)]]

        # the thread hop alone (what running storage off the event loop costs)
        pool = ThreadPoolExecutor(8)
        loop = asyncio.get_running_loop()

        async def hop(_offset: int) -> bytes:
            return await loop.run_in_executor(pool, bytes, b"x")

        print(
            f"{'readers':>8} {'baseline p/s':>13} {'head p/s':>10} {'ratio':>7} "
            f"{'wire p/s':>10} {'ratio':>7} {'hop only p/s':>13}"
        )
        for workers in (1, 16, 64):
            base = await throughput(baseline, n, workers, secs / 2)
            head = await throughput(head_page, n, workers, secs)
            wire = await throughput(wire_page, n, workers, secs)
            hops = await throughput(hop, n, workers, secs / 2)
            print(
                f"{workers:>8} {base:>13,.0f} {head:>10,.0f} {head / base:>7.2%} "
                f"{wire:>10,.0f} {wire / base:>7.2%} {hops:>13,.0f}"
            )
        pool.shutdown()
        one = await throughput(head_page, n, 1, secs / 2)
        print(f"latency, 1 reader: {1000 / one:.2f} ms per page of {PAGE}")
    finally:
        await store.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="collection size (repeatable)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    args = parser.parse_args()
    sizes = args.n or [10_000]
    with tempfile.TemporaryDirectory(prefix="ocpikit-bench-") as tmp:
        for n in sizes:
            asyncio.run(bench(n, args.seconds, Path(tmp)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
