"""OCPI 2.3.0 Tokens module objects (2.3.0 mod_tokens §Object description, §Data types).

- ``TokenType`` becomes an OpenEnum and gains ``EMAID`` (ISO 15118); fields are typed
  ``TokenType | str`` so unknown values are kept. Because the enum changed, ``Token`` and the
  ``AuthorizationInfo`` that embeds it are written out whole here.
- ``AllowedType``, ``EnergyContract``, ``LocationReferences`` and ``WhitelistType`` are unchanged
  and imported from 2.2.1 (``WhitelistType`` from 2.1.1 via 2.2.1); ``ProfileType`` comes from
  the 2.2.1 Sessions module, unchanged in 2.3.0.
"""

from __future__ import annotations

from typing import Annotated

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
from ocpikit.models.v2_1_1.types import DisplayText
from ocpikit.models.v2_2_1.sessions import ProfileType
from ocpikit.models.v2_2_1.tokens import (
    AllowedType,
    EnergyContract,
    LocationReferences,
    WhitelistType,
)
from ocpikit.models.v2_3_0.locations import TokenType
from ocpikit.models.v2_3_0.types import OPEN

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


#: ``TokenType`` as an OpenEnum field: members for known values, strings for others
OpenTokenType = Annotated[TokenType | str, OPEN]


class Token(OcpiModel):
    """A charging token owned by an eMSP (2.3.0 mod_tokens §Token)."""

    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: OpenTokenType
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
    """Answer of a real-time authorization (2.3.0 mod_tokens §AuthorizationInfo)."""

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
