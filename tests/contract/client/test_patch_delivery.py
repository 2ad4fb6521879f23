"""Changes of our Locations and Sessions pushed as the smallest PATCH the partner's version
takes: EVSE- and Connector-level PATCHes (2.1.1 and 2.2.1), Session charging periods appended
(2.2.1) or sent whole (2.1.1), bursts coalesced per object, the ``whole_object_puts`` switch,
and the fallback to a PUT when the partner refuses the PATCH."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from ocpikit.client.delivery import DeliveryWorker
from ocpikit.core.types import format_datetime
from ocpikit.operations import patch_own_object, put_own_object
from ocpikit.operations.evse_updates import patch_evse, set_evse_status
from ocpikit.protocol.ports import ObjectKey
from ocpikit.storage.memory import MemoryStorage

from .helpers import FakeClock, envelope, locations, mock, ok, partner, sessions

pytestmark = pytest.mark.anyio

NOW = datetime(2024, 3, 1, 12, 5, tzinfo=UTC)


class World:
    def __init__(self, version: str = "2.2.1", **settings: object) -> None:
        self.clock = FakeClock()
        self.storage = MemoryStorage(clock=self.clock)
        self.requests: list[httpx.Request] = []
        self.version = version
        self.settings = settings
        self.refuse_patch = False

        def record(req: httpx.Request) -> httpx.Response:
            self.requests.append(req)
            if self.refuse_patch and req.method == "PATCH":
                return httpx.Response(404, content=envelope(None, 2003))
            return ok(None)

        self.http = mock(record)

    async def setup(self) -> dict:
        await self.storage.partners.save(
            partner(self.version, role="EMSP", pid="DE-MSP", settings=dict(self.settings))
        )
        doc = locations(1)[0]
        self.key = ObjectKey("Location", "NL", "CPO", doc["id"])
        await put_own_object(self.storage, self.key, doc)
        await self.deliver()
        self.requests.clear()
        return doc

    async def deliver(self) -> list[str]:
        worker = DeliveryWorker(
            self.storage, self.http, worker_id="w", clock=self.clock, rng=random.Random(1)
        )
        return [o.result for o in await worker.run_once()]

    def sent(self) -> list[tuple[str, str, dict]]:
        return [(r.method, r.url.path, orjson.loads(r.content)) for r in self.requests]


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1"])
async def test_an_evse_status_change_goes_as_an_evse_level_patch(version: str) -> None:
    w = World(version)
    doc = await w.setup()
    uid = doc["evses"][0]["uid"]
    await set_evse_status(w.storage, w.key, uid, "CHARGING", now=NOW)
    assert await w.deliver() == ["sent"]
    [(method, path, body)] = w.sent()
    assert method == "PATCH"
    assert path == f"/ocpi/{version}/locations/NL/CPO/{doc['id']}/{uid}"
    assert body == {"status": "CHARGING", "last_updated": format_datetime(NOW)}


async def test_a_burst_of_changes_of_one_evse_is_one_patch_with_the_final_status() -> None:
    w = World()
    doc = await w.setup()
    uid = doc["evses"][0]["uid"]
    for status in ("CHARGING", "BLOCKED", "AVAILABLE", "OUTOFORDER"):
        await set_evse_status(w.storage, w.key, uid, status, now=NOW)
    assert await w.deliver() == ["sent"]
    [(method, _path, body)] = w.sent()
    assert method == "PATCH" and body["status"] == "OUTOFORDER"


async def test_a_connector_change_goes_to_the_connector_url() -> None:
    w = World()
    doc = await w.setup()
    evse = doc["evses"][0]
    cid = evse["connectors"][0]["id"]
    await patch_evse(
        w.storage,
        w.key,
        evse["uid"],
        {"max_electric_power": 7400, "last_updated": format_datetime(NOW)},
        now=NOW,
        connector_id=cid,
    )
    assert await w.deliver() == ["sent"]
    [(method, path, body)] = w.sent()
    assert method == "PATCH" and path.endswith(f"/{doc['id']}/{evse['uid']}/{cid}")
    assert body == {"max_electric_power": 7400, "last_updated": format_datetime(NOW)}


async def test_whole_object_puts_switch_sends_the_location() -> None:
    w = World(whole_object_puts=True)
    doc = await w.setup()
    await set_evse_status(w.storage, w.key, doc["evses"][0]["uid"], "CHARGING", now=NOW)
    await w.deliver()
    [(method, path, body)] = w.sent()
    assert method == "PUT" and path.endswith(f"/{doc['id']}")
    assert body["evses"][0]["status"] == "CHARGING"


async def test_a_refused_patch_falls_back_to_a_put_of_the_full_state() -> None:
    w = World()
    doc = await w.setup()
    w.refuse_patch = True
    await set_evse_status(w.storage, w.key, doc["evses"][0]["uid"], "CHARGING", now=NOW)
    assert await w.deliver() == ["sent"]
    assert [m for m, _p, _b in w.sent()] == ["PATCH", "PUT"]
    assert w.sent()[1][2]["evses"][0]["status"] == "CHARGING"


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1"])
async def test_session_charging_periods_are_appended(version: str) -> None:
    w = World(version)
    await w.setup()
    session = {**sessions(1)[0], "status": "ACTIVE", "charging_periods": []}
    key = ObjectKey("Session", "NL", "CPO", session["id"])
    await put_own_object(w.storage, key, session)
    await w.deliver()
    w.requests.clear()
    periods = []
    for i in range(2):
        period = {
            "start_date_time": f"2024-03-01T12:0{i}:00Z",
            "dimensions": [{"type": "ENERGY", "volume": 1.5 + i}],
        }
        periods.append(period)
        stamp = f"2024-03-01T12:0{i}:30Z"
        await patch_own_object(
            w.storage,
            key,
            lambda d, p=list(periods), s=stamp: {
                **d,
                "charging_periods": p,
                "kwh": 1.5 * len(p),
                "last_updated": s,
            },
        )
        await w.deliver()
    patches = w.sent()
    assert [m for m, _p, _b in patches] == ["PATCH", "PATCH"]
    second = patches[1][2]
    if version == "2.2.1":
        assert len(second["charging_periods"]) == 1  # appended by the receiver
    else:
        assert len(second["charging_periods"]) == 2  # 2.1.1 replaces the list
    assert second["kwh"] == 3.0


async def test_a_write_of_this_process_wakes_the_idle_worker() -> None:
    import asyncio
    import time

    w = World()
    doc = await w.setup()
    worker = DeliveryWorker(w.storage, w.http, worker_id="w", clock=w.clock, rng=random.Random(1))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop, idle=30))
    await asyncio.sleep(0.1)  # the worker found nothing and waits
    t0 = time.monotonic()
    await set_evse_status(w.storage, w.key, doc["evses"][0]["uid"], "CHARGING", now=NOW)
    while not w.requests:
        assert time.monotonic() - t0 < 5, "the worker slept through the write"
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert time.monotonic() - t0 < 5
    assert w.sent()[0][0] == "PATCH"
