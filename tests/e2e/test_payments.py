"""Payments (2.3.0 mod_payments) between two real ``ocpikit serve`` processes: a Payment Terminal
Provider (``roles = ["PTP"]``) and a CPO exchange terminals (published by the PTP, assigned,
activated and deactivated by the CPO), the PTP starts a session paid at a terminal, the CPO's
session and CDR reach the PTP, and the PTP's financial advice confirmation reaches the CPO,
which finds the CDR it pays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.contract.server.test_versions_matrix import head_cdr, head_session

from ._nodes import Databases, Instance, until

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}
REFERENCE = "PAY-REF-0001"
TOKEN = {
    "country_code": "DE",
    "party_id": "PTP",
    "uid": "TERMINAL-PAY-1",
    "type": "AD_HOC_USER",
    "contract_id": "DE-PTP-PAY1",
    "issuer": "ocpikit terminals",
    "valid": True,
    "whitelist": "NEVER",
    "last_updated": "2026-01-01T00:00:00Z",
}
TOKEN_REF = {k: TOKEN[k] for k in ("country_code", "party_id", "uid", "type", "contract_id")}


@pytest.fixture
def nodes(tmp_path: Path, databases: Databases) -> Iterator[tuple[Instance, Instance]]:
    cpo_dir, ptp_dir = tmp_path / "cpo", tmp_path / "ptp"
    cpo = Instance(cpo_dir, "NL-CPO:CPO", databases.new(cpo_dir), versions="2.3.0")
    ptp = Instance(ptp_dir, "DE-PTP:PTP", databases.new(ptp_dir), versions="2.3.0")
    try:
        yield cpo, ptp
    finally:
        cpo.close()
        ptp.close()


def _admin(node: Instance) -> httpx.Client:
    return httpx.Client(base_url=node.url, headers=ADMIN, timeout=10)


def _terminals(client: httpx.Client, *, own: bool) -> dict[str, dict[str, Any]]:
    rows = client.get(f"/admin/api/terminals?own={'true' if own else 'false'}").json()
    return {r["object"]["terminal_id"]: r for r in rows}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_ptp_and_a_cpo_exchange_terminals_and_a_confirmation(
    nodes: tuple[Instance, Instance],
) -> None:
    cpo, ptp = nodes
    cpo.start("--demo")
    ptp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    reg = ptp.cli("register", "--versions-url", invite["versions_url"], "--token", invite["token"])
    assert reg.returncode == 0, reg.stderr
    with _admin(cpo) as c, _admin(ptp) as p:
        # the PTP presents itself as OTHER (no version has a PTP role) with a Payments Sender
        [partner] = c.get("/admin/api/partners").json()
        assert partner["id"] == "DE-PTP" and partner["roles"][0]["role"] == "OTHER", partner
        # 1. the PTP publishes a terminal for the CPO: queued, POSTed to the CPO's Receiver
        terminal = {"address": "Keizersgracht 1", "city": "Amsterdam", "invoice_creator": "CPO"}
        r = p.put("/admin/api/terminals/NL/CPO/T-0001", json=terminal)
        assert r.status_code == 201, r.text
        got = until(lambda: _terminals(c, own=False).get("T-0001"), "terminal at the CPO", 20, ptp)
        assert got["partner"] == "DE-PTP" and got["object"]["city"] == "Amsterdam"
        # 2. the CPO assigns it a location and an EVSE (PATCH at the PTP's Sender)
        assign = {"location_ids": ["LOC00001"], "evse_uids": ["LOC00001-E1"]}
        r = c.post("/admin/api/partners/DE-PTP/terminals/T-0001/assign", json=assign)
        assert r.status_code == 200, r.text
        assert _terminals(p, own=True)["T-0001"]["object"]["location_ids"] == ["LOC00001"]
        # 3. the CPO activates a terminal built into its station; then deactivates it
        r = c.post("/admin/api/partners/DE-PTP/terminals/activate", json={"reference": "SN-77"})
        assert r.status_code == 201, r.text
        made = r.json()["terminal_id"]
        assert _terminals(p, own=True)[made]["object"]["reference"] == "SN-77"
        assert made in _terminals(c, own=False)
        r = c.post(f"/admin/api/partners/DE-PTP/terminals/{made}/deactivate")
        assert r.status_code == 200, r.text
        assert made not in _terminals(p, own=True) and made not in _terminals(c, own=False)
        # a terminal the PTP does not keep for this CPO: the PTP's error, passed on
        r = c.post("/admin/api/partners/DE-PTP/terminals/NOT-YOURS/assign", json=assign)
        assert r.status_code == 400 and "Unknown Terminal 'NOT-YOURS'" in r.text, r.text
        # 4. a driver pays at T-0001: the PTP starts the session with its ad-hoc token
        start = {
            "token": TOKEN,
            "location_id": "LOC00001",
            "evse_uid": "LOC00001-E1",
            "authorization_reference": REFERENCE,
        }
        r = p.post("/admin/api/partners/NL-CPO/commands/START_SESSION", json=start)
        assert r.status_code == 201 and r.json()["response"]["result"] == "ACCEPTED", r.text
        [received] = c.get("/admin/api/commands?direction=received").json()
        assert received["request"]["authorization_reference"] == REFERENCE
        # 5. the CPO's session and CDR go to the PTP (the token's party)
        session = {
            **head_session("PAY-S1", "2026-01-01T10:00:00Z"),
            "cdr_token": TOKEN_REF,
            "auth_method": "COMMAND",
            "authorization_reference": REFERENCE,
        }
        assert c.put("/admin/api/sessions/NL/CPO/PAY-S1", json=session).status_code == 201
        cdr = {
            **head_cdr("PAY-C1"),
            "cdr_token": TOKEN_REF,
            "auth_method": "COMMAND",
            "authorization_reference": REFERENCE,
            "invoice_reference_id": "INV-0001",
            # written now: the CPO looks for the CDR a confirmation pays among recent ones
            "last_updated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        assert c.put("/admin/api/cdrs/NL/CPO/PAY-C1", json=cdr).status_code == 201

        def at_ptp(module: str, ident: str) -> Any:
            items = p.get(f"/admin/api/{module}?owner=NL-CPO&limit=1000").json()["items"]
            return next((i for i in items if i["object"]["id"] == ident), None)

        until(lambda: at_ptp("sessions", "PAY-S1"), "session at the PTP", 20, cpo)
        until(lambda: at_ptp("cdrs", "PAY-C1"), "CDR at the PTP", 20, cpo)
        # 6. the PTP captured the amount: its confirmation reaches the CPO, linked to the CDR
        fac = {
            "id": "FAC-0001",
            "authorization_reference": REFERENCE,
            "total_costs": {"before_taxes": 3.9, "taxes": [{"name": "VAT", "amount": 0.82}]},
            "currency": "EUR",
            "eft_data": ["card ****1234", "auth 998877"],
            "capture_status_code": "SUCCESS",
        }
        r = p.post("/admin/api/financial-advice-confirmations/NL/CPO", json=fac)
        assert r.status_code == 201, r.text

        def paid() -> Any:
            rows = c.get("/admin/api/payments/confirmations").json()
            return rows or None

        [row] = until(paid, "the confirmation at the CPO", 20, ptp)
        assert row["partner"] == "DE-PTP"
        assert row["confirmation"]["eft_data"] == fac["eft_data"]
        assert row["cdr"] == {
            "country_code": "NL",
            "party_id": "CPO",
            "id": "PAY-C1",
            "invoice_reference_id": "INV-0001",
        }
        # the same through the CLI: the CPO's confirmations, and an assignment at the PTP
        out = cpo.cli("terminals", "confirmations", "--json")
        assert out.returncode == 0 and json.loads(out.stdout) == [row], out.stderr
        out = cpo.cli(
            "terminals", "assign", "DE-PTP", "T-0001", "--location", "LOC00002", "--evse", "E9"
        )
        assert out.returncode == 0, out.stdout + out.stderr
        listed = json.loads(ptp.cli("terminals", "list", "--json").stdout)
        [mine] = [t["object"] for t in listed if t["object"]["terminal_id"] == "T-0001"]
        assert (mine["location_ids"], mine["evse_uids"]) == (["LOC00002"], ["E9"])
        out = cpo.cli("terminals", "deactivate", "DE-PTP", "NOT-YOURS")
        assert out.returncode == 1 and "Unknown Terminal 'NOT-YOURS'" in out.stdout
