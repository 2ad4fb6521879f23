"""OCPI 2.1.1 Commands module objects (2.1.1 mod_commands §3, §4).

- One object, ``CommandResponse``, is both the synchronous answer of the CPO and the body the
  CPO later POSTs to ``response_url`` (2.2 splits this into CommandResponse and CommandResult).
- Errata A3 (DIGEST §3.6): the original 2.1.1 tables typed both as a bare
  ``CommandResponseType``; 2.1.1-d2 corrected them to the object. A bare string is therefore
  accepted on input and wrapped into the object; we always send the object.
- ``ReserveNow.reservation_id`` is an ``int`` here (a string from 2.2 on).
- The commands embed the 2.1.1 :class:`~ocpikit.models.v2_1_1.tokens.Token`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import StrictInt, model_validator

from ocpikit.core.types import URL, DateTime, String36, String39
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.tokens import Token

__all__ = [
    "OBJECTS",
    "CommandResponse",
    "CommandResponseType",
    "CommandType",
    "ReserveNow",
    "StartSession",
    "StopSession",
    "UnlockConnector",
]


class CommandResponseType(StrEnum):
    """2.1.1 mod_commands §4.1 (2.2 moves ``TIMEOUT`` to CommandResultType)."""

    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandType(StrEnum):
    """The ``{command}`` URL segment (2.1.1 mod_commands §4.2); no CANCEL_RESERVATION yet."""

    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CommandResponse(OcpiModel):
    """Synchronous answer and asynchronous result of a command (2.1.1 mod_commands §3.1).

    Tolerance (errata A3): a bare ``"ACCEPTED"`` string is read as ``{"result": "ACCEPTED"}``.
    """

    result: CommandResponseType

    @model_validator(mode="before")
    @classmethod
    def _bare_result(cls, data: Any) -> Any:
        # 2.1.1 (before d2) typed the body as a bare CommandResponseType (DIGEST A3).
        if isinstance(data, str):
            return {"result": data}
        return data


class ReserveNow(OcpiModel):
    """Body of ``POST .../commands/RESERVE_NOW`` (2.1.1 mod_commands §3.2)."""

    response_url: URL
    token: Token
    expiry_date: DateTime
    reservation_id: StrictInt
    location_id: String39
    evse_uid: String39 | None = None


class StartSession(OcpiModel):
    """Body of ``POST .../commands/START_SESSION`` (2.1.1 mod_commands §3.3)."""

    response_url: URL
    token: Token
    location_id: String39
    evse_uid: String39 | None = None


class StopSession(OcpiModel):
    """Body of ``POST .../commands/STOP_SESSION`` (2.1.1 mod_commands §3.4)."""

    response_url: URL
    session_id: String36


class UnlockConnector(OcpiModel):
    """Body of ``POST .../commands/UNLOCK_CONNECTOR`` (2.1.1 mod_commands §3.5)."""

    response_url: URL
    location_id: String39
    evse_uid: String39
    connector_id: String36


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "CommandResponse": CommandResponse,
    "ReserveNow": ReserveNow,
    "StartSession": StartSession,
    "StopSession": StopSession,
    "UnlockConnector": UnlockConnector,
}
