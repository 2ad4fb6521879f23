"""Real processes over loopback: simulated charge points (``ocpikit emulate chargepoint``, one
per OCPP version) connect to an ocpikit CPO (``[ocpp] enabled``) registered with an ocpikit
eMSP. An RFID tap of an eMSP token is authorized in real time at the eMSP; the transaction
appears at the eMSP as a Session with charging periods and ends COMPLETED; a status change on
the charger reaches the eMSP as an EVSE-level PATCH within a second; a START_SESSION from the
eMSP starts a transaction on the simulator and the CommandResult arrives; a STOP_SESSION ends
it."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocpikit.storage.sql import SqlStorage

from ._nodes import OCPIKIT, Databases, Instance, until

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}
CONFIG = """
[cdrs]
build = "auto"

[ocpp]
enabled = true
command_poll = 0.1

[[ocpp.charge_points]]
id = "CP-16"
location_id = "LOC00001"
evse_uids = ["LOC00001-E2", "LOC00001-E3"]

[[ocpp.charge_points]]
id = "CP-201"
location_id = "LOC00002"
evse_uids = ["LOC00002-E1", "LOC00002-E2"]
"""
TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "E2E-RFID-1",
    "type": "RFID",
    "contract_id": "DE-MSP-E2E1",
    "issuer": "e2e",
    "valid": True,
    "whitelist": "NEVER",  # every tap is a real-time authorization at the eMSP
    "last_updated": "2026-01-01T00:00:00Z",
}


class Charger:
    """One ``ocpikit emulate chargepoint`` process, driven through its standard input."""

    def __init__(self, url: str, cp_id: str, ocpp: str, workdir: Path) -> None:
        self.proc = subprocess.Popen(
            [
                *OCPIKIT,
                *("emulate", "chargepoint", "--ocpp", ocpp, "--url", url, "--id", cp_id),
                "--signed",
            ],
            cwd=workdir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except json.JSONDecodeError:
                self.lines.put({"raw": line})

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def expect(self, pred: Callable[[dict[str, Any]], bool], what: str, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(event)
            if pred(event):
                return event
        raise AssertionError(f"charger: no {what}; seen {self.seen[-10:]}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def nodes(tmp_path: Path, databases: Databases) -> Iterator[tuple[Instance, Instance]]:
    cpo_dir, emsp_dir = tmp_path / "cpo", tmp_path / "emsp"
    cpo = Instance(cpo_dir, "NL-CPO:CPO", databases.new(cpo_dir), config=CONFIG)
    emsp = Instance(emsp_dir, "DE-MSP:EMSP", databases.new(emsp_dir))
    try:
        yield cpo, emsp
    finally:
        cpo.close()
        emsp.close()


def _sessions(e: httpx.Client) -> dict[str, dict[str, Any]]:
    items = e.get("/admin/api/sessions?owner=NL-CPO&limit=1000").json()["items"]
    return {i["object"]["id"]: i["object"] for i in items}


def _evse_status(e: httpx.Client, location_id: str, uid: str) -> str | None:
    items = e.get("/admin/api/locations?owner=NL-CPO&limit=1000").json()["items"]
    for item in items:
        if item["object"]["id"] == location_id:
            for evse in item["object"].get("evses") or []:
                if evse["uid"] == uid:
                    return str(evse["status"])
    return None


@pytest.mark.parametrize(
    ("ocpp", "cp_id", "location", "evses"),
    [
        ("1.6", "CP-16", "LOC00001", ("LOC00001-E2", "LOC00001-E3")),
        ("2.0.1", "CP-201", "LOC00002", ("LOC00002-E1", "LOC00002-E2")),
    ],
)
def test_charge_point_to_emsp(
    nodes: tuple[Instance, Instance],
    tmp_path: Path,
    ocpp: str,
    cp_id: str,
    location: str,
    evses: tuple[str, str],
) -> None:
    cpo, emsp = nodes
    cpo.start("--demo")
    emsp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    reg = emsp.cli("register", "--versions-url", invite["versions_url"], "--token", invite["token"])
    assert reg.returncode == 0, reg.stderr
    ws = cpo.url.replace("http", "ws", 1) + "/ocpp"
    charger = Charger(ws, cp_id, ocpp, tmp_path)
    try:
        with (
            httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c,
            httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e,
        ):
            _run(cpo, emsp, c, e, charger, cp_id, location, evses)
    finally:
        charger.close()
    _evse_patches_seen(emsp, location, evses[1])


def _run(
    cpo: Instance,
    emsp: Instance,
    c: httpx.Client,
    e: httpx.Client,
    charger: Charger,
    cp_id: str,
    location: str,
    evses: tuple[str, str],
) -> None:
    # the eMSP's token reaches the CPO; the charger boots and reports its connectors
    assert e.put("/admin/api/tokens/DE/MSP/E2E-RFID-1", json=TOKEN).status_code == 201
    until(
        lambda: c.get("/admin/api/tokens?owner=DE-MSP").json()["items"] or None,
        "token push",
        30,
        cpo,
        emsp,
    )
    charger.expect(lambda ev: ev.get("ready") is True, "ready")
    until(lambda: _evse_status(e, location, evses[0]), "the eMSP's first pull", 30, cpo, emsp)
    # 1. an RFID tap, authorized in real time by the eMSP; the Session with charging periods
    charger.send(f"tap 1 {TOKEN['uid']}")
    tap = charger.expect(lambda ev: "tap" in ev, "tap answer")
    assert tap["status"] == "Accepted", tap
    charger.send("meter 1 600")
    charger.send("meter 1 600")

    def charging() -> dict[str, Any] | None:
        for s in _sessions(e).values():
            if s["evse_uid"] == evses[0] and len(s.get("charging_periods") or []) >= 2:
                return s
        return None

    session = until(charging, "session with charging periods", 30, cpo, emsp)
    assert session["status"] == "ACTIVE" and session["cdr_token"]["uid"] == TOKEN["uid"]
    assert session["auth_method"] == "AUTH_REQUEST"
    assert session["kwh"] > 3  # two periods of 10 minutes at 11 kW
    # the stop's own period (no energy) counts only when it lasts a second (MIN_PERIOD_SECONDS):
    # on a fast machine the stop could follow the last reading within one
    time.sleep(1.2)
    charger.send("stop 1")

    def completed() -> dict[str, Any] | None:
        s = _sessions(e).get(session["id"])
        return s if s and s["status"] == "COMPLETED" else None

    done = until(completed, "completed session", 30, cpo, emsp)
    assert done["end_date_time"] and len(done["charging_periods"]) == 3
    _cdr_checked_ok(cpo, emsp, e, done["id"])
    # 2. a status change on the charger reaches the eMSP within a second
    t0 = time.monotonic()
    charger.send("status 2 Faulted")
    until(lambda: _evse_status(e, location, evses[1]) == "OUTOFORDER" or None, "status", 5)
    assert time.monotonic() - t0 < 1.0
    # 3. START_SESSION from the eMSP: the charger starts, the CommandResult arrives
    body = {"token": TOKEN, "location_id": location, "evse_uid": evses[0]}
    r = e.post("/admin/api/partners/NL-CPO/commands/START_SESSION", json=body)
    assert r.status_code == 201, r.text
    sent = r.json()

    def result() -> Any:
        got = e.get(f"/admin/api/commands/sent/{sent['id']}").json()
        return got if got["final"] else None

    assert until(result, "START_SESSION result", 30, cpo, emsp)["state"] == "ACCEPTED"
    charger.expect(lambda ev: str(ev.get("received", "")).endswith("StartTransaction"), "start")

    def remote() -> dict[str, Any] | None:
        for s in _sessions(e).values():
            if s["auth_method"] == "COMMAND" and s["status"] == "ACTIVE":
                return s
        return None

    started = until(remote, "the remotely started session", 30, cpo, emsp)
    _charging_profile(cpo, emsp, e, started["id"])
    # 4. STOP_SESSION ends it
    r = e.post(
        "/admin/api/partners/NL-CPO/commands/STOP_SESSION", json={"session_id": started["id"]}
    )
    assert r.status_code == 201, r.text
    stop = r.json()

    def stopped() -> Any:
        got = e.get(f"/admin/api/commands/sent/{stop['id']}").json()
        return got if got["final"] else None

    assert until(stopped, "STOP_SESSION result", 30, cpo, emsp)["state"] == "ACCEPTED"
    until(
        lambda: _sessions(e)[started["id"]]["status"] == "COMPLETED" or None,
        "remote session completed",
        30,
        cpo,
        emsp,
    )


def _cdr_checked_ok(cpo: Instance, emsp: Instance, e: httpx.Client, session_id: str) -> None:
    """The CPO built the CDR of the completed session ([cdrs] build = "auto") with the
    charger's signed readings; the eMSP's check of it agrees with the price engine and the
    signed data (verdict ok)."""

    def checked() -> dict[str, Any] | None:
        rows = e.get("/admin/api/cdr-checks").json()
        return next((r for r in rows if r["cdr_id"] == session_id and r["verdict"]), None)

    row = until(checked, "the CDR checked at the eMSP", 60, cpo, emsp)
    assert row["verdict"] == "ok", row
    items = e.get("/admin/api/cdrs?owner=NL-CPO&limit=1000").json()["items"]
    [cdr] = [i["object"] for i in items if i["object"]["id"] == session_id]
    assert cdr["signed_data"]["encoding_method"] == "OCMF"
    assert [v["nature"] for v in cdr["signed_data"]["signed_values"]] == ["Start", "End"]


def _charging_profile(cpo: Instance, emsp: Instance, e: httpx.Client, session_id: str) -> None:
    """SET_PROFILE reaches the charger as SetChargingProfile; GET_PROFILE answers its composite
    schedule as the ActiveChargingProfile."""
    url = f"/admin/api/partners/NL-CPO/chargingprofiles/{session_id}"
    profile = {
        "charging_rate_unit": "W",
        "charging_profile_period": [{"start_period": 0, "limit": 7400}],
    }

    def final(record_id: str) -> Any:
        got = e.get(f"/admin/api/commands/sent/{record_id}").json()
        return got if got["final"] else None

    r = e.post(url, json={"action": "SET_PROFILE", "charging_profile": profile})
    assert r.status_code == 201, r.text
    assert until(lambda: final(r.json()["id"]), "SET_PROFILE", 30, cpo, emsp)["state"] == "ACCEPTED"
    r = e.post(url, json={"action": "GET_PROFILE", "duration": 600})
    assert r.status_code == 201, r.text
    got = until(lambda: final(r.json()["id"]), "GET_PROFILE", 30, cpo, emsp)
    assert got["state"] == "ACCEPTED", got
    active = got["result"]["profile"]["charging_profile"]
    assert active["charging_profile_period"] == [{"start_period": 0, "limit": 7400}], got


def _evse_patches_seen(emsp: Instance, location: str, uid: str) -> None:
    """The eMSP received the status change as an EVSE-level PATCH."""
    emsp.stop()

    async def requests(s: SqlStorage) -> list[tuple[str, str]]:
        page = await s.exchanges.recent(limit=1000)
        return [(x.method, x.url) for x in page if "/locations/" in x.url]

    seen = emsp.run(requests)
    assert ("PATCH", f"/locations/NL/CPO/{location}/{uid}") in [
        (m, u[u.index("/locations/") :]) for m, u in seen
    ], seen
