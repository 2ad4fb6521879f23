"""The bridge's core over the platform's operations (memory storage, a registered eMSP behind
a mock HTTP client, a fake charge point link): a transaction becomes a Session PUT then PATCHes
that append charging periods with ENERGY and TIME, ending COMPLETED; an unmapped connector
stores nothing; a status goes to the EVSE; a received START_SESSION is sent to the charger and
its answer is POSTed to the eMSP as the CommandResult."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from ocpikit.client.delivery import DeliveryWorker
from ocpikit.client.partner_calls import flow_ports
from ocpikit.ocpp_bridge.bridge import Bridge, reservation_fact
from ocpikit.ocpp_bridge.config import ocpp_config
from ocpikit.operations import put_own_object
from ocpikit.protocol.ports import CommandDirection, CommandRecord, ObjectKey
from tests.contract.client.helpers import BASE, FakeClock, locations, mock, ok, partner

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 1, 1, 10, tzinfo=UTC)
TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "TAG1",
    "type": "RFID",
    "contract_id": "DE-MSP-C1",
}


class World:
    def __init__(self) -> None:
        from ocpikit.storage.memory import MemoryStorage

        self.clock = FakeClock()
        self.storage = MemoryStorage(clock=self.clock)
        self.requests: list[httpx.Request] = []

        def record(req: httpx.Request) -> httpx.Response:
            self.requests.append(req)
            return ok(None)

        self.http = mock(record)
        self.ports = flow_ports(self.storage, self.http, base_url="http://cpo", clock=self.clock)
        config = ocpp_config(
            {
                "ocpp": {
                    "charge_points": [
                        {"id": "CP", "location_id": "LOC00001", "evse_uids": ["LOC00001-E2"]}
                    ]
                }
            },
            [("NL", "CPO")],
        )
        self.bridge = Bridge(self.ports, config)
        self.cp = config.charge_points[0]

    async def setup(self) -> None:
        await self.storage.partners.save(partner("2.2.1", role="EMSP", pid="DE-MSP"))
        doc = locations(1)[0]
        await put_own_object(self.storage, ObjectKey("Location", "NL", "CPO", doc["id"]), doc)
        await self.deliver()
        self.requests.clear()

    async def deliver(self) -> None:
        worker = DeliveryWorker(
            self.storage, self.http, worker_id="w", clock=self.clock, rng=random.Random(1)
        )
        await worker.run_once()

    def sent(self) -> list[tuple[str, str, Any]]:
        return [(r.method, r.url.path, orjson.loads(r.content)) for r in self.requests]


async def test_a_transaction_is_a_session_with_appended_periods() -> None:
    w = World()
    await w.setup()
    w.bridge._authorized["TAG1"] = dict(TOKEN)
    await w.bridge.start(w.cp, 1, "7", "TAG1", 1000.0, T0)
    await w.deliver()
    for minutes, wh in ((10, 2000.0), (20, 3500.0)):
        await w.bridge.transactions.meter(w.cp, "7", wh, T0 + timedelta(minutes=minutes))
        await w.deliver()
    await w.bridge.transactions.stop(w.cp, "7", 4000.0, T0 + timedelta(minutes=25))
    await w.deliver()
    sent = w.sent()
    assert [m for m, _p, _b in sent] == ["PUT", "PATCH", "PATCH", "PATCH"]
    assert all(p.endswith("/sessions/NL/CPO/CP-7") for _m, p, _b in sent)
    put = sent[0][2]
    assert put["cdr_token"]["uid"] == "TAG1" and put["evse_uid"] == "LOC00001-E2"
    assert put["status"] == "ACTIVE" and put["auth_method"] == "AUTH_REQUEST"
    first = sent[1][2]
    [period] = first["charging_periods"]
    dims = {d["type"]: d["volume"] for d in period["dimensions"]}
    assert dims == {"ENERGY": 1.0, "TIME": pytest.approx(1 / 6, abs=1e-5)}
    assert first["kwh"] == 1.0
    last = sent[3][2]
    assert last["status"] == "COMPLETED" and last["kwh"] == 3.0
    assert len(last["charging_periods"]) == 1 and "end_date_time" in last
    stored = await w.storage.objects.get(ObjectKey("Session", "NL", "CPO", "CP-7"))
    assert stored is not None and len(stored.document["charging_periods"]) == 3


async def test_unmapped_connector_and_status() -> None:
    w = World()
    await w.setup()
    with pytest.raises(ValueError, match="not mapped"):
        await w.bridge.start(w.cp, 5, "8", "TAG1", 0.0, T0)
    assert await w.storage.objects.get(ObjectKey("Session", "NL", "CPO", "CP-8")) is None
    await w.bridge.status(w.cp, 1, "OUTOFORDER")
    await w.bridge.status(w.cp, 9, "OUTOFORDER")  # unmapped: ignored
    await w.deliver()
    [(method, path, body)] = w.sent()
    assert method == "PATCH" and path.endswith("/LOC00001/LOC00001-E2")
    assert body["status"] == "OUTOFORDER"


class FakeLink:
    def __init__(self, config: Any, answer: str) -> None:
        self.config = config
        self.answer = answer
        self.calls: list[tuple[str, Any]] = []

    async def remote_start(self, number: int, id_tag: str, remote_id: int) -> str:
        self.calls.append(("remote_start", (number, id_tag)))
        return self.answer

    async def remote_stop(self, tx_id: str) -> str:
        return self.answer

    async def unlock(self, number: int, connector: int) -> str:
        return self.answer

    async def reserve(self, number: int, id_tag: str, reservation_id: int, expiry: str) -> str:
        self.calls.append(("reserve", (number, id_tag, reservation_id)))
        return self.answer

    async def cancel_reservation(self, reservation_id: int) -> str:
        self.calls.append(("cancel_reservation", reservation_id))
        return self.answer


@pytest.mark.parametrize(("answer", "result"), [("Accepted", "ACCEPTED"), ("Rejected", "REJECTED")])
async def test_a_received_start_session_goes_to_the_charger(answer: str, result: str) -> None:
    w = World()
    await w.setup()
    url = f"{BASE}/2.2.1/commands/START_SESSION/c1"
    await w.storage.commands.save(
        CommandRecord(
            id="c1",
            direction=CommandDirection.RECEIVED,
            command="START_SESSION",
            state="AWAITING_RESULT",
            partner_id="DE-MSP",
            request={"token": TOKEN, "location_id": "LOC00001", "evse_uid": "LOC00001-E2"},
            response_url=url,
            deadline=w.clock.now() + timedelta(minutes=5),
        )
    )
    link = FakeLink(w.cp, answer)
    w.bridge.links["CP"] = link  # type: ignore[assignment]
    for task in await w.bridge.commands_once():
        await task
    assert link.calls == [("remote_start", (1, "TAG1"))]
    [(method, path, body)] = w.sent()
    assert (method, path, body) == ("POST", httpx.URL(url).path, {"result": result})
    record = await w.storage.commands.get(CommandDirection.RECEIVED, "c1")
    assert record is not None and record.state == "DELIVERED"
    assert (("CP", 1) in w.bridge._pending) == (answer == "Accepted")


async def test_a_transaction_started_before_a_restart_goes_on_after_it() -> None:
    """The platform restarts mid-transaction: the new bridge reads the open transaction back
    (its fact and the stored Session), appends the next periods from the right start reading,
    keeps the signed records of before and after, finds the Session's transaction for a
    STOP_SESSION, and forgets the fact at the end."""
    from ocpikit.ocpp_bridge.sessions import transaction_fact
    from ocpikit.protocol.cdr_builds import signed_data_fact

    w = World()
    await w.setup()
    await w.bridge.start(w.cp, 1, "9", "TAG1", 1000.0, T0)
    await w.bridge.transactions.add_signed(w.cp, "9", [("OCMF|{}|{begin}", "KEY")])
    await w.bridge.transactions.meter(w.cp, "9", 3000.0, T0 + timedelta(minutes=10))
    key = ObjectKey("Session", "NL", "CPO", "CP-9")
    assert await w.storage.facts.get(transaction_fact(key)) is not None

    bridge = Bridge(w.ports, w.bridge.config)  # a new process: nothing held in memory
    assert bridge.transactions.find("CP", "9") is None
    found = await bridge.transactions.of_session("CP-9", [("NL", "CPO")])
    assert found == ("CP", "9")

    bridge = Bridge(w.ports, w.bridge.config)
    assert await bridge.transactions.meter(w.cp, "9", 4000.0, T0 + timedelta(minutes=20))
    await bridge.transactions.add_signed(w.cp, "9", [("OCMF|{}|{end}", None)])
    end = T0 + timedelta(minutes=30)
    assert await bridge.transactions.stop(w.cp, "9", 5000.0, end)
    stored = await w.storage.objects.get(key)
    assert stored is not None and stored.document["status"] == "COMPLETED"
    assert stored.document["end_date_time"] == "2026-01-01T10:30:00Z"
    assert stored.document["kwh"] == 4.0  # 5000 Wh read at the end, 1000 Wh at the start
    periods = stored.document["charging_periods"]
    energy = [next(d["volume"] for d in p["dimensions"] if d["type"] == "ENERGY") for p in periods]
    assert energy == [2.0, 1.0, 1.0]
    signed = await w.storage.facts.get(signed_data_fact("NL", "CPO", "CP-9"))
    assert signed is not None
    values = orjson.loads(signed)["signed_values"]
    assert [v["nature"] for v in values] == ["Start", "End"]
    assert orjson.loads(signed)["public_key"] == "KEY"
    assert await w.storage.facts.get(transaction_fact(key)) is None
    assert not await bridge.transactions.stop(w.cp, "9", 5000.0, end)  # once only


async def test_a_session_without_its_transaction_fact_is_still_ended() -> None:
    """A Session opened by a bridge that kept no fact (an older version) is ended without a
    last period."""
    from ocpikit.ocpp_bridge.sessions import transaction_fact

    w = World()
    await w.setup()
    await w.bridge.start(w.cp, 1, "9", "TAG1", 0.0, T0)
    key = ObjectKey("Session", "NL", "CPO", "CP-9")
    await w.storage.facts.delete(transaction_fact(key))
    bridge = Bridge(w.ports, w.bridge.config)
    end = T0 + timedelta(minutes=30)
    assert await bridge.transactions.stop(w.cp, "9", 5000.0, end)
    stored = await w.storage.objects.get(key)
    assert stored is not None and stored.document["status"] == "COMPLETED"
    assert stored.document["end_date_time"] == "2026-01-01T10:30:00Z"
    assert not await bridge.transactions.stop(w.cp, "9", 5000.0, end)  # once only


async def test_a_stop_right_after_the_last_reading_adds_no_period() -> None:
    """OCPP 2.0.1 chargers end a transaction with a reading milliseconds after their last
    sample: no energy, no new charging period (the Session ends with the periods it had)."""
    w = World()
    await w.setup()
    await w.bridge.start(w.cp, 1, "5", "TAG1", 1000.0, T0)
    last = T0 + timedelta(minutes=10)
    await w.bridge.transactions.meter(w.cp, "5", 2000.0, last)
    await w.bridge.transactions.stop(w.cp, "5", 2000.0, last + timedelta(milliseconds=4))
    stored = await w.storage.objects.get(ObjectKey("Session", "NL", "CPO", "CP-5"))
    assert stored is not None and stored.document["status"] == "COMPLETED"
    assert len(stored.document["charging_periods"]) == 1
    assert stored.document["kwh"] == 1.0
    # a reading with energy opens a period however soon it comes
    await w.bridge.start(w.cp, 1, "6", "TAG1", 1000.0, T0)
    await w.bridge.transactions.meter(w.cp, "6", 2000.0, last)
    await w.bridge.transactions.stop(w.cp, "6", 2100.0, last + timedelta(milliseconds=4))
    stored = await w.storage.objects.get(ObjectKey("Session", "NL", "CPO", "CP-6"))
    assert stored is not None and len(stored.document["charging_periods"]) == 2


async def _received(w: World, command_id: str, command: str, request: dict[str, Any]) -> None:
    await w.storage.commands.save(
        CommandRecord(
            id=command_id,
            direction=CommandDirection.RECEIVED,
            command=command,
            state="AWAITING_RESULT",
            partner_id="DE-MSP",
            request=request,
            response_url=f"{BASE}/2.2.1/commands/{command}/{command_id}",
            deadline=w.clock.now() + timedelta(minutes=5),
        )
    )


async def _run_commands(bridge: Bridge) -> None:
    for task in await bridge.commands_once():
        await task


@pytest.mark.parametrize("answer", ["Accepted", "Rejected"])
async def test_a_reservation_is_cancelled_at_its_charger_after_a_restart(answer: str) -> None:
    """RESERVE_NOW at the charger, the platform restarts, CANCEL_RESERVATION names only the
    reservation: the new bridge still finds its charger; a refused reservation is forgotten."""
    w = World()
    await w.setup()
    reserve = {"token": TOKEN, "reservation_id": "77", "expiry_date": "2026-01-01T12:00:00Z"}
    await _received(w, "r1", "RESERVE_NOW", {**reserve, "location_id": "LOC00001"})
    link = FakeLink(w.cp, answer)
    w.bridge.links["CP"] = link  # type: ignore[assignment]
    await _run_commands(w.bridge)
    assert link.calls == [("reserve", (1, "TAG1", 77))]
    fact = reservation_fact("DE-MSP", "77")
    assert await w.storage.facts.get(fact) == ("CP" if answer == "Accepted" else None)

    restarted = Bridge(w.ports, w.bridge.config)
    after = FakeLink(w.cp, "Accepted")
    restarted.links["CP"] = after  # type: ignore[assignment]
    await _received(w, "r2", "CANCEL_RESERVATION", {"reservation_id": "77"})
    await _run_commands(restarted)
    if answer == "Accepted":
        assert after.calls == [("cancel_reservation", 77)]
        assert await w.storage.facts.get(fact) is None
    else:  # no reservation: not asked of any charger (the platform answers at the deadline)
        assert after.calls == []
