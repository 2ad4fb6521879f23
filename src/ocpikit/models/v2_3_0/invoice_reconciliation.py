"""OCPI 2.3.0 Invoice Reconciliation module objects (2.3.0 mod_invoice_reconciliation
§Object description; added in 2.3.0-ed2).

One client-owned object, keyed like every other by ``(country_code, party_id, id)``: it names
an invoice and the CDRs it covers, so the receiver can recompute the invoiced amount.
"""

from __future__ import annotations

from pydantic import Field

from ocpikit.core.types import CiString2, CiString3, CiString36, CiString255, DateTime
from ocpikit.models.base import OcpiModel

__all__ = ["OBJECTS", "InvoiceReconciliationRecord"]


class InvoiceReconciliationRecord(OcpiModel):
    """An invoice and the ids of the CDRs it invoices (§InvoiceReconciliationRecord).

    ``cdrs`` is ``+``: a record always names at least one CDR.
    """

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    invoice_id: CiString255
    cdrs: list[CiString36] = Field(min_length=1)
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "InvoiceReconciliationRecord": InvoiceReconciliationRecord,
}
