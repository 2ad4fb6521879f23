"""OCPI 2.1.1 wire models; ``OBJECTS`` maps each object name to its model."""

from __future__ import annotations

from ocpikit.models.base import OcpiModel

from . import cdrs, commands, credentials, locations, sessions, tariffs, tokens, types, versions

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
}

__all__ = ["OBJECTS"]
