"""OCPI 2.3.0 ChargingProfiles module objects (2.3.0 mod_charging_profiles).

The object tables are identical to 2.2.1 (only the prose about ``numberPhases`` was dropped,
DIGEST A12), so every class is imported from the 2.2.1 module (define once, import forward).
"""

from __future__ import annotations

from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.chargingprofiles import (
    ActiveChargingProfile,
    ActiveChargingProfileResult,
    ChargingProfile,
    ChargingProfilePeriod,
    ChargingProfileResponse,
    ChargingProfileResponseType,
    ChargingProfileResult,
    ChargingProfileResultType,
    ChargingRateUnit,
    ClearProfileResult,
    SetChargingProfile,
)

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
