"""The simulator's OCMF signed meter values (``--signed``): a begin and an end reading per
transaction, in both OCPP versions, accepted by the bridge (schema-valid, not billed twice:
the Session's energy comes from the plain readings) and verified by ocpikit's own Eichrecht
verifier with the simulator's test key, readings matching the meter; the bridge keeps them as
the OCPI SignedData of the ended Session, which verifies too."""

from __future__ import annotations

import asyncio
import json

import pytest

from ocpikit.eichrecht import Status, verify_ocmf, verify_signed_data
from ocpikit.ocpp_bridge.v16 import ChargePoint16
from ocpikit.ocpp_bridge.v201 import ChargePoint201
from ocpikit.testing.chargepoint.ocmf import TEST_PUBLIC_KEY
from ocpikit.testing.chargepoint.simulator import Simulator, _Client16, _Client201

from .test_bridge import World
from .test_with_simulator import Pipe

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("ocpp", ["1.6", "2.0.1"])
async def test_signed_begin_and_end_verify(ocpp: str) -> None:
    w = World()
    await w.setup()
    w.bridge._authorized["TAG1"] = {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": "TAG1",
        "type": "RFID",
        "contract_id": "DE-MSP-C1",
    }
    a: asyncio.Queue[str] = asyncio.Queue()
    b: asyncio.Queue[str] = asyncio.Queue()
    sim = Simulator("CP", ocpp, 1, signed=True)
    sim._client = (_Client16 if ocpp == "1.6" else _Client201)("CP", Pipe(a, b))
    sim._client.sim = sim
    link = (ChargePoint16 if ocpp == "1.6" else ChargePoint201)(w.cp, Pipe(b, a), w.bridge)
    tasks = [asyncio.create_task(sim._client.start()), asyncio.create_task(link.start())]
    try:
        start_wh = sim.connectors[1].meter_wh
        await sim.start(1, "TAG1")
        await sim.meter(1, 1800)
        await sim.stop(1, 1800)
        end_wh = sim.connectors[1].meter_wh
    finally:
        for t in tasks:
            t.cancel()
    begin, end = sim.ocmf
    for record, wh in ((begin, start_wh), (end, end_wh)):
        report = verify_ocmf(record, TEST_PUBLIC_KEY)
        assert report.status is Status.VALID, report
        assert f'"RV":{round(wh / 1000, 4)}' in record
    page = await w.storage.objects.list_page("Session", limit=10, owner=None)
    [stored] = page.items
    assert stored.document["status"] == "COMPLETED"
    assert stored.document["kwh"] == pytest.approx((end_wh - start_wh) / 1000, abs=0.01)
    # the bridge keeps them as the SignedData of the Session's CDR
    data = w.bridge.transactions.signed_data(stored.key)
    assert data is not None
    assert [v["nature"] for v in data["signed_values"]] == ["Start", "End"]
    assert verify_signed_data(data, TEST_PUBLIC_KEY).status is Status.VALID
    # and kept beside the Session, for the CDR the platform builds from it
    from ocpikit.protocol.cdr_builds import signed_data_fact

    key = stored.key
    kept = await w.storage.facts.get(signed_data_fact(key.country_code, key.party_id, key.id))
    assert kept is not None and json.loads(kept) == data
