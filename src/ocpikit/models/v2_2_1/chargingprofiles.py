"""OCPI 2.2.1 ChargingProfiles module objects (2.2.1 mod_charging_profiles §Object
description, §Data types; new in 2.2, identical in 2.3.0 which imports them).

- ``limit`` and ``min_charging_rate`` accept at most one fractional digit (§ChargingProfile,
  §ChargingProfilePeriod); this is a constraint, checked in pydantic's core.
- The ``numberPhases`` that the 2.2.1 text refers to does not exist as a field (DIGEST A12);
  it is not modelled (an unknown field sent by a peer is kept like any other).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictInt

from ocpikit.core.types import URL, DateTime, Number
from ocpikit.models.base import OcpiModel

__all__ = [
    "OBJECTS",
    "ActiveChargingProfile",
    "ActiveChargingProfileResult",
    "ChargingProfile",
    "ChargingProfilePeriod",
    "ChargingProfileResponse",
    "ChargingProfileResponseType",
    "ChargingProfileResult",
    "ChargingProfileResultType",
    "ChargingRateUnit",
    "ClearProfileResult",
    "SetChargingProfile",
]

#: a number with at most one fractional digit (e.g. 8.1)
Rate = Annotated[Number, Field(decimal_places=1)]


class ChargingRateUnit(StrEnum):
    """Unit of a profile (§ChargingRateUnit): total watts, or amperes per phase."""

    W = "W"
    A = "A"


class ChargingProfileResponseType(StrEnum):
    """Synchronous answer of the CPO (§ChargingProfileResponseType)."""

    ACCEPTED = "ACCEPTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TOO_OFTEN = "TOO_OFTEN"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class ChargingProfileResultType(StrEnum):
    """Asynchronous outcome at the EVSE (§ChargingProfileResultType)."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class ChargingProfilePeriod(OcpiModel):
    """One period of a profile, from ``start_period`` seconds on (§ChargingProfilePeriod)."""

    start_period: StrictInt
    limit: Rate


class ChargingProfile(OcpiModel):
    """A maximum power/current schedule (§ChargingProfile)."""

    start_date_time: DateTime | None = None
    duration: StrictInt | None = None
    charging_rate_unit: ChargingRateUnit
    min_charging_rate: Rate | None = None
    charging_profile_period: list[ChargingProfilePeriod] | None = None


class ActiveChargingProfile(OcpiModel):
    """The profile in force, relative to ``start_date_time`` (§ActiveChargingProfile)."""

    start_date_time: DateTime
    charging_profile: ChargingProfile


class ChargingProfileResponse(OcpiModel):
    """Synchronous answer to GET/PUT/DELETE (§ChargingProfileResponse)."""

    result: ChargingProfileResponseType
    timeout: StrictInt


class ActiveChargingProfileResult(OcpiModel):
    """Asynchronous result of a GET (§ActiveChargingProfileResult)."""

    result: ChargingProfileResultType
    profile: ActiveChargingProfile | None = None


class ChargingProfileResult(OcpiModel):
    """Asynchronous result of a PUT SetChargingProfile (§ChargingProfileResult)."""

    result: ChargingProfileResultType


class ClearProfileResult(OcpiModel):
    """Asynchronous result of a DELETE (§ClearProfileResult)."""

    result: ChargingProfileResultType


class SetChargingProfile(OcpiModel):
    """Body of ``PUT {chargingprofiles_url}/{session_id}`` (§SetChargingProfile)."""

    charging_profile: ChargingProfile
    response_url: URL


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "ActiveChargingProfile": ActiveChargingProfile,
    "ActiveChargingProfileResult": ActiveChargingProfileResult,
    "ChargingProfile": ChargingProfile,
    "ChargingProfilePeriod": ChargingProfilePeriod,
    "ChargingProfileResponse": ChargingProfileResponse,
    "ChargingProfileResult": ChargingProfileResult,
    "ClearProfileResult": ClearProfileResult,
    "SetChargingProfile": SetChargingProfile,
}
