"""The emulated CPO's OCPP endpoint: its charge points connect over a WebSocket to
``/ocpp/{charge_point_id}`` with the subprotocol ``ocpp1.6`` or ``ocpp2.0.1`` (OCPP-J 1.6 §3,
OCPP 2.0.1 Part 4 §3.1: the identity is the last path segment, the version a subprotocol), and
their messages are handed to the :class:`~.fleet.Fleet` (the ``ocpp`` library parses and
validates them, as for ocpikit's OCPP bridge, which the emulator does not use).

Refused before the WebSocket is accepted: an identity that is not one of our charge points,
and an offer without its version's subprotocol. Answers to the charger never wait for the
platform (the fleet queues its pushes), except Authorize and the start of a transaction, whose
answers need the decision on the token.

1.6 messages handled: BootNotification, Heartbeat, StatusNotification, Authorize,
StartTransaction (we number transactions), MeterValues, StopTransaction; 2.0.1:
BootNotification, Heartbeat, StatusNotification, Authorize, MeterValues, TransactionEvent
(Started, Updated, Ended). Calls to the charger: RemoteStart/StopTransaction,
RequestStart/StopTransaction, UnlockConnector.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ocpp.routing import on as _on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from starlette.websockets import WebSocket, WebSocketDisconnect

from .data import stamp
from .links import Link
from .ocpp_values import (
    authorization_status,
    energy_readings,
    evse_status,
    parse_time,
    signed_records,
)

if TYPE_CHECKING:
    from .fleet import Fleet

__all__ = ["SUBPROTOCOLS", "ocpp_endpoint"]

log = logging.getLogger("ocpikit.emulator.ocpp")

F = TypeVar("F", bound=Callable[..., Any])
#: OCPP version → its WebSocket subprotocol
SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}
#: seconds we wait for the charger's answer to a call
CALL_TIMEOUT = 10


def on(action: str) -> Callable[[F], F]:
    """The ``ocpp`` library's handler decorator, typed."""
    decorator: Callable[[F], F] = _on(action)
    return decorator


def _now() -> str:
    return stamp(datetime.now(UTC))


def _at(text: Any) -> datetime:
    return parse_time(text) or datetime.now(UTC)


