"""OCPI 2.1.1 Tokens module objects (2.1.1 mod_tokens §3, §4).

- The 2.1.1 ``Token`` carries no ``country_code``/``party_id`` (the owner is in the URL) and
  names the contract ``auth_id`` (2.2 renames it ``contract_id``; DIGEST §6.7).
- ``LocationReferences`` still has ``connector_ids`` (removed in 2.2) and ids of string(39).
- ``AuthorizationInfo`` has no ``token`` and no ``authorization_reference`` yet.
- ``WhitelistType`` keeps its four values in every later version and is imported forward.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import StrictBool

from ocpikit.core.types import DateTime, String2, String36, String39, String64
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.types import DisplayText

__all__ = [
    "OBJECTS",
    "Allowed",
    "AuthorizationInfo",
    "LocationReferences",
    "Token",
    "TokenType",
    "WhitelistType",
]


class Allowed(StrEnum):
    """Outcome of a real-time authorization (2.1.1 mod_tokens §4.1; ``AllowedType`` in 2.2)."""

    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class TokenType(StrEnum):
    """2.1.1 mod_tokens §4.3: only two kinds; 2.2 adds app and ad-hoc users."""

    OTHER = "OTHER"
    RFID = "RFID"


class WhitelistType(StrEnum):
    """When a CPO may skip real-time authorization (2.1.1 mod_tokens §4.4).

    Same four values in 2.2.1 and 2.3.0, which import this enum.
    """

    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class LocationReferences(OcpiModel):
    """Body of the authorize POST and echo in its answer (2.1.1 mod_tokens §4.2)."""

    location_id: String39
    evse_uids: list[String39] | None = None
    connector_ids: list[String36] | None = None


class Token(OcpiModel):
    """A charging token as pushed by the eMSP (2.1.1 mod_tokens §3.2)."""

    uid: String36
    type: TokenType
    auth_id: String36
    visual_number: String64 | None = None
    issuer: String64
    valid: StrictBool
    whitelist: WhitelistType
    language: String2 | None = None
    last_updated: DateTime


class AuthorizationInfo(OcpiModel):
    """Answer of a real-time authorization (2.1.1 mod_tokens §3.1)."""

    allowed: Allowed
    location: LocationReferences | None = None
    info: DisplayText | None = None


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "AuthorizationInfo": AuthorizationInfo,
    "LocationReferences": LocationReferences,
    "Token": Token,
}
