"""Commands both ways in every version (DIGEST §3.6, §6.8): the eMSP sends through its backend
API, the CPO answers synchronously, hands the command to the operator and POSTs the result (or a
TIMEOUT) to the response_url; state survives a restart (new ports over the same storage)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ocpikit.client.partner_calls import flow_ports
from ocpikit.operations.commands import sweep
from ocpikit.protocol.decisions import HookDecisions

from .conftest import Node, Pair, make_pair

pytestmark = pytest.mark.anyio

TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "10000000",
    "type": "RFID",
    "contract_id": "DE-MSP-C00000000",
    "issuer": "ocpikit demo mobility",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": "2026-01-01T00:00:00Z",
}
START = {"token": TOKEN, "location_id": "LOC00001", "evse_uid": "LOC00001-E1"}


async def _send(node: Node, command: str, body: dict[str, Any]) -> dict[str, Any]:
    async with node.admin() as http:
        r = await http.post(f"/admin/api/partners/NL-CPO/commands/{command}", json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def _get(node: Node, direction: str, ident: str) -> dict[str, Any]:
    async with node.admin() as http:
        r = await http.get(f"/admin/api/commands/{direction}/{ident}")
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def _open_received(node: Node) -> list[dict[str, Any]]:
    async with node.admin() as http:
        r = await http.get("/admin/api/commands?direction=received")
    out: list[dict[str, Any]] = r.json()
    return out


async def _report(node: Node, ident: str, result: str) -> dict[str, Any]:
    async with node.admin() as http:
        r = await http.post(f"/admin/api/commands/{ident}/result", json={"result": result})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_start_session_result_reaches_the_emsp(pair: Pair) -> None:
    sent = await _send(pair.emsp, "START_SESSION", START)
    assert sent["state"] == "PENDING" and not sent["final"]
    assert sent["response"]["result"] == "ACCEPTED"
    assert sent["response_url"].endswith(f"/commands/START_SESSION/{sent['id']}")
    [received] = await _open_received(pair.cpo)
    assert received["state"] == "AWAITING_RESULT"
    assert received["request"]["location_id"] == "LOC00001"
    assert received["request"]["token"]["uid"] == "10000000"
    done = await _report(pair.cpo, received["id"], "ACCEPTED")
    assert done["state"] == "DELIVERED" and done["final"]
    got = await _get(pair.emsp, "sent", sent["id"])
    assert got["state"] == "ACCEPTED" and got["final"] and got["result"]["result"] == "ACCEPTED"
    assert await _open_received(pair.cpo) == []
    # a second result for the same command is refused (409), nothing is sent again
    async with pair.cpo.admin() as http:
        r = await http.post(
            f"/admin/api/commands/{received['id']}/result", json={"result": "FAILED"}
        )
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("version", "expected"),
    [("2.1.1", "REJECTED"), ("2.2.1", "EVSE_OCCUPIED"), ("2.3.0", "EVSE_OCCUPIED")],
)
async def test_result_values_go_through_the_converters(version: str, expected: str) -> None:
    pair = await make_pair(version)
    sent = await _send(pair.emsp, "START_SESSION", START)
    [received] = await _open_received(pair.cpo)
    await _report(pair.cpo, received["id"], "EVSE_OCCUPIED")
    got = await _get(pair.emsp, "sent", sent["id"])
    assert got["state"] == expected


async def test_operator_silence_becomes_timeout_at_both_ends(pair: Pair) -> None:
    sent = await _send(pair.emsp, "STOP_SESSION", {"session_id": "S-UNKNOWN"})
    assert sent["state"] == "UNKNOWN_SESSION" and sent["final"]
    sent = await _send(pair.emsp, "START_SESSION", START)
    timeout = sent["response"].get("timeout", 30)
    pair.clock.advance(timedelta(seconds=timeout + 1))
    # the CPO sweeps first: TIMEOUT is POSTed to the response_url
    assert await sweep(pair.cpo.flows) == 1
    got = await _get(pair.emsp, "sent", sent["id"])
    assert got["state"] == "TIMEOUT" and got["final"]
    [] = await _open_received(pair.cpo)


async def test_emsp_times_out_when_no_result_arrives(pair: Pair) -> None:
    sent = await _send(
        pair.emsp,
        "UNLOCK_CONNECTOR",
        {"location_id": "LOC00001", "evse_uid": "LOC00001-E1", "connector_id": "1"},
    )
    assert sent["state"] == "PENDING"
    pair.clock.advance(timedelta(seconds=10))
    assert await sweep(pair.emsp.flows) == 0  # not yet due
    pair.clock.advance(timedelta(seconds=sent["response"].get("timeout", 30)))
    # a restart: fresh ports over the same storage find the overdue command
    restarted = flow_ports(
        pair.emsp.storage, pair.emsp.http, base_url="http://emsp.test", clock=pair.clock
    )
    assert await sweep(restarted) == 1
    got = await _get(pair.emsp, "sent", sent["id"])
    assert got["state"] == "TIMEOUT"
    # a late result is still recorded
    [received] = await _open_received(pair.cpo)
    await _report(pair.cpo, received["id"], "ACCEPTED")
    assert (await _get(pair.emsp, "sent", sent["id"]))["state"] == "ACCEPTED"


async def test_result_delivery_is_retried_until_the_emsp_is_back(pair: Pair) -> None:
    sent = await _send(pair.emsp, "START_SESSION", START)
    [received] = await _open_received(pair.cpo)
    pair.router.down.add("emsp.test")
    first = await _report(pair.cpo, received["id"], "ACCEPTED")
    assert first["state"] == "RESULT_PENDING" and first["response"]["attempts"] == 1
    assert (
        "ConnectError" in first["response"]["last_error"]
        or "Transport" in first["response"]["last_error"]
    )
    assert await sweep(pair.cpo.flows) == 0  # backoff: not due yet
    pair.clock.advance(timedelta(seconds=1.5))
    assert await sweep(pair.cpo.flows) == 1  # still down: attempt 2
    pair.router.down.clear()
    pair.clock.advance(timedelta(seconds=5))
    assert await sweep(pair.cpo.flows) == 1
    assert (await _get(pair.cpo, "received", received["id"]))["state"] == "DELIVERED"
    assert (await _get(pair.emsp, "sent", sent["id"]))["state"] == "ACCEPTED"


async def test_unknown_location_is_rejected_synchronously(pair: Pair) -> None:
    sent = await _send(pair.emsp, "START_SESSION", {**START, "location_id": "NOPE"})
    assert sent["state"] == "REJECTED" and sent["final"]
    assert await _open_received(pair.cpo) == []


@pytest.mark.parametrize(
    ("version", "expected"),
    [("2.1.1", "NOT_SUPPORTED"), ("2.2.1", "PENDING"), ("2.3.0", "PENDING")],
)
async def test_cancel_reservation_exists_from_22(version: str, expected: str) -> None:
    pair = await make_pair(version)
    sent = await _send(pair.emsp, "CANCEL_RESERVATION", {"reservation_id": "R1"})
    assert sent["state"] == expected


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
async def test_operator_hook_with_an_immediate_result(version: str) -> None:
    asked: list[dict[str, Any]] = []

    def hook(request: dict[str, Any]) -> dict[str, Any]:
        asked.append(request)
        return {"result": "ACCEPTED", "timeout": 20, "command_result": "ACCEPTED"}

    pair = await make_pair(version, cpo_decisions=HookDecisions(hook))
    sent = await _send(
        pair.emsp,
        "RESERVE_NOW",
        {**START, "reservation_id": "7", "expiry_date": "2026-03-01T13:00:00Z"},
    )
    assert asked[0]["command"] == "RESERVE_NOW" and asked[0]["command_id"]
    assert sent["state"] == "PENDING"
    assert await sweep(pair.cpo.flows) == 1
    assert (await _get(pair.emsp, "sent", sent["id"]))["state"] == "ACCEPTED"


async def test_bad_command_bodies_are_refused_by_the_backend_api(pair: Pair) -> None:
    async with pair.emsp.admin() as http:
        r = await http.post(
            "/admin/api/partners/NL-CPO/commands/START_SESSION", json={"location_id": "X"}
        )
        assert r.status_code == 400 and "token" in r.json()["error"]
        r = await http.post("/admin/api/partners/NL-CPO/commands/FLY", json={})
        assert r.status_code == 404
        r = await http.post("/admin/api/partners/NOBODY/commands/START_SESSION", json=START)
        assert r.status_code == 404


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
async def test_the_emsp_sees_the_session_its_start_session_started(version: str) -> None:
    """The CPO copies the command's authorization_reference into the Session; the eMSP's view
    of the command names that session once it has arrived (ocpikit.protocol.started_sessions)."""
    from datetime import UTC, datetime

    from ocpikit.core.types import format_datetime

    pair = await make_pair(version)
    sent = await _send(pair.emsp, "START_SESSION", {**START, "authorization_reference": "REF-7"})
    assert (await _get(pair.emsp, "sent", sent["id"]))["session"] is None
    [received] = await _open_received(pair.cpo)
    await _report(pair.cpo, received["id"], "ACCEPTED")
    now = format_datetime(datetime.now(UTC))
    session = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "S-STARTED",
        "start_date_time": now,
        "kwh": 0,
        "cdr_token": {
            "country_code": "DE",
            "party_id": "MSP",
            "uid": TOKEN["uid"],
            "type": "RFID",
            "contract_id": TOKEN["contract_id"],
        },
        "auth_method": "COMMAND",
        "authorization_reference": received["request"]["authorization_reference"],
        "location_id": "LOC00001",
        "evse_uid": "LOC00001-E1",
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": now,
    }
    async with pair.cpo.admin() as http:
        r = await http.put("/admin/api/sessions/NL/CPO/S-STARTED", json=session)
        assert r.status_code == 201, r.text
    assert "sent" in await pair.cpo.deliver_outbox()
    got = await _get(pair.emsp, "sent", sent["id"])
    assert got["session"] == {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "S-STARTED",
        "status": "ACTIVE",
    }
