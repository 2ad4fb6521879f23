"""The checks of received CDRs look again when what they read changes: a CDR that arrived
before its tariff is checked again when the tariff arrives; a CDR that names no tariff is
priced with its connector's tariff in force at its start; the new CDR of a correction that
arrived before its credit CDR is no longer a duplicate once the credit is checked; two workers
never hold the same check (memory, SQLite and PostgreSQL stores)."""

from __future__ import annotations

import dataclasses

import pytest

from ocpikit.operations.cdr_checks import list_checks, run_pending_checks

from .conftest import Node
from .test_cdr_builds import location
from .test_cdr_checks import TARIFF, cdr, emsp_and_token

pytestmark = pytest.mark.anyio

__all__ = ["emsp_and_token"]

BASE = "/ocpi/2.2.1/emsp"


async def _verdicts(emsp: Node) -> dict[str, tuple[str | None, list[str]]]:
    return {r["cdr_id"]: (r["verdict"], r["reasons"]) for r in await list_checks(emsp.storage)}


async def test_a_cdr_before_its_tariff_is_checked_again_when_the_tariff_arrives(
    emsp_and_token: tuple[Node, str],
) -> None:
    emsp, token = emsp_and_token
    async with emsp.client(token) as http:
        r = await http.post(f"{BASE}/cdrs", json=cdr("C-EARLY"))
        assert r.status_code == 201, r.text
        assert await run_pending_checks(emsp.storage) == 1
        assert (await _verdicts(emsp))["C-EARLY"] == ("unverifiable", ["tariff_missing"])
        r = await http.put(f"{BASE}/tariffs/NL/CPO/T1", json=TARIFF)
        assert r.status_code in (200, 201), r.text
    # queued again in the write that stored the tariff
    assert [c.cdr_id for c in await emsp.storage.cdr_checks.pending()] == ["C-EARLY"]
    assert await run_pending_checks(emsp.storage) == 1
    assert (await _verdicts(emsp))["C-EARLY"] == ("ok", [])


async def test_a_cdr_naming_no_tariff_is_priced_with_the_tariff_in_force_at_its_start(
    emsp_and_token: tuple[Node, str],
) -> None:
    emsp, token = emsp_and_token
    later = {
        **TARIFF,
        "id": "T2",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 0.50, "step_size": 1}]}],
        "start_date_time": "2026-06-01T00:00:00Z",
    }
    period = {k: v for k, v in cdr("x")["charging_periods"][0].items() if k != "tariff_id"}
    async with emsp.client(token) as http:
        for tariff in (TARIFF, later):
            r = await http.put(f"{BASE}/tariffs/NL/CPO/{tariff['id']}", json=tariff)
            assert r.status_code in (200, 201), r.text
        r = await http.put(f"{BASE}/locations/NL/CPO/LOC00001", json=location(["T2", "T1"]))
        assert r.status_code in (200, 201), r.text
        for body in (
            cdr("C-JAN", charging_periods=[period]),  # T1 in force: 3.00 is right
            cdr("C-JAN-WRONG", charging_periods=[period], excl=5.0, incl=5.5),
        ):
            r = await http.post(f"{BASE}/cdrs", json=body)
            assert r.status_code == 201, r.text
    assert await run_pending_checks(emsp.storage) == 2
    got = await _verdicts(emsp)
    assert got["C-JAN"] == ("ok", [])
    assert got["C-JAN-WRONG"] == ("disputed", ["cost"])


async def test_a_new_cdr_before_its_credit_is_no_duplicate_once_the_credit_is_checked(
    emsp_and_token: tuple[Node, str],
) -> None:
    emsp, token = emsp_and_token
    async with emsp.client(token) as http:
        r = await http.put(f"{BASE}/tariffs/NL/CPO/T1", json=TARIFF)
        assert r.status_code in (200, 201), r.text
        for body in (cdr("C1", session_id="S-X"), cdr("C1-2", session_id="S-X")):
            r = await http.post(f"{BASE}/cdrs", json=body)
            assert r.status_code == 201, r.text
        assert await run_pending_checks(emsp.storage) == 2
        assert (await _verdicts(emsp))["C1-2"] == ("disputed", ["duplicate"])
        credit = cdr(
            "C1-C", session_id="S-X", excl=-3.0, incl=-3.3, credit=True, credit_reference_id="C1"
        )
        r = await http.post(f"{BASE}/cdrs", json=credit)
        assert r.status_code == 201, r.text
    while await run_pending_checks(emsp.storage):
        pass
    got = await _verdicts(emsp)
    assert got == {"C1": ("ok", []), "C1-2": ("ok", []), "C1-C": ("ok", [])}


async def test_two_workers_never_hold_the_same_check(emsp_and_token: tuple[Node, str]) -> None:
    emsp, token = emsp_and_token
    async with emsp.client(token) as http:
        r = await http.post(f"{BASE}/cdrs", json=cdr("C-LEASE"))
        assert r.status_code == 201, r.text
    first = await emsp.storage.cdr_checks.claim()
    assert [c.cdr_id for c in first] == ["C-LEASE"]
    assert await emsp.storage.cdr_checks.claim() == []  # leased to the first worker
    assert await run_pending_checks(emsp.storage) == 0
    expired = await emsp.storage.cdr_checks.claim(lease=0.0)  # nothing free yet
    assert expired == []


async def test_the_partners_dispute_reasons_decide_what_is_disputed(
    emsp_and_token: tuple[Node, str],
) -> None:
    emsp, token = emsp_and_token
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None
    await emsp.storage.partners.save(
        dataclasses.replace(partner, settings={"cdr_dispute_reasons": "cost"})
    )
    async with emsp.client(token) as http:
        r = await http.put(f"{BASE}/tariffs/NL/CPO/T1", json=TARIFF)
        assert r.status_code in (200, 201), r.text
        for body in (
            cdr("C-D1", session_id="S-D"),
            cdr("C-D2", session_id="S-D"),  # a duplicate: not a dispute for this partner
            cdr("C-COST", excl=4.5, incl=4.95),
        ):
            r = await http.post(f"{BASE}/cdrs", json=body)
            assert r.status_code == 201, r.text
    assert await run_pending_checks(emsp.storage) == 3
    got = await _verdicts(emsp)
    assert got["C-D2"] == ("ok", ["duplicate"])  # the reason is kept, the verdict is ok
    assert got["C-COST"] == ("disputed", ["cost"])


async def test_a_tariff_arriving_while_the_check_runs_gets_the_cdr_checked_again(
    emsp_and_token: tuple[Node, str],
) -> None:
    emsp, token = emsp_and_token
    async with emsp.client(token) as http:
        r = await http.post(f"{BASE}/cdrs", json=cdr("C-RACE"))
        assert r.status_code == 201, r.text
        (check,) = await emsp.storage.cdr_checks.claim()  # a check in flight: no tariff yet
        from ocpikit.operations.cdr_checks import check_one

        outcome = await check_one(emsp.storage, check, None)
        assert outcome.verdict.value == "unverifiable"
        r = await http.put(f"{BASE}/tariffs/NL/CPO/T1", json=TARIFF)  # arrives meanwhile
        assert r.status_code in (200, 201), r.text
    assert await emsp.storage.cdr_checks.finish(check, outcome)
    assert [c.cdr_id for c in await emsp.storage.cdr_checks.pending()] == ["C-RACE"]
    assert await run_pending_checks(emsp.storage) == 1
    assert (await _verdicts(emsp))["C-RACE"] == ("ok", [])
