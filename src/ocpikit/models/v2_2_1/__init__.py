"""OCPI 2.2.1 wire models; ``OBJECTS`` maps each object name to its model."""

from __future__ import annotations

from ocpikit.models.base import OcpiModel

from . import (
    cdrs,
    chargingprofiles,
    commands,
    credentials,
    hubclientinfo,
    locations,
    sessions,
    tariffs,
    tokens,
    types,
    versions,
)

OBJECTS: dict[str, type[OcpiModel]] = {
    **types.OBJECTS,
    **versions.OBJECTS,
    **credentials.OBJECTS,
    **locations.OBJECTS,
    **sessions.OBJECTS,
    **cdrs.OBJECTS,
    **tariffs.OBJECTS,
    **tokens.OBJECTS,
    **commands.OBJECTS,
    **chargingprofiles.OBJECTS,
    **hubclientinfo.OBJECTS,
}

__all__ = ["OBJECTS"]
