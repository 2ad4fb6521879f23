"""OCPI 2.2.1 Credentials object (2.2.1 credentials §Credentials object, §CredentialsRole).

One platform may carry several roles (and the same role for several parties, e.g. white-label
CPOs), so party data moved into ``roles``. A Hub reports only itself, as role ``HUB``.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from ocpikit.core.types import URL, CiString2, CiString3, String64, ci_key
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.locations import BusinessDetails
from ocpikit.models.v2_2_1.types import Role

__all__ = ["OBJECTS", "BusinessDetails", "Credentials", "CredentialsRole", "Role"]


class CredentialsRole(OcpiModel):
    """One role of a platform with its party and business details (2.2.1 §CredentialsRole)."""

    role: Role
    business_details: BusinessDetails
    party_id: CiString3
    country_code: CiString2


def check_unique_roles(roles: list[tuple[str, str, str]]) -> None:
    """Each (role, party_id, country_code) may appear once (credentials §Credentials object);
    party ids and country codes compare case-insensitively (CiString)."""
    seen: set[tuple[str, str, str]] = set()
    for role, party_id, country_code in roles:
        key = (role, ci_key(party_id), ci_key(country_code))
        if key in seen:
            raise ValueError(f"role {role} of {country_code}/{party_id} is listed twice")
        seen.add(key)


class Credentials(OcpiModel):
    """Token, versions URL and roles of a platform (2.2.1 §Credentials object). Cross-field
    rule: a (role, party_id, country_code) combination is unique."""

    token: String64
    url: URL
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