class _Socket:
    """The WebSocket as the ``ocpp`` library reads and writes it."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws

    async def recv(self) -> str:
        return await self.ws.receive_text()

    async def send(self, text: str) -> None:
        await self.ws.send_text(text)


class _Central16(ChargePoint16, Link):  # type: ignore[misc]
    ocpp = "1.6"

    def __init__(self, cp_id: str, socket: _Socket, fleet: Fleet) -> None:
        super().__init__(cp_id, socket, response_timeout=CALL_TIMEOUT)
        self.fleet = fleet

    @on("BootNotification")
    async def on_boot(self, **_: Any) -> Any:
        return result16.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on("Heartbeat")
    async def on_heartbeat(self, **_: Any) -> Any:
        return result16.Heartbeat(current_time=_now())

    @on("StatusNotification")
    async def on_status(self, connector_id: int, status: str, **_: Any) -> Any:
        if connector_id:  # 0 is the charge point as a whole
            await self.fleet.status(self.id, connector_id, evse_status("1.6", status))
        return result16.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_tag: str, **_: Any) -> Any:
        allowed = await self.fleet.authorize(self.id, id_tag)
        return result16.Authorize(id_tag_info={"status": authorization_status("1.6", allowed)})

    @on("StartTransaction")
    async def on_start(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> Any:
        tx = self.fleet.new_transaction_id()
        allowed = await self.fleet.start(
            self.id, connector_id, str(tx), id_tag, meter_start, _at(timestamp)
        )
        status = authorization_status("1.6", allowed)
        return result16.StartTransaction(transaction_id=tx, id_tag_info={"status": status})

    @on("MeterValues")
    async def on_meter_values(
        self, connector_id: int, meter_value: list[Any], transaction_id: int | None = None
    ) -> Any:
        if transaction_id is not None:
            tx = str(transaction_id)
            self.fleet.add_signed(self.id, tx, signed_records(meter_value))
            await self.fleet.meter(self.id, tx, energy_readings(meter_value))
        return result16.MeterValues()

    @on("StopTransaction")
    async def on_stop(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        transaction_data: list[Any] | None = None,
        **_: Any,
    ) -> Any:
        tx = str(transaction_id)
        self.fleet.add_signed(self.id, tx, signed_records(transaction_data or []))
        await self.fleet.meter(self.id, tx, energy_readings(transaction_data or []))
        await self.fleet.stop(self.id, tx, meter_stop, _at(timestamp))
        return result16.StopTransaction()

    async def remote_start(self, n: int, id_tag: str, remote_id: int) -> str | None:
        return await self._status(call16.RemoteStartTransaction(id_tag=id_tag, connector_id=n))

    async def remote_stop(self, tx_id: str) -> str | None:
        if not tx_id.isdigit():
            return None
        return await self._status(call16.RemoteStopTransaction(transaction_id=int(tx_id)))

    async def unlock(self, n: int) -> str | None:
        return await self._status(call16.UnlockConnector(connector_id=n))

    async def reserve(
        self, n: int | None, id_tag: str, reservation_id: int, expiry: str
    ) -> str | None:
        return await self._status(
            call16.ReserveNow(
                connector_id=n or 0,
                expiry_date=expiry,
                id_tag=id_tag,
                reservation_id=reservation_id,
            )
        )

    async def cancel_reservation(self, reservation_id: int) -> str | None:
        return await self._status(call16.CancelReservation(reservation_id=reservation_id))


class _Central201(ChargePoint201, Link):  # type: ignore[misc]
    ocpp = "2.0.1"

    def __init__(self, cp_id: str, socket: _Socket, fleet: Fleet) -> None:
        super().__init__(cp_id, socket, response_timeout=CALL_TIMEOUT)
        self.fleet = fleet

    @on("BootNotification")
    async def on_boot(self, **_: Any) -> Any:
        return result201.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on("Heartbeat")
    async def on_heartbeat(self, **_: Any) -> Any:
        return result201.Heartbeat(current_time=_now())

    @on("StatusNotification")
    async def on_status(self, evse_id: int, connector_status: str, **_: Any) -> Any:
        await self.fleet.status(self.id, evse_id, evse_status("2.0.1", connector_status))
        return result201.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        allowed = await self.fleet.authorize(self.id, str(id_token.get("id_token")))
        info = {"status": authorization_status("2.0.1", allowed)}
        return result201.Authorize(id_token_info=info)

    @on("MeterValues")
    async def on_meter_values(self, **_: Any) -> Any:
        return result201.MeterValues()  # outside a transaction: nothing to bill

    @on("TransactionEvent")
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict[str, Any],
        meter_value: list[Any] | None = None,
        evse: dict[str, Any] | None = None,
        id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        tx = str(transaction_info.get("transaction_id"))
        readings = energy_readings(meter_value or [])
        info = None
        if event_type == "Started":
            n = int((evse or {}).get("id", 1))
            tag = str((id_token or {}).get("id_token", ""))
            first = readings[0][1] if readings else None
            allowed = await self.fleet.start(self.id, n, tx, tag, first, _at(timestamp))
            readings = readings[1:]
            info = {"status": authorization_status("2.0.1", allowed)}
        self.fleet.add_signed(self.id, tx, signed_records(meter_value or []))
        if event_type == "Ended":
            last = readings[-1][1] if readings else None
            await self.fleet.meter(self.id, tx, readings[:-1])
            await self.fleet.stop(self.id, tx, last, _at(timestamp))
        else:
            await self.fleet.meter(self.id, tx, readings)
        return result201.TransactionEvent(id_token_info=info)

    async def remote_start(self, n: int, id_tag: str, remote_id: int) -> str | None:
        return await self._status(
            call201.RequestStartTransaction(
                id_token={"id_token": id_tag, "type": "ISO14443"},
                remote_start_id=remote_id,
                evse_id=n,
            )
        )

    async def remote_stop(self, tx_id: str) -> str | None:
        return await self._status(call201.RequestStopTransaction(transaction_id=tx_id))

    async def unlock(self, n: int) -> str | None:
        return await self._status(call201.UnlockConnector(evse_id=n, connector_id=1))

    async def reserve(
        self, n: int | None, id_tag: str, reservation_id: int, expiry: str
    ) -> str | None:
        return await self._status(
            call201.ReserveNow(
                id=reservation_id,
                expiry_date_time=expiry,
                id_token={"id_token": id_tag, "type": "ISO14443"},
                evse_id=n,
            )
        )

    async def cancel_reservation(self, reservation_id: int) -> str | None:
        return await self._status(call201.CancelReservation(reservation_id=reservation_id))


async def ocpp_endpoint(websocket: WebSocket) -> None:
    """``/ocpp/{cp_id}``: one charge point's connection, from the handshake until it closes."""
    fleet: Fleet | None = getattr(websocket.app.state.emulator, "fleet", None)
    cp_id = websocket.path_params["cp_id"]
    site = fleet.site(cp_id) if fleet is not None else None
    wanted = SUBPROTOCOLS[fleet.ocpp] if fleet is not None else None
    offered = [str(p) for p in websocket.scope.get("subprotocols") or []]
    if fleet is None or site is None or wanted not in offered:
        log.warning("ocpp: refused %r", cp_id)
        await websocket.close(code=1008)
        return
    await websocket.accept(subprotocol=wanted)
    cls = _Central16 if fleet.ocpp == "1.6" else _Central201
    link = cls(site.id, _Socket(websocket), fleet)
    fleet.connected(site.id, link)
    try:
        await link.start()
    except WebSocketDisconnect:
        pass
    finally:
        fleet.disconnected(site.id, link)
