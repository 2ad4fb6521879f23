"""OCPP 1.6J central system side of one charge point (``ocpp`` library, ``ocpp.v16``): each
message is translated and handed to the :class:`~.bridge.Bridge` (docs/ocpp.md, the 1.6 table).

Transaction ids are integers unique in this process and increasing across restarts (seeded
from the clock), as OCPP 1.6 §4.8 wants one per transaction.
"""

from __future__ import annotations

import itertools
import logging
import time
from datetime import UTC, datetime
from typing import Any

from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, RegistrationStatus

from ocpikit.core.types import format_datetime, parse_datetime

from .bridge import Bridge
from .config import ChargePointConfig
from .mapping import AUTH_16, ocpi_status
from .profiles import active_profile, ocpp_profile
from .readings import energy_readings, signed_readings
from .routing import on

__all__ = ["ChargePoint16"]

log = logging.getLogger("ocpikit.ocpp")
_TX_IDS = itertools.count(int(time.time()) % 1_000_000_000)


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def _at(text: str | None) -> datetime:
    try:
        return parse_datetime(text) if text else datetime.now(UTC)
    except ValueError:
        return datetime.now(UTC)


class ChargePoint16(ChargePoint):  # type: ignore[misc]
    """One connected OCPP 1.6J charge point."""

    def __init__(self, config: ChargePointConfig, connection: Any, bridge: Bridge) -> None:
        super().__init__(config.id, connection, response_timeout=bridge.config.call_timeout)
        self.config = config
        self.bridge = bridge

    # --- from the charge point -----------------------------------------------------------------
    @on(Action.boot_notification)
    async def on_boot(self, **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=_now(),
            interval=self.bridge.config.heartbeat_interval,
            status=RegistrationStatus.accepted,
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    async def on_status(
        self, connector_id: int, status: str, **_: Any
    ) -> call_result.StatusNotification:
        await self.bridge.status(self.config, connector_id, ocpi_status("1.6", status))
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        allowed = await self.bridge.authorize(self.config, id_tag, None)
        return call_result.Authorize(id_tag_info={"status": AUTH_16.get(allowed, "Invalid")})

    @on(Action.start_transaction)
    async def on_start(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> call_result.StartTransaction:
        tx_id = next(_TX_IDS)
        try:
            await self.bridge.start(
                self.config, connector_id, str(tx_id), id_tag, float(meter_start), _at(timestamp)
            )
        except ValueError as exc:  # an unmapped connector: no Session, the tag refused
            log.warning("%s", exc)
            return call_result.StartTransaction(
                transaction_id=tx_id, id_tag_info={"status": "Invalid"}
            )
        return call_result.StartTransaction(
            transaction_id=tx_id, id_tag_info={"status": "Accepted"}
        )

    @on(Action.meter_values)
    async def on_meter_values(
        self, connector_id: int, meter_value: list[Any], transaction_id: int | None = None
    ) -> call_result.MeterValues:
        if transaction_id is not None:
            signed = signed_readings(meter_value)
            await self.bridge.transactions.add_signed(self.config, str(transaction_id), signed)
            for at, wh in energy_readings(meter_value):
                await self.bridge.transactions.meter(self.config, str(transaction_id), wh, at)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        transaction_data: list[Any] | None = None,
        **_: Any,
    ) -> call_result.StopTransaction:
        tx = str(transaction_id)
        signed = signed_readings(transaction_data or [])
        await self.bridge.transactions.add_signed(self.config, tx, signed)
        for at, wh in energy_readings(transaction_data or []):
            await self.bridge.transactions.meter(self.config, tx, wh, at)
        await self.bridge.transactions.stop(self.config, tx, float(meter_stop), _at(timestamp))
        return call_result.StopTransaction()

    # --- to the charge point (the Link of the bridge) ------------------------------------------
    async def _status(self, payload: Any) -> str | None:
        answer = await self.call(payload)
        return str(answer.status) if answer is not None else None

    async def remote_start(self, number: int, id_tag: str, remote_id: int) -> str | None:
        return await self._status(call.RemoteStartTransaction(id_tag=id_tag, connector_id=number))

    async def remote_stop(self, tx_id: str) -> str | None:
        return await self._status(call.RemoteStopTransaction(transaction_id=int(tx_id)))

    async def unlock(self, number: int, connector: int) -> str | None:
        return await self._status(call.UnlockConnector(connector_id=number))

    async def reserve(
        self, number: int, id_tag: str, reservation_id: int, expiry: str
    ) -> str | None:
        return await self._status(
            call.ReserveNow(
                connector_id=number,
                expiry_date=expiry,
                id_tag=id_tag,
                reservation_id=reservation_id,
            )
        )

    async def cancel_reservation(self, reservation_id: int) -> str | None:
        return await self._status(call.CancelReservation(reservation_id=reservation_id))

    async def set_profile(self, number: int, tx_id: str, profile: Any) -> str | None:
        payload = ocpp_profile("1.6", profile, tx_id)
        return await self._status(
            call.SetChargingProfile(connector_id=number, cs_charging_profiles=payload)
        )

    async def clear_profile(self, number: int) -> str | None:
        return await self._status(
            call.ClearChargingProfile(connector_id=number, charging_profile_purpose="TxProfile")
        )

    async def composite_schedule(self, number: int, duration: int) -> dict[str, Any] | None:
        answer = await self.call(call.GetCompositeSchedule(connector_id=number, duration=duration))
        if answer is None or answer.status != "Accepted":
            return None
        return active_profile(answer.schedule_start, answer.charging_schedule)
