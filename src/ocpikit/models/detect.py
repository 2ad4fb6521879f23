"""Guess which OCPI object a JSON object is, for people holding a file without a label.

The guess is generic, driven by the registry: every model of the version is scored by how many of
the object's keys it defines, and a model is preferred when all its required fields are present.
Ties go to the spec's top-level objects (``Location`` before ``EVSE`` before ``GeoLocation``).
"""

from __future__ import annotations

from typing import Any

from ocpikit.core.versions import Version
from ocpikit.models import OBJECTS, model_for

__all__ = ["TOP_LEVEL", "detect_object"]

#: objects people are most likely to hold in a file, most likely first (tie-breaker)
TOP_LEVEL: tuple[str, ...] = (
    "Location",
    "Session",
    "CDR",
    "Tariff",
    "Token",
    "Credentials",
    "VersionDetails",
    "Version",
    "EVSE",
    "Connector",
    "AuthorizationInfo",
    "LocationReferences",
    "CommandResponse",
    "CommandResult",
    "StartSession",
    "StopSession",
    "ReserveNow",
    "CancelReservation",
    "UnlockConnector",
    "ChargingProfileResponse",
    "SetChargingProfile",
    "ActiveChargingProfile",
    "ChargingProfileResult",
    "ActiveChargingProfileResult",
    "ClearProfileResult",
    "ChargingPreferences",
    "ClientInfo",
    "Terminal",
    "FinancialAdviceConfirmation",
    "Booking",
    "BookingLocation",
    "BookingRequest",
)


def detect_object(version: Version | str, data: Any) -> str | None:
    """The most likely object name for ``data`` in ``version``, or ``None`` when nothing fits."""
    if not isinstance(data, dict) or not data:
        return None
    keys = set(data)
    text = str(version)
    best: tuple[tuple[int, int, int, int], str] | None = None
    for name in OBJECTS.get(text, {}):
        fields = model_for(text, name).model_fields
        known = keys & set(fields)
        if not known:
            continue
        required = {f for f, info in fields.items() if info.is_required()}
        complete = int(required <= keys)
        rank = len(TOP_LEVEL) - TOP_LEVEL.index(name) if name in TOP_LEVEL else 0
        score = (len(known) - len(keys - set(fields)), complete, len(known), rank)
        if best is None or score > best[0]:
            best = (score, name)
    return None if best is None else best[1]
