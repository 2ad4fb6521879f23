"""OCPI 2.3.0 Commands module objects (2.3.0 mod_commands).

The object tables equal 2.2.1's; ``CommandType`` is declared an OpenEnum with the same values
(it only appears in the URL, so the 2.2.1 enum is imported and routers treat unknown values as
NOT_SUPPORTED). ``ReserveNow`` and ``StartSession`` embed the changed 2.3.0
:class:`~ocpikit.models.v2_3_0.tokens.Token` and are therefore written out whole here; all other
classes are imported from 2.2.1 (define once, import forward).
"""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from ocpikit.core.types import URL, CiString36, DateTime
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.commands import (
    CancelReservation,
    CommandResponse,
    CommandResponseType,
    CommandResult,
    CommandResultType,
    CommandType,
    StopSession,
    UnlockConnector,
)
from ocpikit.models.v2_3_0.tokens import Token

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


class ReserveNow(OcpiModel):
    """Body of ``POST .../commands/RESERVE_NOW`` (2.3.0 mod_commands §ReserveNow)."""

    response_url: URL
    token: Token
    expiry_date: DateTime
    reservation_id: CiString36
    location_id: CiString36
    evse_uid: CiString36 | None = None
    authorization_reference: CiString36 | None = None


class StartSession(OcpiModel):
    """Body of ``POST .../commands/START_SESSION`` (2.3.0 mod_commands §StartSession).

    Cross-field rule: ``evse_uid`` is required when ``connector_id`` is given. For Payment
    Terminal Providers ``authorization_reference`` links the later FinancialAdviceConfirmation
    (2.3.0 mod_payments §Transaction).
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
