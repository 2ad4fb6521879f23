"""OCPI 2.1.1 CDRs module objects (2.1.1 ``mod_cdrs.md`` §3 and §4).

The 2.1.1 CDR embeds a full 2.1.1 :class:`~ocpikit.models.v2_1_1.locations.Location` (with only
the EVSE and Connector used) and 2.1.1 Tariffs, identifies the driver by ``auth_id`` only and
has a single ``total_cost`` number excluding VAT (DIGEST §5.1, §6.5). ``AuthMethod``,
``CdrDimension``, ``CdrDimensionType`` and ``ChargingPeriod`` are defined here because the
spec defines them in this module; the Sessions module uses them too.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ocpikit.core.types import CiString36, DateTime, Number, String3, String36, String255
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.locations import Location
from ocpikit.models.v2_1_1.tariffs import Tariff

__all__ = [
    "CDR",
    "OBJECTS",
    "AuthMethod",
    "CdrDimension",
    "CdrDimensionType",
    "ChargingPeriod",
]


class AuthMethod(StrEnum):
    """2.1.1 mod_cdrs §4.1 (2.2 adds ``COMMAND``)."""

    AUTH_REQUEST = "AUTH_REQUEST"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    """2.1.1 mod_cdrs §4.3. ``FLAT`` exists only in 2.1.1 (removed in 2.2, DIGEST §5.1)."""

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class CdrDimension(OcpiModel):
    """2.1.1 mod_cdrs §4.2; the unit of ``volume`` depends on ``type``."""

    type: CdrDimensionType
    volume: Number


class ChargingPeriod(OcpiModel):
    """2.1.1 mod_cdrs §4.4 (no ``tariff_id`` before 2.2)."""

    start_date_time: DateTime
    dimensions: list[CdrDimension] = Field(min_length=1)


class CDR(OcpiModel):
    """2.1.1 mod_cdrs §3.1.

    ``stop_date_time`` is the 2.1.1 name of 2.2's ``end_date_time``; ``location`` is a full
    Location limited to the EVSE and Connector used.
    """

    id: CiString36
    start_date_time: DateTime
    stop_date_time: DateTime
    auth_id: String36
    auth_method: AuthMethod
    location: Location
    meter_id: String255 | None = None
    currency: String3
    tariffs: list[Tariff] | None = None
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    total_cost: Number
    total_energy: Number
    total_time: Number
    total_parking_time: Number | None = None
    remark: String255 | None = None
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "CDR": CDR,
    "CdrDimension": CdrDimension,
    "ChargingPeriod": ChargingPeriod,
}
