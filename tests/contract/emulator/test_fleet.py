"""The emulated CPO's fleet in process, the charger side played by direct calls and a recording
charger link, the platform by an httpx mock transport: which pushes each OCPP event causes, in
which order and shape, per OCPI version; commands forwarded to the charger and its answer as
the CommandResult; refusals of the OCPP endpoint and the control API's errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ocpikit.testing.emulator.app import build_app
from ocpikit.testing.emulator.config import EmulatorConfig
from ocpikit.testing.emulator.fleet import CommandContext, Fleet, reservation_number
from ocpikit.testing.emulator.links import Link
from ocpikit.testing.emulator.state import Emulator, Registration

PLATFORM = "http://platform.test/ocpi"
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "RFID-1",
    "type": "RFID",
    "contract_id": "DE-MSP-C1",
    "issuer": "t",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": "2026-01-01T00:00:00Z",
}


class Charger(Link):
    """A connected charger that answers every call with ``answer`` and records it."""

    def __init__(self, answer: str | None = "Accepted") -> None:
        self.answer = answer
        self.calls: list[tuple[Any, ...]] = []

    async def remote_start(self, n: int, id_tag: str, remote_id: int) -> str | None:
        self.calls.append(("start", n, id_tag))
        return self.answer

    async def remote_stop(self, tx_id: str) -> str | None:
        self.calls.append(("stop", tx_id))
        return self.answer

    async def unlock(self, n: int) -> str | None:
        self.calls.append(("unlock", n))
        return self.answer

    async def reserve(
        self, n: int | None, id_tag: str, reservation_id: int, expiry: str
    ) -> str | None:
        self.calls.append(("reserve", n, id_tag, reservation_id, expiry))
        return self.answer

    async def cancel_reservation(self, reservation_id: int) -> str | None:
        self.calls.append(("cancel", reservation_id))
        return self.answer


def _fleet(version: str) -> tuple[Fleet, list[httpx.Request]]:
    emu = Emulator(
        EmulatorConfig(role="cpo", version=version, chargepoints=1, command_delay=0), "http://e"
    )
    modules = ("locations", "sessions", "cdrs", "tokens")
    emu.registration = Registration(
        versions_url=f"{PLATFORM}/versions",
        version=version,
        endpoints=[
            {
                "identifier": m,
                "role": "SENDER" if m == "tokens" else "RECEIVER",
                "url": f"{PLATFORM}/{m}",
            }
            for m in modules
        ],
        roles=[{"role": "EMSP", "country_code": "DE", "party_id": "MSP"}],
        inbound_token="c",
        outbound_token="b",
        initiated_by="platform",
    )
    emu.stored[("tokens", "DE-MSP", "RFID-1")] = TOKEN
    return Fleet(emu), []


def _run(version: str, scenario: Callable[[Fleet], Awaitable[None]]) -> list[httpx.Request]:
    fleet, seen = _fleet(version)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            fleet._http = http
            worker = asyncio.ensure_future(fleet.pusher.run(http))
            try:
                await scenario(fleet)
                await fleet.pusher.drain()
            finally:
                worker.cancel()

    asyncio.run(go())
    return seen


def _body(r: httpx.Request) -> Any:
    return json.loads(r.content)


async def _a_charge(fleet: Fleet) -> None:
    cp = "ECP-CP01"
    await fleet.status(cp, 1, "AVAILABLE")
    assert await fleet.authorize(cp, "rfid-1") == "ALLOWED"
    assert await fleet.start(cp, 1, "7", "rfid-1", 1000, T0) == "ALLOWED"
    await fleet.status(cp, 1, "CHARGING")
    await fleet.meter(cp, "7", [(T0 + timedelta(minutes=10), Decimal(2834))])
    await fleet.status(cp, 1, "CHARGING")  # no change: no PATCH
    fleet.add_signed(cp, "7", [("OCMF|{}|{}", None)])
    await fleet.stop(cp, "7", 4667, T0 + timedelta(minutes=20))
    await fleet.meter(cp, "7", [(T0 + timedelta(minutes=30), Decimal(5000))])  # ended: nothing


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_a_charge_is_an_evse_patch_a_session_put_patches_and_a_cdr(version: str) -> None:
    seen = _run(version, _a_charge)
    sid = "ECP-CP01-7"
    steps = [(r.method, r.url.path.removeprefix("/ocpi/")) for r in seen]
    assert steps == [
        ("PATCH", "locations/NL/ECP/ECP-LOC-0001/ECP-LOC-0001-E1"),
        ("PUT", f"sessions/NL/ECP/{sid}"),
        ("PATCH", "locations/NL/ECP/ECP-LOC-0001/ECP-LOC-0001-E1"),
        ("PATCH", f"sessions/NL/ECP/{sid}"),
        ("PATCH", f"sessions/NL/ECP/{sid}"),
        ("POST", "cdrs"),
    ]
    evse, put, charging, patch, last, cdr = (_body(r) for r in seen)
    assert evse["status"] == "AVAILABLE" and charging["status"] == "CHARGING"
    assert evse["last_updated"].endswith("Z")
    assert put["status"] == "ACTIVE" and put["charging_periods"] == []
    assert put["auth_method"] == "WHITELIST" and put["cdr_token"]["uid"] == "RFID-1"
    assert patch["kwh"] == 1.834 and len(patch["charging_periods"]) == 1  # appended
    assert last["status"] == "COMPLETED" and last["kwh"] == 3.667
    assert last["charging_periods"][0]["start_date_time"] == "2026-03-01T10:10:00Z"
    price = "before_taxes" if version == "2.3.0" else "excl_vat"
    assert cdr["total_cost"][price] == last["total_cost"][price] > 0
    assert cdr["total_energy"] == 3.667 and cdr["session_id"] == sid
    assert cdr["signed_data"]["signed_values"][0]["signed_data"] == "OCMF|{}|{}"
    for r in seen:
        assert (r.headers["OCPI-to-country-code"], r.headers["OCPI-to-party-id"]) == ("DE", "MSP")
        assert r.headers["OCPI-from-party-id"] == "ECP"


def test_in_2_1_1_the_session_is_put_whole_each_time() -> None:
    seen = _run("2.1.1", _a_charge)
    sessions = [r for r in seen if "/sessions/" in r.url.path]
    assert [r.method for r in sessions] == ["PUT", "PUT", "PUT"]
    final = _body(sessions[-1])
    assert final["status"] == "COMPLETED" and len(final["charging_periods"]) == 2
    assert final["auth_id"] == "DE-MSP-C1" and final["location"]["id"] == "ECP-LOC-0001"
    cdr = _body(seen[-1])
    assert "signed_data" not in cdr and cdr["stop_date_time"] == final["end_datetime"]


def test_a_blocked_token_starts_nothing() -> None:
    async def scenario(fleet: Fleet) -> None:
        fleet.emu.stored[("tokens", "DE-MSP", "RFID-1")] = {**TOKEN, "valid": False}
        assert await fleet.authorize("ECP-CP01", "RFID-1") == "BLOCKED"
        assert await fleet.start("ECP-CP01", 1, "8", "RFID-1", 1000, T0) == "BLOCKED"
        assert await fleet.start("ECP-CP01", 5, "9", "RFID-1", 1000, T0) == "NOT_ALLOWED"
        assert not fleet.open

    assert _run("2.2.1", scenario) == []


def test_commands_go_to_the_charger_and_its_answer_is_the_result() -> None:
    ctx = CommandContext(f"{PLATFORM}/commands/R1", "NL-ECP", "DE-MSP", "corr-1")
    charger = Charger()
    outcome: dict[str, Any] = {}

    async def scenario(fleet: Fleet) -> None:
        fleet.connected("ECP-CP01", charger)
        start = {"token": TOKEN, "location_id": "ECP-LOC-0001", "evse_uid": "ECP-LOC-0001-E2"}
        outcome["start"] = fleet.command("START_SESSION", start, ctx)
        outcome["bad_evse"] = fleet.command("START_SESSION", {**start, "evse_uid": "NOPE"}, ctx)
        outcome["elsewhere"] = fleet.command(
            "START_SESSION", {**start, "location_id": "ECP-LOC-0009"}, ctx
        )
        outcome["unknown"] = fleet.command("STOP_SESSION", {"session_id": "X"}, ctx)
        await asyncio.gather(*fleet.emu.tasks)
        # the charger starts the transaction it was asked for: a COMMAND session
        assert await fleet.start("ECP-CP01", 2, "11", "RFID-1", 0, T0) == "ALLOWED"
        outcome["stop"] = fleet.command("STOP_SESSION", {"session_id": "ecp-cp01-11"}, ctx)
        await asyncio.gather(*fleet.emu.tasks)
        charger.answer = None  # no answer to the unlock
        unlock = {"location_id": "ECP-LOC-0001", "evse_uid": "ECP-LOC-0001-E1"}
        outcome["unlock"] = fleet.command("UNLOCK_CONNECTOR", unlock, ctx)
        await asyncio.gather(*fleet.emu.tasks)

    seen = _run("2.2.1", scenario)
    assert outcome["start"] == outcome["stop"] == outcome["unlock"] == ("ACCEPTED", 1000)
    assert outcome["bad_evse"] == ("REJECTED", 2003)
    assert outcome["elsewhere"] is None and outcome["unknown"] is None  # not a charge point's
    assert charger.calls == [("start", 2, "RFID-1"), ("stop", "11"), ("unlock", 1)]
    results = [_body(r)["result"] for r in seen if r.url.path.endswith("/commands/R1")]
    assert results == ["ACCEPTED", "ACCEPTED", "FAILED"]
    [put] = [_body(r) for r in seen if r.method == "PUT"]
    assert put["auth_method"] == "COMMAND" and put["evse_uid"] == "ECP-LOC-0001-E2"
    assert all(
        r.headers["X-Correlation-ID"] == "corr-1" for r in seen if "/commands/" in r.url.path
    )


def test_a_reservation_and_its_cancellation_go_to_the_charger() -> None:
    ctx = CommandContext(f"{PLATFORM}/commands/R2", "NL-ECP", "DE-MSP", "corr-2")
    charger = Charger()
    outcome: dict[str, Any] = {}
    reserve = {
        "token": TOKEN,
        "expiry_date": "2026-03-01T11:00:00Z",
        "reservation_id": "R-77",
        "location_id": "ECP-LOC-0001",
        "evse_uid": "ECP-LOC-0001-E2",
    }

    async def scenario(fleet: Fleet) -> None:
        fleet.connected("ECP-CP01", charger)
        outcome["reserve"] = fleet.command("RESERVE_NOW", reserve, ctx)
        whole = {**reserve, "reservation_id": "5", "evse_uid": None}
        outcome["whole"] = fleet.command("RESERVE_NOW", whole, ctx)
        await asyncio.gather(*fleet.emu.tasks)
        outcome["cancel"] = fleet.command("CANCEL_RESERVATION", {"reservation_id": "R-77"}, ctx)
        outcome["unknown"] = fleet.command("CANCEL_RESERVATION", {"reservation_id": "R-9"}, ctx)
        await asyncio.gather(*fleet.emu.tasks)

    seen = _run("2.2.1", scenario)
    assert outcome["reserve"] == outcome["whole"] == outcome["cancel"] == ("ACCEPTED", 1000)
    assert outcome["unknown"] is None  # no charger holds it: the emulator's own answer
    number = reservation_number("R-77")
    assert charger.calls == [
        ("reserve", 2, "RFID-1", number, "2026-03-01T11:00:00Z"),
        ("reserve", None, "RFID-1", 5, "2026-03-01T11:00:00Z"),
        ("cancel", number),
    ]
    results = [_body(r)["result"] for r in seen if r.url.path.endswith("/commands/R2")]
    assert results == ["ACCEPTED"] * 3


async def _handshake(app: Any, path: str, subprotocols: list[str]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    messages = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": [],
        "subprotocols": subprotocols,
        "server": ("e", 80),
    }
    await app(scope, receive, send)
    return sent


def test_the_ocpp_endpoint_refuses_strangers_and_the_control_api_names_the_problem() -> None:
    emu = Emulator(EmulatorConfig(role="cpo", chargepoints=1, ocpp="2.0.1"), "http://e")
    app = build_app(emu)
    refused = [{"type": "websocket.close", "code": 1008, "reason": ""}]
    assert asyncio.run(_handshake(app, "/ocpp/NOPE", ["ocpp2.0.1"])) == refused
    assert asyncio.run(_handshake(app, "/ocpp/ECP-CP01", ["ocpp1.6"])) == refused

    async def control(method: str, path: str, body: Any = None, target: Any = app) -> Any:
        transport = httpx.ASGITransport(app=target)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as http:
            return await http.request(method, f"/control/{path}", json=body)

    r = asyncio.run(control("POST", "chargepoints/ECP-CP09/status", {"connector": 1}))
    assert r.status_code == 400 and "ECP-CP01" in r.json()["error"]
    r = asyncio.run(control("POST", "chargepoints/ECP-CP01/status", {"connector": 7}))
    assert r.status_code == 400 and r.json()["error"].startswith("connector")
    r = asyncio.run(control("POST", "chargepoints/ECP-CP01/meter", {"connector": 1}))
    assert r.status_code == 400 and "no transaction" in r.json()["error"]
    r = asyncio.run(control("POST", "tap", {}))
    assert r.status_code == 400 and r.json()["error"] == "token_uid: required"
    r = asyncio.run(control("GET", "chargepoints"))
    assert [c["id"] for c in r.json()["chargepoints"]] == ["ECP-CP01"]
    plain = build_app(Emulator(EmulatorConfig(role="cpo"), "http://e"))
    assert asyncio.run(control("GET", "chargepoints", target=plain)).status_code == 404
