"""OCPI 2.2.1 Sessions module objects (2.2.1 ``mod_sessions.asciidoc`` §Object description and
§Data types).

Changes from 2.1.1 (DIGEST §3.2, §6.4): owner fields, ``start_date_time``/``end_date_time``,
``cdr_token`` instead of ``auth_id``, the three location ids instead of an embedded Location,
``authorization_reference``, a :class:`~ocpikit.models.v2_2_1.types.Price` ``total_cost``,
``RESERVATION`` status, and the Charging Preferences objects. ``AuthMethod``, ``CdrToken`` and
``ChargingPeriod`` come from the CDRs module, where the spec defines them.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import StrictBool

from ocpikit.core.types import (
    CiString2,
    CiString3,
    CiString36,
    DateTime,
    Number,
    String3,
    String255,
)
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.cdrs import AuthMethod, CdrToken, ChargingPeriod
from ocpikit.models.v2_2_1.types import Price

__all__ = [
    "OBJECTS",
    "ChargingPreferences",
    "ChargingPreferencesResponse",
    "ProfileType",
    "Session",
    "SessionStatus",
]


class SessionStatus(StrEnum):
    """2.2.1 mod_sessions §SessionStatus (``RESERVATION`` is new; the prose's "RESERVED" is a
    spec typo, DIGEST A7)."""

    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


class ProfileType(StrEnum):
    """2.2.1 mod_sessions §ProfileType (also used by Token ``default_profile_type``)."""

    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


class ChargingPreferencesResponse(StrEnum):
    """2.2.1 mod_sessions §ChargingPreferencesResponse: the ``data`` of the PUT answer."""

    ACCEPTED = "ACCEPTED"
    DEPARTURE_REQUIRED = "DEPARTURE_REQUIRED"
    ENERGY_NEED_REQUIRED = "ENERGY_NEED_REQUIRED"
    NOT_POSSIBLE = "NOT_POSSIBLE"
    PROFILE_TYPE_NOT_SUPPORTED = "PROFILE_TYPE_NOT_SUPPORTED"


class ChargingPreferences(OcpiModel):
    """2.2.1 mod_sessions §ChargingPreferences Object; ``discharge_allowed`` defaults to false
    when absent (left absent here so that it echoes back unchanged)."""

    profile_type: ProfileType
    departure_time: DateTime | None = None
    energy_need: Number | None = None
    discharge_allowed: StrictBool | None = None


class Session(OcpiModel):
    """2.2.1 mod_sessions §Session Object. ``evse_uid``/``connector_id`` may be ``#NA`` for a
    reservation without an assigned EVSE."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    start_date_time: DateTime
    end_date_time: DateTime | None = None
    kwh: Number
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString36 | None = None
    location_id: CiString36
    evse_uid: CiString36
    connector_id: CiString36
    meter_id: String255 | None = None
    currency: String3
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None
    status: SessionStatus
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Session": Session,
    "ChargingPreferences": ChargingPreferences,
}
