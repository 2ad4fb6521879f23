"""OCPI 2.2.1 shared classes (2.2.1 ``types`` chapter).

- ``DisplayText`` is unchanged since 2.1.1 and imported from there.
- ``Price`` is new in 2.2 (VAT split); 2.3.0 replaces it with before_taxes/taxes.
- ``Role`` is the 2.2.1 role list, which still has ``HUB`` (2.3.0 drops it). Its own enum:
  :class:`ocpikit.core.versions.Role` also holds roles of ours that no version defines (PTP).
"""

from __future__ import annotations

from enum import StrEnum

from ocpikit.core.types import Number
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.types import DisplayText

__all__ = ["OBJECTS", "DisplayText", "Price", "Role"]


class Role(StrEnum):
    """Party roles of 2.2.1 (types §Role)."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class Price(OcpiModel):
    """A price or cost, excluding and optionally including VAT (2.2.1 types §Price)."""

    excl_vat: Number
    incl_vat: Number | None = None


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {"DisplayText": DisplayText, "Price": Price}
