"""OCPI 2.3.0 Tariffs module objects (2.3.0 ``mod_tariffs.asciidoc``): the head Tariff.

Changes from 2.2.1 (DIGEST §4.1, §4.4, §6.6):

- ``min_price``/``max_price`` become :class:`PriceLimit` (``before_taxes``/``after_taxes``);
- ``tax_included`` (:class:`TaxIncluded`) is required and says whether ``PriceComponent.price``
  includes taxes;
- ``preauthorize_amount`` (number ?) is added for the Payments module (referenced from 2.3.0
  ``mod_payments`` §Tariff; the field row is missing from our 2.3.0 Tariffs text, DIGEST §4.1).

TariffElement, PriceComponent and TariffRestrictions keep the 2.2.1 shape (only the meaning of
``price`` now follows ``tax_included``) and are imported from 2.2.1, as are the enums.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ocpikit.core.types import URL, CiString2, CiString3, CiString36, DateTime, Number, String3
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.tariffs import (
    DayOfWeek,
    PriceComponent,
    ReservationRestrictionType,
    TariffDimensionType,
    TariffElement,
    TariffRestrictions,
    TariffType,
)
from ocpikit.models.v2_3_0.locations import EnergyMix
from ocpikit.models.v2_3_0.types import DisplayText

__all__ = [
    "OBJECTS",
    "DayOfWeek",
    "PriceComponent",
    "PriceLimit",
    "ReservationRestrictionType",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffRestrictions",
    "TariffType",
    "TaxIncluded",
]


class TaxIncluded(StrEnum):
    """2.3.0 mod_tariffs §TaxIncluded. The spec value ``N/A`` is not a Python name, so its
    member is called ``NA`` (its value is ``"N/A"``)."""

    YES = "YES"
    NO = "NO"
    NA = "N/A"


class PriceLimit(OcpiModel):
    """2.3.0 mod_tariffs §PriceLimit: a bound on the session cost before and (optionally)
    after taxes; both bounds apply independently."""

    before_taxes: Number
    after_taxes: Number | None = None


class Tariff(OcpiModel):
    """2.3.0 mod_tariffs §Tariff Object (the head Tariff the price engine reads)."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    currency: String3
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    min_price: PriceLimit | None = None
    max_price: PriceLimit | None = None
    preauthorize_amount: Number | None = None
    elements: list[TariffElement] = Field(min_length=1)
    tax_included: TaxIncluded
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Tariff": Tariff,
    "TariffElement": TariffElement,
    "PriceComponent": PriceComponent,
    "PriceLimit": PriceLimit,
    "TariffRestrictions": TariffRestrictions,
}
