"""Invoice Reconciliation with reverse billing (OCPI 2.3.0 mod_invoice_reconciliation §Flow and
Lifecycle): the eMSP invoices the CPO, so the eMSP offers the Sender and the CPO the Receiver;
the eMSP's record goes to the CPO through the outbox and is checked there against the CPO's
own CDRs."""

from __future__ import annotations

import pytest

from ocpikit.core.versions import V2_3_0, InterfaceRole, Role
from ocpikit.operations.invoice_checks import list_invoice_checks
from ocpikit.protocol.endpoints import interfaces_for
from tests.contract.server.test_cdr_checks import cdr

from .conftest import ADMIN, make_pair

pytestmark = pytest.mark.anyio


def test_both_roles_offer_both_sides_in_2_3_0() -> None:
    for role in (Role.CPO, Role.EMSP):
        sides = {
            i.role
            for i in interfaces_for([role], V2_3_0)
            if i.module.value == "invoicereconciliation"
        }
        assert sides == {InterfaceRole.SENDER, InterfaceRole.RECEIVER}


async def test_the_emsps_record_reaches_the_cpo_and_is_checked_against_its_cdrs() -> None:
    pair = await make_pair("2.3.0")
    async with pair.cpo.admin() as admin:
        r = await admin.put(
            "/admin/api/cdrs/NL/CPO/C1?version=2.2.1", json=cdr("C1"), headers=ADMIN
        )
        assert r.status_code == 201, r.text
    await pair.cpo.deliver_outbox()
    record = {
        "country_code": "DE",
        "party_id": "MSP",
        "id": "RB1",
        "invoice_id": "CREDIT-NOTE-1",
        "cdrs": ["C1", "C-UNKNOWN"],
        "last_updated": "2026-03-01T12:00:00Z",
    }
    async with pair.emsp.admin() as admin:
        r = await admin.put(
            "/admin/api/invoicereconciliation/DE/MSP/RB1", json=record, headers=ADMIN
        )
        assert r.status_code == 201, r.text
    assert await pair.emsp.deliver_outbox() == ["sent"]
    [row] = await list_invoice_checks(pair.cpo.storage)
    assert (row["record_id"], row["partner"], row["invoice_id"]) == (
        "RB1",
        "DE-MSP",
        "CREDIT-NOTE-1",
    )
    assert row["missing"] == ["C-UNKNOWN"] and row["verdict"] == "differences"
    assert row["declared_total"]["excl_vat"] == row["checked_total"]["excl_vat"] != "0.00"
