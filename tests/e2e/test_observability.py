"""Operating two real ``ocpikit serve`` processes over loopback (SQLite, and PostgreSQL): a
push, a pull and a command result each appear in the traffic log of the process that sent them
with direction ``out`` (and in the other's with direction ``in``, under the same request id);
``/metrics`` parses with the Prometheus text parser and its counters move with that traffic;
``/health`` and ``/ready`` answer; the JSON logs carry one event per exchange and no token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ocpikit.storage.sql import SqlStorage
from tests.contract.server.test_versions_matrix import head_session

from ._nodes import Databases, Instance, until

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}


@pytest.fixture
def pair(tmp_path: Path, databases: Databases) -> Iterator[tuple[Instance, Instance]]:
    cpo_dir, emsp_dir = tmp_path / "cpo", tmp_path / "emsp"
    cpo = Instance(cpo_dir, "NL-CPO:CPO", databases.new(cpo_dir), versions="2.2.1")
    cpo.env["OCPIKIT_LOG_EXCHANGES"] = "true"  # text lines, one per exchange
    json_logs = '[logging]\nformat = "json"\nexchanges = true\n'
    emsp = Instance(
        emsp_dir, "DE-MSP:EMSP", databases.new(emsp_dir), versions="2.2.1", config=json_logs
    )
    try:
        yield cpo, emsp
    finally:
        cpo.close()
        emsp.close()


def _admin(node: Instance) -> httpx.Client:
    return httpx.Client(base_url=node.url, headers=ADMIN, timeout=30)


def _out(http: httpx.Client, query: str) -> list[dict[str, Any]]:
    r = http.get(f"/admin/api/exchanges?direction=out&{query}")
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["exchanges"]
    return rows


def _requests(http: httpx.Client, **labels: str) -> float:
    r = http.get("/metrics")
    assert r.status_code == 200, r.text
    total = 0.0
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            if s.name == "ocpikit_requests_total" and all(
                s.labels.get(k) == v for k, v in labels.items()
            ):
                total += s.value
    return total


def _token(node: Instance, partner_id: str) -> str:
    async def read(storage: SqlStorage) -> str:
        partner = await storage.partners.get(partner_id)
        assert partner is not None and partner.outbound_token
        return partner.outbound_token

    return node.run(read)


def test_push_pull_and_command_result_are_logged_out_and_counted(
    pair: tuple[Instance, Instance],
) -> None:
    cpo, emsp = pair
    cpo.start("--demo")
    emsp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    with _admin(cpo) as c, _admin(emsp) as e:
        assert c.get("/health").json() == {"status": "ok"}
        assert c.get("/ready").json() == {"status": "ready"}
        assert httpx.get(f"{cpo.url}/metrics").status_code == 401  # the admin token's
        # registered through the backend API; the credentials handshake is logged out
        r = e.post(
            "/admin/api/registrations",
            json={"versions_url": invite["versions_url"], "token": invite["token"]},
        )
        assert r.status_code == 201, r.text
        handshake = until(lambda: _out(e, "module=credentials") or None, "the handshake")
        assert {x["method"] for x in handshake} == {"POST"}
        pushed_before = _requests(c, direction="out", module="sessions", partner="DE-MSP")
        received_before = _requests(e, direction="in", module="sessions", partner="NL-CPO")

        # 1. a push: the CPO's outbox worker PUTs the session to the eMSP
        session = head_session("OBS-S1", "2026-01-01T10:00:00Z")
        assert c.put("/admin/api/sessions/NL/CPO/OBS-S1", json=session).status_code == 201
        [push] = until(
            lambda: _out(c, "partner=DE-MSP&module=sessions&object_id=OBS-S1") or None,
            "the push in the CPO's traffic log",
            20.0,
            cpo,
        )
        assert (push["method"], push["ocpi_status"]) == ("PUT", 1000)
        assert push["status"] in (200, 201)
        inbound = until(
            lambda: (
                e.get("/admin/api/exchanges?direction=in&object_id=OBS-S1").json()["exchanges"]
                or None
            ),
            "the push in the eMSP's traffic log",
        )
        assert [x["request_id"] for x in inbound] == [push["request_id"]]

        # 2. a pull: the eMSP pulls the CPO's locations through the backend API (once the
        # first pull after the registration is done: it would share its resume point)
        def first_pull_done() -> Any:
            sync = e.get("/admin/api/partners/NL-CPO/sync").json()
            done = sync.get("locations", {}).get("last_sync") and "cdrs" in sync
            return sync if done else None

        until(first_pull_done, "the first pull", 30.0, emsp)
        r = e.post("/admin/api/partners/NL-CPO/pull", json={"module": "locations", "full": True})
        assert r.status_code == 200, r.text
        assert r.json()[0]["seen"] == 300
        pages = until(
            lambda: _out(e, "partner=NL-CPO&module=locations&status=200&limit=1000") or None,
            "the pages",
        )
        assert len(pages) >= 3 and {p["method"] for p in pages} == {"GET"}

        # 3. a command result: the eMSP starts a session, the CPO reports ACCEPTED
        start = {
            "token": {
                "country_code": "DE",
                "party_id": "MSP",
                "uid": "OBS-T1",
                "type": "RFID",
                "contract_id": "DE-MSP-OBS1",
                "issuer": "e2e",
                "valid": True,
                "whitelist": "ALLOWED",
                "last_updated": "2026-01-01T00:00:00Z",
            },
            "location_id": "LOC00001",
            "evse_uid": "LOC00001-E1",
        }
        r = e.post("/admin/api/partners/NL-CPO/commands/START_SESSION", json=start)
        assert r.status_code == 201, r.text
        [received] = c.get("/admin/api/commands?direction=received").json()
        r = c.post(f"/admin/api/commands/{received['id']}/result", json={"result": "ACCEPTED"})
        assert r.json()["state"] == "DELIVERED", r.text
        # the log is written in batches (every 0.2 s): wait for the rows
        results = until(lambda: _out(c, "partner=DE-MSP&module=commands") or None, "result")
        assert [(x["method"], x["status"]) for x in results] == [("POST", 200)]
        assert "ACCEPTED" in results[0]["request_body"]
        sent = until(lambda: _out(e, "partner=NL-CPO&module=commands") or None, "command")
        assert [x["url"].rsplit("/", 1)[-1] for x in sent] == ["START_SESSION"]

        # the counters moved with that traffic, on both sides
        assert _requests(c, direction="out", module="sessions", partner="DE-MSP") > pushed_before
        assert _requests(e, direction="in", module="sessions", partner="NL-CPO") > received_before
        assert _requests(e, direction="out", module="locations", partner="NL-CPO") >= 3

    # logs: the eMSP's are JSON lines with one event per exchange; no token anywhere
    cpo.stop()
    emsp.stop()
    tokens = [_token(emsp, "NL-CPO"), _token(cpo, "DE-MSP"), invite["token"]]
    events = [
        json.loads(line)
        for line in (emsp.workdir / "serve.log").read_text().splitlines()
        if line.startswith("{")
    ]
    exchanges = [x for x in events if x.get("logger") == "ocpikit.exchanges"]
    assert any(
        x["direction"] == "out" and x.get("module") == "locations" and x["request_id"]
        for x in exchanges
    )
    assert any(x["direction"] == "in" and x.get("object_id") == "OBS-S1" for x in exchanges)
    for node in (cpo, emsp):
        text = (node.workdir / "serve.log").read_text()
        assert "out PUT" in text or "out POST" in text or node is emsp
        for token in tokens:
            assert token not in text
