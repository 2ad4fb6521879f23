"""OCPI 2.2.1 Tokens module objects (2.2.1 mod_tokens §Object description, §Data types).

Changed since 2.1.1 (DIGEST §6.7), so written out whole here:

- ``Token`` gains ``country_code``/``party_id``, ``group_id``, ``default_profile_type`` and
  ``energy_contract``; ``auth_id`` becomes ``contract_id``; ids become CiString.
- ``TokenType`` gains ``AD_HOC_USER`` and ``APP_USER``.
- ``AuthorizationInfo`` gains the (required) ``token`` and ``authorization_reference``;
  ``Allowed`` is renamed ``AllowedType``.
- ``LocationReferences`` loses ``connector_ids``; ids are CiString(36).

``WhitelistType`` is unchanged and imported from 2.1.1; ``ProfileType`` comes from the 2.2.1
Sessions module, and ``TokenType`` is defined once in the Locations module (its
``PublishTokenType`` embeds it), so CDRs, Locations and Tokens share one enum without an import
cycle.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import StrictBool

from ocpikit.core.types import (
    CiString2,
    CiString3,
    CiString36,
    DateTime,
    String2,
    String64,
)
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.tokens import WhitelistType
from ocpikit.models.v2_1_1.types import DisplayText
from ocpikit.models.v2_2_1.locations import TokenType
from ocpikit.models.v2_2_1.sessions import ProfileType

__all__ = [
    "OBJECTS",
    "AllowedType",
    "AuthorizationInfo",
    "EnergyContract",
    "LocationReferences",
    "Token",
    "TokenType",
    "WhitelistType",
]


class AllowedType(StrEnum):
    """Outcome of a real-time authorization (2.2.1 mod_tokens §AllowedType)."""

    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class EnergyContract(OcpiModel):
    """The driver's own energy supplier contract (2.2.1 mod_tokens §EnergyContract)."""

    supplier_name: String64
    contract_id: String64 | None = None


class LocationReferences(OcpiModel):
    """Body of the authorize POST and echo in its answer (2.2.1 mod_tokens
    §LocationReferences); unchanged in 2.3.0."""

    location_id: CiString36
    evse_uids: list[CiString36] | None = None


class Token(OcpiModel):
    """A charging token owned by an eMSP (2.2.1 mod_tokens §Token)."""

    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: TokenType
    contract_id: CiString36
    visual_number: String64 | None = None
    issuer: String64
    group_id: CiString36 | None = None
    valid: StrictBool
    whitelist: WhitelistType
    language: String2 | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


class AuthorizationInfo(OcpiModel):
    """Answer of a real-time authorization (2.2.1 mod_tokens §AuthorizationInfo)."""

    allowed: AllowedType
    token: Token
    location: LocationReferences | None = None
    authorization_reference: CiString36 | None = None
    info: DisplayText | None = None


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "AuthorizationInfo": AuthorizationInfo,
    "EnergyContract": EnergyContract,
    "LocationReferences": LocationReferences,
    "Token": Token,
}
