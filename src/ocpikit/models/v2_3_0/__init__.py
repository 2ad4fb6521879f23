"""OCPI 2.3.0 wire models; ``OBJECTS`` maps each object name to its model."""

from __future__ import annotations

from ocpikit.models.base import OcpiModel

from . import (
    bookings,
    cdrs,
    chargingprofiles,
    commands,
    credentials,
    hubclientinfo,
    invoice_reconciliation,
    locations,
    payments,
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
    **payments.OBJECTS,
    **bookings.OBJECTS,
    **invoice_reconciliation.OBJECTS,
}

__all__ = ["OBJECTS"]
