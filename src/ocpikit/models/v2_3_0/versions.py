"""OCPI 2.3.0 Versions module objects (2.3.0 version_information_endpoint).

ModuleID and VersionNumber are OpenEnums in 2.3.0 (in 2.1.1/2.2.1 we already read them
tolerantly). ModuleID has the same known values as 2.2.1 and is imported from there; the
``payments`` module and the Bookings add-on (``Booking``) are not in the table (DIGEST A17) and
arrive as plain strings. VersionNumber adds ``2.3.0``, so Version and VersionDetails are new.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ocpikit.core.types import URL
from ocpikit.core.versions import InterfaceRole
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.types import OPEN
from ocpikit.models.v2_2_1.versions import Endpoint, ModuleID

__all__ = [
    "OBJECTS",
    "Endpoint",
    "InterfaceRole",
    "ModuleID",
    "Version",
    "VersionDetails",
    "VersionNumber",
]


class VersionNumber(StrEnum):
    """Version numbers known to 2.3.0 (§VersionNumber, OpenEnum); names are ``V`` + value."""

    V2_0 = "2.0"
    V2_1 = "2.1"
    V2_1_1 = "2.1.1"
    V2_2 = "2.2"
    V2_2_1 = "2.2.1"
    V2_3_0 = "2.3.0"


class Version(OcpiModel):
    """One supported version and the URL of its details (2.3.0 §Version class)."""

    version: Annotated[VersionNumber | str, OPEN]
    url: URL


class VersionDetails(OcpiModel):
    """The ``data`` of the version details endpoint (2.3.0 §Version details endpoint, Data)."""

    version: Annotated[VersionNumber | str, OPEN]
    endpoints: list[Endpoint] = Field(min_length=1)


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Version": Version,
    "VersionDetails": VersionDetails,
    "Endpoint": Endpoint,
}
