"""OCPI 2.1.1 Sessions module objects (2.1.1 ``mod_sessions.md`` §3 and §4).

The 2.1.1 Session embeds a full 2.1.1 Location (with only the EVSE and Connector in use),
identifies the driver by ``auth_id`` and uses ``start_datetime``/``end_datetime`` (no
underscore between date and time), unlike the CDR of the same version (DIGEST §3.2, §6.4).
``AuthMethod`` and ``ChargingPeriod`` come from the CDRs module, where 2.1.1 defines them.
"""

from __future__ import annotations

from enum import StrEnum

from ocpikit.core.types import DateTime, Number, String3, String36, String255
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.cdrs import AuthMethod, ChargingPeriod
from ocpikit.models.v2_1_1.locations import Location

__all__ = ["OBJECTS", "Session", "SessionStatus"]


class SessionStatus(StrEnum):
    """2.1.1 mod_sessions §4.1 (2.2 adds ``RESERVATION``)."""

    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"


class Session(OcpiModel):
    """2.1.1 mod_sessions §3.1. ``total_cost`` is a plain number excluding VAT."""

    id: String36
    start_datetime: DateTime
    end_datetime: DateTime | None = None
    kwh: Number
    auth_id: String36
    auth_method: AuthMethod
    location: Location
    meter_id: String255 | None = None
    currency: String3
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Number | None = None
    status: SessionStatus
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {"Session": Session}
