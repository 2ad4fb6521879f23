"""Real processes over loopback: an ocpikit eMSP (``ocpikit serve``) registered with an emulated
CPO backed by simulated charge points (``ocpikit emulate cpo --chargepoints 1 --signed``), once
per OCPP version. The eMSP's START_SESSION starts a transaction on the simulator (the
CommandResponse and the CommandResult both ACCEPTED); meter values reach the eMSP as a Session
with charging periods; STOP_SESSION ends it, and the CDR the emulator prices from its own
tariff, with the charger's OCMF signed readings, passes the eMSP's CDR check (verdict ok, the
signed data valid). An RFID tap is authorized in real time at the eMSP; a fault on the charger
reaches the eMSP as an EVSE-level PATCH. A RESERVE_NOW and its CANCEL_RESERVATION reach the
charger."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocpikit.eichrecht import verify_cdr
from ocpikit.testing.partner import EmulatedPartner, start_partner

from ._nodes import Databases, Instance, until

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}
CP = "ECP-CP01"
TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "E2E-RFID-7",
    "type": "RFID",
    "contract_id": "DE-MSP-E2E7",
    "issuer": "e2e",
    "valid": True,
    "whitelist": "NEVER",  # a tap is a real-time authorization at the eMSP
    "last_updated": "2026-01-01T00:00:00Z",
}


@pytest.fixture
def emsp(tmp_path: Path, databases: Databases) -> Iterator[Instance]:
    workdir = tmp_path / "emsp"
    node = Instance(workdir, "DE-MSP:EMSP", databases.new(workdir))
    try:
        node.start()
        yield node
    finally:
        node.close()


def _objects(e: httpx.Client, kind: str) -> dict[str, dict[str, Any]]:
    items = e.get(f"/admin/api/{kind}?owner=NL-ECP&limit=1000").json()["items"]
    return {i["object"]["id"]: i["object"] for i in items}


def _evse_status(e: httpx.Client, location_id: str, uid: str) -> str | None:
    location = _objects(e, "locations").get(location_id)
    evse = next((x for x in (location or {}).get("evses") or [] if x["uid"] == uid), None)
    return None if evse is None else str(evse["status"])


def _command(emsp: Instance, e: httpx.Client, command: str, body: dict[str, Any]) -> Any:
    """Send a command from the eMSP; its record once final."""
    r = e.post(f"/admin/api/partners/NL-ECP/commands/{command}", json=body)
    assert r.status_code == 201, r.text
    sent = r.json()

    def final() -> Any:
        got = e.get(f"/admin/api/commands/sent/{sent['id']}").json()
        return got if got["final"] else None

    return until(final, f"{command} result", 30, emsp)


def _cdr_checked_ok(emsp: Instance, e: httpx.Client, session_id: str) -> dict[str, Any]:
    """The eMSP received the CDR of the session and its check found nothing: priced alike,
    agreeing with the Session, the signed data valid."""

    def checked() -> dict[str, Any] | None:
        rows = e.get("/admin/api/cdr-checks").json()
        return next((r for r in rows if r["cdr_id"] == session_id and r["verdict"]), None)

    row = until(checked, "the CDR checked at the eMSP", 60, emsp)
    assert row["verdict"] == "ok" and row["reasons"] == [], row
    cdr = _objects(e, "cdrs")[session_id]
    assert cdr["total_cost"]["before_taxes"] > 0
    assert [v["nature"] for v in cdr["signed_data"]["signed_values"]] == ["Start", "End"]
    report = verify_cdr(cdr)
    assert report.status.value == "valid", report.message
    return cdr


@pytest.mark.parametrize(("ocpp", "version"), [("1.6", "2.2.1"), ("2.0.1", "2.3.0")])
def test_emsp_against_an_emulated_cpo_with_charge_points(
    emsp: Instance, ocpp: str, version: str
) -> None:
    extra = ["--chargepoints", "1", "--ocpp", ocpp, "--signed", "--token-party", "DE-MSP"]
    with start_partner("cpo", version=version, seed=3, extra=extra) as cpo:
        [site] = cpo.info["chargepoints"]
        assert site["id"] == CP
        reg = emsp.cli("register", "--versions-url", cpo.versions_url, "--token", cpo.token_a)
        assert reg.returncode == 0, reg.stderr
        with httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e:
            _run(emsp, cpo, e, site)


def _run(emsp: Instance, cpo: EmulatedPartner, e: httpx.Client, site: dict[str, Any]) -> None:
    location, (evse1, evse2) = site["location_id"], site["evse_uids"]
    # the eMSP's first pull brings the charge point's Location; its token reaches the CPO
    until(lambda: _evse_status(e, location, evse1), "the eMSP's first pull", 30, emsp)
    assert _evse_status(e, location, evse1) == "AVAILABLE"
    assert e.put("/admin/api/tokens/DE/MSP/E2E-RFID-7", json=TOKEN).status_code == 201
    cpo.wait_received(method="PUT", module="tokens", timeout=30)
    # 1. START_SESSION: the charger starts; the response and the result are both ACCEPTED
    body = {"token": TOKEN, "location_id": location, "evse_uid": evse1}
    started = _command(emsp, e, "START_SESSION", body)
    assert started["state"] == "ACCEPTED", started
    assert started["response"]["result"] == "ACCEPTED"
    assert started["result"]["result"] == "ACCEPTED"

    def first_connector() -> dict[str, Any]:
        connector: dict[str, Any] = cpo.chargepoints()["chargepoints"][0]["connectors"][0]
        return connector

    sid = until(lambda: first_connector()["session_id"], "the remote transaction", 30, emsp)
    assert first_connector()["evse_uid"] == evse1
    # 2. meter values: a Session with charging periods at the eMSP
    cpo.meter(CP, 1, 600)
    cpo.meter(CP, 1, 600)
    session = _objects(e, "sessions")[sid]
    assert session["status"] == "ACTIVE" and session["auth_method"] == "COMMAND"
    assert session["cdr_token"]["uid"] == TOKEN["uid"] and session["evse_uid"] == evse1
    assert len(session["charging_periods"]) == 2 and session["kwh"] > 3  # 20 min at 11 kW
    # 3. STOP_SESSION: the Session completes and the CDR passes the eMSP's check
    stopped = _command(emsp, e, "STOP_SESSION", {"session_id": sid})
    assert stopped["state"] == "ACCEPTED", stopped

    def completed() -> dict[str, Any] | None:
        s = _objects(e, "sessions")[sid]
        return s if s["status"] == "COMPLETED" else None

    done = until(completed, "the completed session", 30, emsp)
    assert done["end_date_time"] and len(done["charging_periods"]) == 3
    cdr = _cdr_checked_ok(emsp, e, sid)
    assert cdr["total_energy"] == done["kwh"] and cdr["auth_method"] == "COMMAND"
    # 4. an RFID tap at the second connector: real-time authorization at the eMSP
    tap = cpo.tap(TOKEN["uid"], chargepoint=CP, connector=2)
    assert tap["status"] == "Accepted", tap
    cpo.meter(CP, 2, 300)
    tapped = _objects(e, "sessions")[tap["session_id"]]
    assert tapped["auth_method"] == "AUTH_REQUEST" and tapped["authorization_reference"]
    cpo.stop_charging(CP, 2)
    _cdr_checked_ok(emsp, e, tap["session_id"])
    # 5. a fault on the charger reaches the eMSP as an EVSE-level PATCH within a second
    t0 = time.monotonic()
    cpo.charger_status(CP, 2, "Faulted")
    until(lambda: _evse_status(e, location, evse2) == "OUTOFORDER" or None, "OUTOFORDER", 5)
    assert time.monotonic() - t0 < 1.0
    patches = [
        s
        for s in cpo.sent()
        if s["method"] == "PATCH" and s["url"].endswith(f"/{location}/{evse2}")
    ]
    assert patches and patches[-1]["status_code"] == 1000, json.dumps(patches)[:2000]
    # 6. a reservation and its cancellation reach the charger, whose answers are the results
    reserve = {
        "token": TOKEN,
        "expiry_date": "2030-01-01T00:00:00Z",
        "reservation_id": "E2E-R1",
        "location_id": location,
        "evse_uid": evse1,
    }
    reserved = _command(emsp, e, "RESERVE_NOW", reserve)
    assert reserved["result"]["result"] == "ACCEPTED", reserved
    cancelled = _command(emsp, e, "CANCEL_RESERVATION", {"reservation_id": "E2E-R1"})
    assert cancelled["result"]["result"] == "ACCEPTED", cancelled
    received = cpo.chargepoints()["chargepoints"][0]["received"]
    assert received[-2:] == ["ReserveNow", "CancelReservation"], received
