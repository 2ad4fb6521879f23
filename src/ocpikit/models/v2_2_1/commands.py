"""OCPI 2.2.1 Commands module objects (2.2.1 mod_commands §Object description, §Data types).

Changed since 2.1.1 (DIGEST §3.6, §6.8), so written out whole here:

- The synchronous answer ``CommandResponse`` gains ``timeout`` and ``message``; the
  asynchronous result POSTed to ``response_url`` is the new ``CommandResult``.
- ``CommandResponseType`` loses ``TIMEOUT`` (it moved to the new ``CommandResultType``).
- ``CancelReservation`` and ``CommandType.CANCEL_RESERVATION`` are new.
- ``ReserveNow.reservation_id`` becomes CiString(36); ids become CiString(36);
  ``StartSession`` gains ``connector_id``, both gain ``authorization_reference``.
- The commands embed the 2.2.1 :class:`~ocpikit.models.v2_2_1.tokens.Token`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import StrictInt, model_validator

from ocpikit.core.types import URL, CiString36, DateTime
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.types import DisplayText
from ocpikit.models.v2_2_1.tokens import Token

# Token.default_profile_type needs Sessions, which is safe to import from here (no cycle).

__all__ = [
    "OBJECTS",
    "CancelReservation",
    "CommandResponse",
    "CommandResponseType",
    "CommandResult",
    "CommandResultType",
    "CommandType",
    "ReserveNow",
    "StartSession",
    "StopSession",
    "UnlockConnector",
]


class CommandResponseType(StrEnum):
    """Whether the CPO understood and forwards the command (2.2.1 §CommandResponseType)."""

    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(StrEnum):
    """What the charge point did with the command (2.2.1 mod_commands §CommandResultType)."""

    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


class CommandType(StrEnum):
    """The ``{command}`` URL segment (2.2.1 mod_commands §CommandType).

    2.3.0 declares it an OpenEnum with the same values and imports this enum; since it only
    appears in URLs, routers must answer unknown values (NOT_SUPPORTED) rather than crash.
    """

    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CancelReservation(OcpiModel):
    """Body of ``POST .../commands/CANCEL_RESERVATION`` (2.2.1 §CancelReservation)."""

    response_url: URL
    reservation_id: CiString36


class CommandResponse(OcpiModel):
    """Synchronous answer of the CPO to a command (2.2.1 mod_commands §CommandResponse)."""

    result: CommandResponseType
    timeout: StrictInt
    message: list[DisplayText] | None = None


class CommandResult(OcpiModel):
    """Asynchronous result POSTed to ``response_url`` (2.2.1 mod_commands §CommandResult)."""

    result: CommandResultType
    message: list[DisplayText] | None = None


class ReserveNow(OcpiModel):
    """Body of ``POST .../commands/RESERVE_NOW`` (2.2.1 mod_commands §ReserveNow)."""

    response_url: URL
    token: Token
    expiry_date: DateTime
    reservation_id: CiString36
    location_id: CiString36
    evse_uid: CiString36 | None = None
    authorization_reference: CiString36 | None = None


class StartSession(OcpiModel):
    """Body of ``POST .../commands/START_SESSION`` (2.2.1 mod_commands §StartSession).

    Cross-field rule: ``evse_uid`` is required when ``connector_id`` is given.
    """

    response_url: URL
    token: Token
    location_id: CiString36
    evse_uid: CiString36 | None = None
    connector_id: CiString36 | None = None
    authorization_reference: CiString36 | None = None

    @model_validator(mode="after")
    def _connector_needs_evse(self) -> Self:
        if self.connector_id is not None and self.evse_uid is None:
            raise ValueError("evse_uid is required when connector_id is set")
        return self


class StopSession(OcpiModel):
    """Body of ``POST .../commands/STOP_SESSION`` (2.2.1 mod_commands §StopSession)."""

    response_url: URL
    session_id: CiString36


class UnlockConnector(OcpiModel):
    """Body of ``POST .../commands/UNLOCK_CONNECTOR`` (2.2.1 §UnlockConnector)."""

    response_url: URL
    location_id: CiString36
    evse_uid: CiString36
    connector_id: CiString36


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "CancelReservation": CancelReservation,
    "CommandResponse": CommandResponse,
    "CommandResult": CommandResult,
    "ReserveNow": ReserveNow,
    "StartSession": StartSession,
    "StopSession": StopSession,
    "UnlockConnector": UnlockConnector,
}
