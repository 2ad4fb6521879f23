"""The Invoice Reconciliation module at a partner (OCPI 2.3.0 ``mod_invoice_reconciliation``):
the Receiver our InvoiceReconciliationRecords are PUT to (``{url}/{country_code}/{party_id}/
{id}``: "Update an existing InvoiceReconciliationRecord"; a PUT of the full record is what the
outbox coalesces and retries safely), and the Sender list."""

from __future__ import annotations

from .objects import ObjectsClient

__all__ = ["InvoiceReconciliationClient"]


class InvoiceReconciliationClient(ObjectsClient):
    module = "invoicereconciliation"

    __slots__ = ()
