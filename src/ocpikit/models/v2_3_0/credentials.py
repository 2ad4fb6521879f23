"""OCPI 2.3.0 Credentials object (2.3.0 credentials §Credentials object, §CredentialsRole).

Changes from 2.2.1: ``hub_party_id`` (CiString(5): country code + party id of the Hub of this
platform) and Role without ``HUB`` (a Hub lists the parties reachable through it in ``roles``);
BusinessDetails embeds the 2.3.0 Image (open ImageCategory).
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from ocpikit.core.types import URL, CiString2, CiString3, CiString5, String64
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.credentials import check_unique_roles
from ocpikit.models.v2_3_0.locations import BusinessDetails
from ocpikit.models.v2_3_0.types import Role

__all__ = ["OBJECTS", "BusinessDetails", "Credentials", "CredentialsRole", "Role"]


class CredentialsRole(OcpiModel):
    """One role of a platform with its party and business details (2.3.0 §CredentialsRole)."""

    role: Role
    business_details: BusinessDetails
    party_id: CiString3
    country_code: CiString2


class Credentials(OcpiModel):
    """Token, versions URL, Hub party and roles of a platform (2.3.0 §Credentials object).
    Cross-field rule: a (role, party_id, country_code) combination is unique."""

    token: String64
    url: URL
    hub_party_id: CiString5 | None = None
    roles: list[CredentialsRole] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_roles(self) -> Self:
        check_unique_roles([(r.role, r.party_id, r.country_code) for r in self.roles])
        return self


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Credentials": Credentials,
    "CredentialsRole": CredentialsRole,
    "BusinessDetails": BusinessDetails,
}
