"""OCPI 2.3.0 Payments module objects (2.3.0 mod_payments §Object description, §Data types;
DIGEST §3.9). New in 2.3.0; the data owner is the Payment Terminal Provider (PTP).

- ``Terminal`` maps a physical payment terminal to Locations/EVSEs. ``last_updated`` is
  required by the table, so the spec's ``payment_terminal_create_minimal.json`` (just a
  ``terminal_id``) is not a valid Terminal (DIGEST A18).
- ``FinancialAdviceConfirmation`` (spec title "Financial Advice Confirmation") carries the
  captured amount. Its ``total_costs`` is a 2.3.0 ``Price``; the module's own examples use the
  2.2.1 shape ``{excl_vat, incl_vat}``, which is accepted too (PRACTICE A18) and dumped back
  in the shape it came in. ``eft_data`` is ``+`` (at least one line of 1 to 255 characters).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ocpikit.core.types import (
    URL,
    CiString2,
    CiString3,
    CiString10,
    CiString20,
    CiString36,
    CiString45,
    DateTime,
)
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.types import Price as PriceV221
from ocpikit.models.v2_3_0.locations import GeoLocation
from ocpikit.models.v2_3_0.types import Price

__all__ = [
    "OBJECTS",
    "CaptureStatusCode",
    "FinancialAdviceConfirmation",
    "InvoiceCreator",
    "Terminal",
]

#: CiString[1..255]: a non-empty case-insensitive string of at most 255 characters
CiString1to255 = Annotated[str, Field(min_length=1, max_length=255)]


class InvoiceCreator(StrEnum):
    """Which party invoices the driver (2.3.0 mod_payments §InvoiceCreator)."""

    CPO = "CPO"
    PTP = "PTP"


class CaptureStatusCode(StrEnum):
    """Outcome of the capture at the payment service provider (§CaptureStatusCode)."""

    SUCCESS = "SUCCESS"
    PARTIAL_SUCCESS = "PARTIAL_SUCCESS"
    FAILED = "FAILED"


class Terminal(OcpiModel):
    """A payment terminal and the Locations/EVSEs it serves (2.3.0 mod_payments §Terminal)."""

    terminal_id: CiString36
    customer_reference: CiString36 | None = None
    party_id: CiString3 | None = None
    country_code: CiString2 | None = None
    address: CiString45 | None = None
    city: CiString45 | None = None
    postal_code: CiString10 | None = None
    state: CiString20 | None = None
    country: CiString3 | None = None
    coordinates: GeoLocation | None = None
    invoice_base_url: URL | None = None
    invoice_creator: InvoiceCreator | None = None
    reference: CiString36 | None = None
    location_ids: list[CiString36] | None = None
    evse_uids: list[CiString36] | None = None
    last_updated: DateTime


class FinancialAdviceConfirmation(OcpiModel):
    """The amount captured for one authorization (2.3.0 mod_payments §Financial Advice
    Confirmation); ``total_costs`` also accepts the 2.2.1 Price shape (PRACTICE A18)."""

    id: CiString36
    authorization_reference: CiString36
    total_costs: Annotated[Price | PriceV221, Field(union_mode="left_to_right")]
    currency: CiString3
    eft_data: list[CiString1to255] = Field(min_length=1)
    capture_status_code: CaptureStatusCode
    capture_status_message: CiString1to255 | None = None
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "FinancialAdviceConfirmation": FinancialAdviceConfirmation,
    "Terminal": Terminal,
}
