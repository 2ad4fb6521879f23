"""Invoice Reconciliation (OCPI 2.3.0) in the platform: the invoicing CPO writes its record
through the backend API and it is queued for the eMSP; the eMSP's records (received) are
checked against the CDRs it holds and their checked totals, and both list the differences
(memory, SQLite and PostgreSQL stores)."""

from __future__ import annotations

import pytest

from ocpikit.core.versions import Role
from ocpikit.operations.cdr_checks import run_pending_checks
from ocpikit.operations.invoice_checks import list_invoice_checks
from ocpikit.storage.memory import MemoryStorage

from .conftest import Node, Router, make_node
from .test_cdr_checks import TARIFF, cdr, emsp_and_token

pytestmark = pytest.mark.anyio

__all__ = ["emsp_and_token"]

ADMIN = {"Authorization": "Bearer admin-secret"}


def record(record_id: str, cdrs: list[str]) -> dict[str, object]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": record_id,
        "invoice_id": f"INV-{record_id}",
        "cdrs": cdrs,
        "last_updated": "2026-02-01T00:00:00Z",
    }


async def test_a_received_record_is_checked_against_the_cdrs_and_their_checks(
    emsp_and_token: tuple[Node, str],
) -> None:
    emsp, token = emsp_and_token
    async with emsp.client(token) as http:
        r = await http.put("/ocpi/2.2.1/emsp/tariffs/NL/CPO/T1", json=TARIFF)
        assert r.status_code in (200, 201), r.text
        for body in (cdr("C-OK"), cdr("C-WRONG", excl=4.5, incl=4.95), cdr("C-LATE")):
            r = await http.post("/ocpi/2.2.1/emsp/cdrs", json=body)
            assert r.status_code == 201, r.text
        assert await run_pending_checks(emsp.storage, limit=2) == 2  # C-LATE not checked yet
        for rec in (
            record("R1", ["C-OK", "C-WRONG", "C-GONE", "C-OK"]),
            record("R2", ["C-OK"]),
            record("R3", ["C-LATE"]),
        ):
            r = await http.post("/ocpi/2.3.0/emsp/invoicereconciliation", json=rec)
            assert r.status_code == 201, r.text
    rows = {r["record_id"]: r for r in await list_invoice_checks(emsp.storage)}
    r1 = rows["R1"]
    assert (r1["partner"], r1["invoice_id"], r1["verdict"]) == ("NL-CPO", "INV-R1", "differences")
    assert (r1["missing"], r1["repeated"]) == (["C-GONE"], ["C-OK"])
    assert [(d["cdr_id"], d["reasons"]) for d in r1["disputed"]] == [("C-WRONG", ["cost"])]
    assert r1["declared_total"]["excl_vat"] == "7.50"
    assert r1["checked_total"]["excl_vat"] == "6.00"
    assert r1["difference"] == "1.50"
    assert (rows["R2"]["verdict"], rows["R2"]["difference"]) == ("ok", "0.00")
    assert (rows["R3"]["verdict"], rows["R3"]["unchecked"]) == ("differences", ["C-LATE"])
    assert await run_pending_checks(emsp.storage) == 1  # the check lands: R3 is ok at once
    async with emsp.client() as admin:
        r = await admin.get("/admin/api/invoice-checks?differences=true", headers=ADMIN)
        assert r.status_code == 200, r.text
        assert [x["record_id"] for x in r.json()] == ["R1"]
        r = await admin.get("/admin/api/invoice-checks?differences=maybe", headers=ADMIN)
        assert r.status_code == 400 and "differences" in r.text, r.text


async def test_our_record_is_queued_for_the_emsp_and_listed_against_our_cdrs() -> None:
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,), storage=MemoryStorage())
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,))
    await emsp.register(cpo)
    async with cpo.client() as admin:
        r = await admin.put(
            "/admin/api/cdrs/NL/CPO/C1?version=2.2.1", json=cdr("C1"), headers=ADMIN
        )
        assert r.status_code == 201, r.text
        r = await admin.put(
            "/admin/api/invoicereconciliation/NL/CPO/R1", json=record("R1", ["C1"]), headers=ADMIN
        )
        assert r.status_code == 201, r.text
        r = await admin.put(
            "/admin/api/invoicereconciliation/NL/CPO/R2",
            json=record("R2", ["C1", "C9"]),
            headers=ADMIN,
        )
        assert r.status_code == 201, r.text
    due = {
        (e.partner_id, e.key.id)
        for e in await cpo.storage.outbox.entries()
        if e.key.kind == "InvoiceReconciliationRecord"
    }
    assert due == {("DE-MSP", "R1"), ("DE-MSP", "R2")}
    rows = {r["record_id"]: r for r in await list_invoice_checks(cpo.storage, own=True)}
    assert (rows["R1"]["verdict"], rows["R1"]["declared_total"]) == (
        "ok",
        {"excl_vat": "3.00", "incl_vat": "3.30"},
    )
    assert (rows["R2"]["verdict"], rows["R2"]["missing"]) == ("differences", ["C9"])
