"""OCPP 2.0.1 central system side of one charging station (``ocpp`` library, ``ocpp.v201``):
each message is translated and handed to the :class:`~.bridge.Bridge` (docs/ocpp.md, the 2.0.1
table). TransactionEvent Started/Updated/Ended carry the transaction (E01-E07): Started opens
the Session, each meter value appends a charging period, Ended completes it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from ocpikit.core.types import format_datetime, parse_datetime

from .bridge import Bridge
from .config import ChargePointConfig
from .mapping import AUTH_201, ocpi_status
from .profiles import active_profile, ocpp_profile
from .readings import energy_readings, signed_readings
from .routing import on

__all__ = ["ChargePoint201"]

log = logging.getLogger("ocpikit.ocpp")


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def _at(text: str | None) -> datetime:
    try:
        return parse_datetime(text) if text else datetime.now(UTC)
    except ValueError:
        return datetime.now(UTC)


class ChargePoint201(ChargePoint):  # type: ignore[misc]
    """One connected OCPP 2.0.1 charging station."""

    def __init__(self, config: ChargePointConfig, connection: Any, bridge: Bridge) -> None:
        super().__init__(config.id, connection, response_timeout=bridge.config.call_timeout)
        self.config = config
        self.bridge = bridge

    # --- from the charging station -------------------------------------------------------------
    @on(Action.boot_notification)
    async def on_boot(self, **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=_now(), interval=self.bridge.config.heartbeat_interval, status="Accepted"
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    async def on_status(
        self, evse_id: int, connector_status: str, **_: Any
    ) -> call_result.StatusNotification:
        await self.bridge.status(self.config, evse_id, ocpi_status("2.0.1", connector_status))
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        allowed = await self.bridge.authorize(self.config, str(id_token.get("id_token")), None)
        return call_result.Authorize(id_token_info={"status": AUTH_201.get(allowed, "Invalid")})

    @on(Action.meter_values)
    async def on_meter_values(self, **_: Any) -> call_result.MeterValues:
        return call_result.MeterValues()  # outside a transaction: nothing to bill

    @on(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict[str, Any],
        meter_value: list[Any] | None = None,
        evse: dict[str, Any] | None = None,
        id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.TransactionEvent:
        tx = str(transaction_info.get("transaction_id"))
        readings = energy_readings(meter_value or [])
        info = None
        if event_type == "Started":
            number = int((evse or {}).get("id", 1))
            connector = (evse or {}).get("connector_id")
            tag = str((id_token or {}).get("id_token", ""))
            start_wh = readings[0][1] if readings else None
            try:
                await self.bridge.start(
                    self.config, number, tx, tag, start_wh, _at(timestamp), connector
                )
            except ValueError as exc:  # an unmapped EVSE: no Session, the token refused
                log.warning("%s", exc)
                return call_result.TransactionEvent(id_token_info={"status": "Invalid"})
            readings = readings[1:]
            info = {"status": "Accepted"}
        await self.bridge.transactions.add_signed(
            self.config, tx, signed_readings(meter_value or [])
        )
        for at, wh in readings:
            await self.bridge.transactions.meter(self.config, tx, wh, at)
        if event_type == "Ended":
            last = readings[-1][1] if readings else None
            await self.bridge.transactions.stop(self.config, tx, last, _at(timestamp))
        return call_result.TransactionEvent(id_token_info=info)

    # --- to the charging station (the Link of the bridge) --------------------------------------
    async def _status(self, payload: Any) -> str | None:
        answer = await self.call(payload)
        return str(answer.status) if answer is not None else None

    async def remote_start(self, number: int, id_tag: str, remote_id: int) -> str | None:
        return await self._status(
            call.RequestStartTransaction(
                id_token={"id_token": id_tag, "type": "ISO14443"},
                remote_start_id=remote_id,
                evse_id=number,
            )
        )

    async def remote_stop(self, tx_id: str) -> str | None:
        return await self._status(call.RequestStopTransaction(transaction_id=tx_id))

    async def unlock(self, number: int, connector: int) -> str | None:
        return await self._status(call.UnlockConnector(evse_id=number, connector_id=connector))

    async def reserve(
        self, number: int, id_tag: str, reservation_id: int, expiry: str
    ) -> str | None:
        return await self._status(
            call.ReserveNow(
                id=reservation_id,
                expiry_date_time=expiry,
                id_token={"id_token": id_tag, "type": "ISO14443"},
                evse_id=number,
            )
        )

    async def cancel_reservation(self, reservation_id: int) -> str | None:
        return await self._status(call.CancelReservation(reservation_id=reservation_id))

    async def set_profile(self, number: int, tx_id: str, profile: Any) -> str | None:
        payload = ocpp_profile("2.0.1", profile, tx_id)
        return await self._status(call.SetChargingProfile(evse_id=number, charging_profile=payload))

    async def clear_profile(self, number: int) -> str | None:
        criteria = {"evse_id": number, "charging_profile_purpose": "TxProfile"}
        return await self._status(call.ClearChargingProfile(charging_profile_criteria=criteria))

    async def composite_schedule(self, number: int, duration: int) -> dict[str, Any] | None:
        answer = await self.call(call.GetCompositeSchedule(duration=duration, evse_id=number))
        if answer is None or answer.status != "Accepted":
            return None
        return active_profile(None, answer.schedule)
