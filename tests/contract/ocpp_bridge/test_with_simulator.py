"""The bridge and the charge-point simulator over an in-memory WebSocket (both OCPP
versions): a remote start, a charging profile set and read back as the composite schedule,
and cleared, each answered by the charger and reported as the result."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from ocpikit.ocpp_bridge.v16 import ChargePoint16
from ocpikit.ocpp_bridge.v201 import ChargePoint201
from ocpikit.testing.chargepoint.simulator import Simulator, _Client16, _Client201

from .test_bridge import TOKEN, World

pytestmark = pytest.mark.anyio


class Pipe:
    """One side of an in-memory WebSocket."""

    def __init__(self, inbox: asyncio.Queue[str], outbox: asyncio.Queue[str]) -> None:
        self.inbox, self.outbox = inbox, outbox

    async def recv(self) -> str:
        return await self.inbox.get()

    async def send(self, text: str) -> None:
        await self.outbox.put(text)


@pytest.mark.parametrize("ocpp", ["1.6", "2.0.1"])
async def test_profiles_and_remote_start_through_the_simulator(ocpp: str) -> None:
    w = World()
    await w.setup()
    w.bridge.config = replace(w.bridge.config, call_timeout=3)
    a: asyncio.Queue[str] = asyncio.Queue()
    b: asyncio.Queue[str] = asyncio.Queue()
    events: list[dict[str, Any]] = []
    sim = Simulator("CP", ocpp, 1, on_event=events.append)
    client_cls = _Client16 if ocpp == "1.6" else _Client201
    sim._client = client_cls("CP", Pipe(a, b))
    sim._client.sim = sim
    server_cls = ChargePoint16 if ocpp == "1.6" else ChargePoint201
    link = server_cls(w.cp, Pipe(b, a), w.bridge)
    tasks = [asyncio.create_task(sim._client.start()), asyncio.create_task(link.start())]
    try:
        await sim.boot()
        w.bridge.links["CP"] = link
        assert await link.remote_start(1, "TAG1", 1) == "Accepted"
        for _ in range(100):
            if w.bridge.transactions._open:
                break
            await asyncio.sleep(0.02)
        [(cp_id, tx_id)] = list(w.bridge.transactions._open)
        profile = {
            "charging_rate_unit": "W",
            "charging_profile_period": [{"start_period": 0, "limit": 7400}],
        }
        assert await link.set_profile(1, tx_id, profile) == "Accepted"
        active = await link.composite_schedule(1, 600)
        assert active is not None, events[-3:]
        assert active["charging_profile"]["charging_profile_period"] == [
            {"start_period": 0, "limit": 7400.0}
        ]
        assert await link.clear_profile(1) == "Accepted"
        assert await link.composite_schedule(1, 600) is None
        session = w.bridge.transactions.find(cp_id, tx_id)
        assert session is not None
        stored = await w.storage.objects.get(session.key)
        assert stored is not None and stored.document["cdr_token"]["uid"] == TOKEN["uid"]
    finally:
        for t in tasks:
            t.cancel()
