"""The Commands module at a partner (OCPI 2.2.1 ``mod_commands``; DIGEST §3.6, §6.8): commands
we send to the CPO's Receiver, and the asynchronous results we POST to the ``response_url`` an
eMSP gave us."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocpikit.core.errors import RemoteProtocolError
from ocpikit.core.headers import PartyRef
from ocpikit.core.versions import V2_2_1
from ocpikit.protocol.addressing import join_url

from ..driver import RequestDriver
from .objects import RECEIVER, SENDER

__all__ = ["CommandsClient"]

MODULE = "commands"

#: command name -> head object name of its request body
COMMAND_OBJECTS = {
    "START_SESSION": "StartSession",
    "STOP_SESSION": "StopSession",
    "RESERVE_NOW": "ReserveNow",
    "CANCEL_RESERVATION": "CancelReservation",
    "UNLOCK_CONNECTOR": "UnlockConnector",
}

# DIGEST §6.8: 2.2+ CommandResult down to a 2.1.1 CommandResponse
_RESULT_DOWN_211 = {
    "ACCEPTED": "ACCEPTED",
    "REJECTED": "REJECTED",
    "NOT_SUPPORTED": "NOT_SUPPORTED",
    "TIMEOUT": "TIMEOUT",
}


class CommandsClient:
    """Commands to and results for one partner."""

    __slots__ = ("driver",)

    def __init__(self, driver: RequestDriver) -> None:
        self.driver = driver

    async def send(
        self,
        command: str,
        request: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        to_party: PartyRef | None = None,
    ) -> dict[str, Any]:
        """POST a command (START_SESSION, ...) to the CPO's Receiver; ``request`` is the head
        body (StartSession, ...) with its ``response_url``. Returns the head CommandResponse; a
        2.1.1 bare ``"ACCEPTED"`` is read as ``{"result": "ACCEPTED"}`` (DIGEST §3.6).
        ``to_party``: the CPO behind a hub (else the partner's receiver party)."""
        driver = self.driver
        name = COMMAND_OBJECTS.get(command.upper())
        body = dict(request)
        if name is not None:
            body = driver.objects.down(body, name)
        reply = await driver.request(
            "POST",
            join_url(driver.address.endpoint(MODULE, RECEIVER), command.upper()),
            module=MODULE,
            body=body,
            to_party=to_party or driver.address.their_party(MODULE, RECEIVER),
            correlation_id=correlation_id,
        )
        data = driver.one_object(reply.envelope.data, "CommandResponse")
        if isinstance(data, str):
            data = {"result": data}
        if not isinstance(data, dict):
            raise RemoteProtocolError("command: data is not a CommandResponse")
        return driver.objects.up(data, "CommandResponse", with_context=False)

    async def post_result(self, response_url: str, result: Mapping[str, Any]) -> None:
        """POST a head CommandResult to the ``response_url`` the partner gave us (2.1.1: the
        bare result value)."""
        driver = self.driver
        body = driver.objects.down(dict(result), "CommandResult", with_context=False)
        if driver.version < V2_2_1:
            body = {"result": _RESULT_DOWN_211.get(str(body.get("result")), "REJECTED")}
        await driver.request(
            "POST",
            response_url,
            module=MODULE,
            body=body,
            to_party=driver.address.their_party(MODULE, SENDER),
        )
