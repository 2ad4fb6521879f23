"""OCPI 2.3.0 shared classes (2.3.0 ``types`` chapter).

- ``DisplayText`` is unchanged since 2.1.1 and imported from there.
- ``Price`` changes shape: ``before_taxes`` plus a list of :class:`TaxAmount` (North American
  taxes), replacing 2.2.1's ``excl_vat``/``incl_vat``.
- ``Role`` loses ``HUB`` (a Hub now announces itself with Credentials ``hub_party_id``). It stays
  a closed enum (types §Role); a Payment Terminal Provider has no value of its own (DIGEST A16).
- ``OPEN`` (from 2.1.1 types): typed ``Annotated[SomeEnum | str, OPEN]``, an OpenEnum keeps known
  values as members and unknown ones as plain strings (types §OpenEnum).
"""

from __future__ import annotations

from enum import StrEnum

from ocpikit.core.types import Number, String
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.types import OPEN, DisplayText

__all__ = ["OBJECTS", "OPEN", "DisplayText", "Price", "Role", "TaxAmount"]


class Role(StrEnum):
    """Party roles of 2.3.0 (types §Role): 2.2.1's list without ``HUB``."""

    CPO = "CPO"
    EMSP = "EMSP"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class TaxAmount(OcpiModel):
    """One tax applying to a price (2.3.0 types §TaxAmount)."""

    name: String
    account_number: String | None = None
    percentage: Number | None = None
    amount: Number


class Price(OcpiModel):
    """A price before taxes plus the taxes that apply (2.3.0 types §Price)."""

    before_taxes: Number
    taxes: list[TaxAmount] | None = None


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "DisplayText": DisplayText,
    "Price": Price,
    "TaxAmount": TaxAmount,
}
