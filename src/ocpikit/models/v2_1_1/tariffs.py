"""OCPI 2.1.1 Tariffs module objects (2.1.1 ``mod_tariffs.md`` §3 and §4).

2.1.1 tariffs carry no owner (``country_code``/``party_id``), no VAT, no ``type``, no
validity window and no reservation/current restrictions; every price is excluding VAT
(DIGEST §4.1, §4.4). Element selection is read per dimension, as in 2.2+ (DIGEST §4.2, A4);
that is the price engine's business, not the model's.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictInt

from ocpikit.core.types import URL, DateTime, Number, String3, String36
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.locations import EnergyMix
from ocpikit.models.v2_1_1.types import DisplayText

__all__ = [
    "OBJECTS",
    "DayOfWeek",
    "PriceComponent",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffRestrictions",
]

TimeOfDay = Annotated[str, Field(max_length=5, pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")]
"""string(5) ``hh:mm`` with the regex the 2.1.1 TariffRestrictions table gives (§4.5)."""

Date = Annotated[str, Field(max_length=10)]
"""string(10) ``YYYY-MM-DD``; 2.1.1 gives no regex for dates (§4.5), so only the length is
checked here (2.2.1 adds the regex)."""


class DayOfWeek(StrEnum):
    """2.1.1 mod_tariffs §4.1."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class TariffDimensionType(StrEnum):
    """2.1.1 mod_tariffs §4.4; the same four values in every version (DIGEST §4.1)."""

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class PriceComponent(OcpiModel):
    """2.1.1 mod_tariffs §4.2. ``price`` excludes VAT; ``step_size`` units per DIGEST §4.3."""

    type: TariffDimensionType
    price: Number
    step_size: StrictInt


class TariffRestrictions(OcpiModel):
    """2.1.1 mod_tariffs §4.5 (all fields optional)."""

    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    start_date: Date | None = None
    end_date: Date | None = None
    min_kwh: Number | None = None
    max_kwh: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: StrictInt | None = None
    max_duration: StrictInt | None = None
    day_of_week: list[DayOfWeek] | None = None


class TariffElement(OcpiModel):
    """2.1.1 mod_tariffs §4.3."""

    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None


class Tariff(OcpiModel):
    """2.1.1 mod_tariffs §3.1. ``id`` is string(36), case sensitive in 2.1.1."""

    id: String36
    currency: String3
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    elements: list[TariffElement] = Field(min_length=1)
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Tariff": Tariff,
    "TariffElement": TariffElement,
    "PriceComponent": PriceComponent,
    "TariffRestrictions": TariffRestrictions,
}
