"""OCPI 2.1.1 Versions module objects (2.1.1 version_information_endpoint).

- ``Version``: one entry of the version information list (the list itself is ``Version[]``).
- ``VersionDetails``: the ``data`` of the version details endpoint (version + endpoints).
- ``Endpoint``: 2.1.1 has no interface role; one URL per module.

Two tolerances, both because this module is read *before* a version is agreed:

- ``ModuleID | str``: the spec itself allows custom module identifiers (§Custom Modules, e.g.
  ``nltnm-tokens``), so unknown identifiers are kept as strings.
- ``VersionNumber | str``: a server's version list names every version it supports, including
  ones newer than the reader (a 2.1.1 client reading a list with ``2.2.1``); unknown numbers are
  kept as strings instead of failing discovery.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ocpikit.core.types import URL
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.types import OPEN

__all__ = ["OBJECTS", "Endpoint", "ModuleID", "Version", "VersionDetails", "VersionNumber"]


class ModuleID(StrEnum):
    """Module identifiers of 2.1.1 (§ModuleID)."""

    cdrs = "cdrs"
    commands = "commands"
    credentials = "credentials"
    locations = "locations"
    sessions = "sessions"
    tariffs = "tariffs"
    tokens = "tokens"


class VersionNumber(StrEnum):
    """Version numbers known to 2.1.1 (§VersionNumber). Member names cannot start with a digit,
    so they are ``V`` + the value with underscores; the values are verbatim."""

    V2_0 = "2.0"
    V2_1 = "2.1"
    V2_1_1 = "2.1.1"


class Version(OcpiModel):
    """One supported version and the URL of its details (2.1.1 §Version class)."""

    version: Annotated[VersionNumber | str, OPEN]
    url: URL


class Endpoint(OcpiModel):
    """A module endpoint of one version (2.1.1 §Endpoint class)."""

    identifier: Annotated[ModuleID | str, OPEN]
    url: URL


class VersionDetails(OcpiModel):
    """The ``data`` of the version details endpoint (2.1.1 §Version details endpoint, Data)."""

    version: Annotated[VersionNumber | str, OPEN]
    endpoints: list[Endpoint] = Field(min_length=1)


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Version": Version,
    "VersionDetails": VersionDetails,
    "Endpoint": Endpoint,
}
