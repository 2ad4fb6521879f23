"""OCPI 2.2.1 Versions module objects (2.2.1 version_information_endpoint).

Changes from 2.1.1: ``Endpoint.role`` (:class:`InterfaceRole`, one platform may expose both the
Sender and the Receiver interface of a module); ModuleID adds ``chargingprofiles`` and
``hubclientinfo``; VersionNumber adds ``2.2`` and ``2.2.1``. The same two tolerances as 2.1.1
(custom module identifiers, unknown version numbers kept as strings) apply.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ocpikit.core.types import URL
from ocpikit.core.versions import InterfaceRole
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.types import OPEN

__all__ = [
    "OBJECTS",
    "Endpoint",
    "InterfaceRole",
    "ModuleID",
    "Version",
    "VersionDetails",
    "VersionNumber",
]


class ModuleID(StrEnum):
    """Module identifiers of 2.2.1 (§ModuleID); the same list in 2.3.0."""

    cdrs = "cdrs"
    chargingprofiles = "chargingprofiles"
    commands = "commands"
    credentials = "credentials"
    hubclientinfo = "hubclientinfo"
    locations = "locations"
    sessions = "sessions"
    tariffs = "tariffs"
    tokens = "tokens"


class VersionNumber(StrEnum):
    """Version numbers known to 2.2.1 (§VersionNumber); names are ``V`` + value."""

    V2_0 = "2.0"
    V2_1 = "2.1"
    V2_1_1 = "2.1.1"
    V2_2 = "2.2"
    V2_2_1 = "2.2.1"


class Version(OcpiModel):
    """One supported version and the URL of its details (2.2.1 §Version class)."""

    version: Annotated[VersionNumber | str, OPEN]
    url: URL


class Endpoint(OcpiModel):
    """A module endpoint with its interface role (2.2.1 §Endpoint class; unchanged in 2.3.0)."""

    identifier: Annotated[ModuleID | str, OPEN]
    role: InterfaceRole
    url: URL


class VersionDetails(OcpiModel):
    """The ``data`` of the version details endpoint (2.2.1 §Version details endpoint, Data)."""

    version: Annotated[VersionNumber | str, OPEN]
    endpoints: list[Endpoint] = Field(min_length=1)


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Version": Version,
    "VersionDetails": VersionDetails,
    "Endpoint": Endpoint,
}
