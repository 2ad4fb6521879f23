"""OCPI 2.3.0 Sessions module objects (2.3.0 ``mod_sessions.asciidoc``): the head Session.

The Sessions text is identical to 2.2.1 (DIGEST §3.2); the Session is written out again only
because ``total_cost`` is the 2.3.0 :class:`~ocpikit.models.v2_3_0.types.Price` and
``cdr_token`` the 2.3.0 :class:`~ocpikit.models.v2_3_0.cdrs.CdrToken` (OpenEnum TokenType).
ChargingPreferences and the enums are imported from 2.2.1.
"""

from __future__ import annotations

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
from ocpikit.models.v2_2_1.sessions import (
    ChargingPreferences,
    ChargingPreferencesResponse,
    ProfileType,
    SessionStatus,
)
from ocpikit.models.v2_3_0.cdrs import AuthMethod, CdrToken, ChargingPeriod
from ocpikit.models.v2_3_0.types import Price

__all__ = [
    "OBJECTS",
    "ChargingPreferences",
    "ChargingPreferencesResponse",
    "ProfileType",
    "Session",
    "SessionStatus",
]


class Session(OcpiModel):
    """2.3.0 mod_sessions §Session Object (the head Session)."""

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
