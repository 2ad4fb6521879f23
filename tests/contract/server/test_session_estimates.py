"""Partners' sessions are priced by the engine as their charging periods arrive and compared
with the cost they report: a tariff misunderstanding shows on a running session, before the
CDR (memory, SQLite and PostgreSQL stores)."""

from __future__ import annotations

from typing import Any

import pytest

from ocpikit.operations.session_estimates import list_session_estimates

from .conftest import Node
from .test_cdr_builds import location
from .test_cdr_checks import TARIFF, emsp_and_token

pytestmark = pytest.mark.anyio

__all__ = ["emsp_and_token"]

ADMIN = {"Authorization": "Bearer admin-secret"}
BASE = "/ocpi/2.2.1/emsp"


def running(session_id: str, kwh: int, cost: float | None, **changes: Any) -> dict[str, Any]:
    """A 2.2.1 ACTIVE session at LOC00001 with ``kwh`` charged so far and its reported cost."""
    body: dict[str, Any] = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": session_id,
        "start_date_time": "2026-01-01T10:00:00Z",
        "kwh": kwh,
        "cdr_token": {
            "country_code": "DE",
            "party_id": "MSP",
            "uid": "10000000",
            "type": "RFID",
            "contract_id": "DE-MSP-C1",
        },
        "auth_method": "WHITELIST",
        "location_id": "LOC00001",
        "evse_uid": "LOC00001-E1",
        "connector_id": "1",
        "currency": "EUR",
        "charging_periods": [
            {
                "start_date_time": "2026-01-01T10:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": kwh}],
            }
        ],
        "status": "ACTIVE",
        "last_updated": "2026-01-01T10:30:00Z",
        **changes,
    }
    if cost is not None:
        body["total_cost"] = {"excl_vat": cost, "incl_vat": round(cost * 1.1, 2)}
    return body


async def test_a_running_sessions_reported_cost_is_compared_with_the_estimate(
    emsp_and_token: tuple[Node, str],
) -> None:
    emsp, token = emsp_and_token
    async with emsp.client(token) as http:
        r = await http.put(f"{BASE}/tariffs/NL/CPO/T1", json=TARIFF)
        assert r.status_code in (200, 201), r.text
        r = await http.put(f"{BASE}/locations/NL/CPO/LOC00001", json=location(["T1"]))
        assert r.status_code in (200, 201), r.text
        for body in (
            running("S-RIGHT", 5, 1.5),  # 5 kWh at 0.30
            running("S-CENT", 5, 1.51),  # a cent off: within the default tolerance
            running("S-WRONG", 5, 2.5),  # read as 0.50/kWh: a misunderstanding
            running("S-NOCOST", 5, None),
        ):
            r = await http.put(f"{BASE}/sessions/NL/CPO/{body['id']}", json=body)
            assert r.status_code in (200, 201), r.text
    rows = {r["session_id"]: r for r in await list_session_estimates(emsp.storage)}
    assert {k: v["verdict"] for k, v in rows.items()} == {
        "S-RIGHT": "ok",
        "S-CENT": "within_tolerance",
        "S-WRONG": "differs",
        "S-NOCOST": "no_cost",
    }
    assert (rows["S-WRONG"]["reported"], rows["S-WRONG"]["estimated"]) == ("2.5", "1.5")
    assert rows["S-WRONG"]["difference"] == "1"
    assert rows["S-WRONG"]["partner"] == "NL-CPO"

    async with emsp.client(token) as http:  # a new period arrives (appended): the estimate follows
        patch = {
            "kwh": 10,
            "charging_periods": [
                {
                    "start_date_time": "2026-01-01T10:30:00Z",
                    "dimensions": [{"type": "ENERGY", "volume": 5}],
                }
            ],
            "total_cost": {"excl_vat": 3.0, "incl_vat": 3.3},
            "last_updated": "2026-01-01T11:00:00Z",
        }
        r = await http.patch(f"{BASE}/sessions/NL/CPO/S-WRONG", json=patch)
        assert r.status_code == 200, r.text
    async with emsp.client() as admin:
        r = await admin.get("/admin/api/session-estimates?status=ACTIVE", headers=ADMIN)
        assert r.status_code == 200, r.text
        got = {x["session_id"]: (x["verdict"], x["estimated"]) for x in r.json()}
        assert got["S-WRONG"] == ("ok", "3")
        r = await admin.get("/admin/api/session-estimates?differences=true", headers=ADMIN)
        assert r.json() == []
        r = await admin.get("/admin/api/session-estimates?status=DONE", headers=ADMIN)
        assert r.status_code == 400 and "status" in r.text, r.text


async def test_a_session_without_a_tariff_is_unverifiable(emsp_and_token: tuple[Node, str]) -> None:
    emsp, token = emsp_and_token
    async with emsp.client(token) as http:
        r = await http.put(f"{BASE}/sessions/NL/CPO/S1", json=running("S1", 5, 1.5))
        assert r.status_code in (200, 201), r.text
    (row,) = await list_session_estimates(emsp.storage)
    assert (row["verdict"], row["reason"]) == ("unverifiable", "no tariff held for the session")
