"""OCPI 2.2.1 Tariffs module objects (2.2.1 ``mod_tariffs.asciidoc`` §Object description and
§Data types).

Changes from 2.1.1 (DIGEST §4.1, §6.6): owner fields, ``type`` (TariffType), ``min_price`` /
``max_price`` as :class:`~ocpikit.models.v2_2_1.types.Price`, a validity window, ``vat`` per
PriceComponent, and current/reservation restrictions with regexes for times and dates. So
Tariff, TariffElement, PriceComponent and TariffRestrictions are written out whole here;
``DayOfWeek`` and ``TariffDimensionType`` are unchanged and imported from 2.1.1.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictInt

from ocpikit.core.types import URL, CiString2, CiString3, CiString36, DateTime, Number, String3
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.tariffs import DayOfWeek, TariffDimensionType
from ocpikit.models.v2_2_1.locations import EnergyMix
from ocpikit.models.v2_2_1.types import DisplayText, Price

__all__ = [
    "OBJECTS",
    "DayOfWeek",
    "PriceComponent",
    "ReservationRestrictionType",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffRestrictions",
    "TariffType",
]

TimeOfDay = Annotated[str, Field(max_length=5, pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")]
"""string(5) ``hh:mm`` local time, with the TariffRestrictions regex (§TariffRestrictions)."""

Date = Annotated[
    str,
    Field(max_length=10, pattern=r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"),
]
"""string(10) ``YYYY-MM-DD`` local date, with the TariffRestrictions regex."""


class ReservationRestrictionType(StrEnum):
    """2.2.1 mod_tariffs §ReservationRestrictionType (the bookings tag adds more; not in our
    2.3.0 text)."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffType(StrEnum):
    """2.2.1 mod_tariffs §TariffType; a closed enum in 2.3.0 as well (DIGEST §4.1)."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class PriceComponent(OcpiModel):
    """2.2.1 mod_tariffs §PriceComponent. ``price`` excludes VAT; an absent ``vat`` means no VAT
    applies, which differs from ``0``."""

    type: TariffDimensionType
    price: Number
    vat: Number | None = None
    step_size: StrictInt


class TariffRestrictions(OcpiModel):
    """2.2.1 mod_tariffs §TariffRestrictions: all optional, combined with a logical AND."""

    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    start_date: Date | None = None
    end_date: Date | None = None
    min_kwh: Number | None = None
    max_kwh: Number | None = None
    min_current: Number | None = None
    max_current: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: StrictInt | None = None
    max_duration: StrictInt | None = None
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None


class TariffElement(OcpiModel):
    """2.2.1 mod_tariffs §TariffElement."""

    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None


class Tariff(OcpiModel):
    """2.2.1 mod_tariffs §Tariff Object."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    currency: String3
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: list[TariffElement] = Field(min_length=1)
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Tariff": Tariff,
    "TariffElement": TariffElement,
    "PriceComponent": PriceComponent,
    "TariffRestrictions": TariffRestrictions,
}
