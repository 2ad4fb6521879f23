"""The batch path of the CDR checks (``read_batch`` then ``judge``) gives the outcome of the
plain per-check reference (``check_one``) for every check of a varied set of CDRs: right,
wrong, duplicate, credit and the new CDR after it, missing tariff, no session, a session of
another partner, tariffs in force at the connector (one expired, one of another partner), a
Location of another partner, an unreadable CDR, another partner reusing a session id
(memory, SQLite and PostgreSQL stores)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ocpikit.operations.cdr_check_batch import read_batch
from ocpikit.operations.cdr_check_judge import BatchSessions, judge
from ocpikit.operations.cdr_checks import check_one, read_inputs, run_pending_checks
from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus, Storage
from ocpikit.storage.memory import MemoryStorage
from ocpikit.storage.sql import SqlStorage

from .test_cdr_checks import TARIFF, cdr

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CONNECTOR_TARIFFS = ["T-CONN", "T-OLD", "T-P2", "T-GONE"]


def _location(loc_id: str) -> dict[str, Any]:
    return {
        "id": loc_id,
        "time_zone": "Europe/Amsterdam",
        "evses": [
            {
                "uid": f"{loc_id}-E1",
                "connectors": [{"id": "1", "tariff_ids": CONNECTOR_TARIFFS}],
            }
        ],
    }


def _tariff(tid: str, **changes: Any) -> dict[str, Any]:
    return {**TARIFF, "id": tid, **changes}


def _unnamed(cdr_id: str, loc_id: str, **changes: Any) -> dict[str, Any]:
    """A CDR that names no tariff (priced with its connector's tariffs in force)."""
    body = cdr(cdr_id, **changes)
    body["charging_periods"] = [
        {k: v for k, v in p.items() if k != "tariff_id"} for p in body["charging_periods"]
    ]
    body["cdr_location"] = {**body["cdr_location"], "id": loc_id, "evse_uid": f"{loc_id}-E1"}
    return body


async def _put(storage: Storage, kind: str, doc: dict[str, Any], owner: str, party: str) -> None:
    key = ObjectKey(kind, "NL", party, str(doc["id"]))
    body = {"country_code": "NL", "party_id": party, "last_updated": "2026-01-01T00:00:00Z"}
    await storage.objects.put(key, {**body, **doc}, last_updated=T0, owner=owner)


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    store: Storage = (
        MemoryStorage() if storage_url == "memory" else SqlStorage.from_url(storage_url)
    )
    try:
        yield store
    finally:
        await store.aclose()


def _session(sid: str, kwh: float) -> dict[str, Any]:
    body = cdr(sid)
    keep = ("start_date_time", "end_date_time", "currency", "charging_periods")
    return {"id": sid, "status": "COMPLETED", "kwh": kwh, **{k: body[k] for k in keep}}


async def _held(storage: Storage) -> None:
    """What the CPO partners stored with us before their CDRs."""
    for pid in ("p1", "p2"):
        partner = Partner(id=pid, status=PartnerStatus.REGISTERED, version="2.2.1")
        await storage.partners.save(partner)
    await _put(storage, "Tariff", _tariff("T1"), "p1", "CPO")
    await _put(storage, "Tariff", _tariff("T-CONN"), "p1", "CPO")
    old = _tariff("T-OLD", end_date_time="2025-01-01T00:00:00Z")  # expired at the start
    await _put(storage, "Tariff", old, "p1", "CPO")
    await _put(storage, "Tariff", _tariff("T-P2", elements=[]), "p2", "CPO")  # not p1's
    await _put(storage, "Location", _location("LOC00001"), "p1", "CPO")
    await _put(storage, "Location", _location("LOC00002"), "p2", "CPO")  # not p1's
    await _put(storage, "Session", _session("S1", 10), "p1", "CPO")
    await _put(storage, "Session", _session("S-P2", 9), "p2", "CPO")  # would differ in kWh
    await _put(storage, "Tariff", _tariff("T1", party_id="CPX"), "p2", "CPX")


def _named(tid: str) -> dict[str, Any]:
    periods = cdr("x")["charging_periods"]
    return {"charging_periods": [{**periods[0], "tariff_id": tid}]}


FIRST = [  # checked and stored before the compared batch
    ("p1", cdr("D1", session_id="S-DUP")),
    ("p1", cdr("E1", session_id="S-EARLY")),
    ("p1", cdr("E1C", session_id="S-EARLY", credit=True, credit_reference_id="E1", excl=-3.0)),
]
SECOND = [
    ("p1", cdr("R1", session_id="S1")),
    ("p1", cdr("W1", session_id="S1B", excl=4.5, incl=4.95)),
    ("p1", cdr("D2", session_id="S-DUP")),  # duplicate of D1 (stored)
    ("p1", cdr("E2", session_id="s-early")),  # E1 (credited) again, session id in another case
    ("p1", cdr("CR1", session_id="S-DUP", credit=True, credit_reference_id="D1", excl=-3.0)),
    ("p1", cdr("N1", session_id="S-DUP")),  # the new CDR after the credit
    ("p1", cdr("M1", session_id="S-M", charging_periods=[])),
    ("p1", cdr("M2", session_id="S-M2") | _named("T-NONE")),
    ("p1", {k: v for k, v in cdr("NS1").items() if k != "session_id"}),  # no session
    ("p1", cdr("X1", session_id="S-P2")),  # the session of another partner
    ("p1", _unnamed("C1", "LOC00001", session_id="S-C1")),  # in force: T-CONN only
    ("p1", _unnamed("C2", "LOC00002", session_id="S-C2")),  # Location of p2: unverifiable
    ("p1", _unnamed("C3", "LOC-NONE", session_id="S-C3")),  # no such Location
    ("p1", {"id": "G1", "session_id": "S-G"}),  # unreadable
    ("p2", cdr("R1", party_id="CPX", session_id="S-DUP")),  # another partner's S-DUP
    ("p2", cdr("R2", party_id="CPX", session_id="S-DUP")),  # its own duplicate
]


async def test_the_batch_path_gives_the_reference_outcomes(storage: Storage) -> None:
    await _held(storage)
    for owner, body in FIRST:
        await _put(storage, "CDR", body, owner, body.get("party_id", "CPO"))
    assert await run_pending_checks(storage) == len(FIRST)
    for owner, body in SECOND:
        await _put(storage, "CDR", body, owner, body.get("party_id", "CPO"))
    checks = await storage.cdr_checks.claim(limit=100)
    assert len(checks) == len(SECOND)

    batched = await read_batch(storage, checks)
    partners = {p: await storage.partners.get(p) for p in ("p1", "p2")}
    ref_batch: BatchSessions = {}
    fast_batch: BatchSessions = {}
    verdicts, messages = {}, {}
    for check, inputs in zip(checks, batched, strict=True):
        assert inputs == await read_inputs(storage, check), check.cdr_id
        plain = await check_one(storage, check, partners[check.owner], ref_batch)
        fast = judge(check, partners[check.owner], inputs, fast_batch)
        assert fast.to_json() == plain.to_json(), check.cdr_id
        verdicts[(check.owner, check.cdr_id)] = (plain.verdict.value, plain.reasons)
        messages[(check.owner, check.cdr_id)] = [f["message"] for f in plain.detail["findings"]]
    assert ref_batch == fast_batch

    # the set is as varied as it says
    assert verdicts[("p1", "R1")] == ("ok", [])
    assert verdicts[("p1", "W1")][1] == ["cost"]
    assert "duplicate" in verdicts[("p1", "D2")][1]
    assert "duplicate" not in verdicts[("p1", "E2")][1]
    assert verdicts[("p1", "CR1")][1][0] == "credit"
    assert messages[("p1", "N1")] == ["session S-DUP was already billed by CDR D2"]  # not D1
    assert verdicts[("p1", "M1")][1][0] == "version_rule"  # no charging periods
    assert verdicts[("p1", "M2")][0] == "unverifiable"
    assert verdicts[("p1", "C1")] == ("ok", [])
    assert verdicts[("p1", "C2")][0] == "unverifiable"
    assert verdicts[("p1", "C3")][0] == "unverifiable"
    assert verdicts[("p1", "NS1")] == ("ok", [])
    assert verdicts[("p1", "X1")] == ("ok", [])  # p2's session is not read
    assert verdicts[("p2", "R1")] == ("ok", [])
    assert "duplicate" in verdicts[("p2", "R2")][1]
    assert "version_rule" in verdicts[("p1", "G1")][1]


async def test_the_server_counts_the_requests_it_answers() -> None:
    """What paced background work (``operations.pace``) waits for: a request in flight."""
    from ocpikit.core.versions import Role
    from ocpikit.operations.pace import REQUESTS

    from .conftest import Router, make_node

    node = make_node(Router(), "emsp.test", "DE", "MSP", (Role.EMSP,))
    before = REQUESTS.last_end
    async with node.client("no-such-token") as http:
        r = await http.get("/ocpi/versions")
    assert r.status_code == 401
    assert REQUESTS.in_flight == 0 and REQUESTS.last_end > before
