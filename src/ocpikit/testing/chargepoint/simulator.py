"""A simulated charge point speaking OCPP 1.6J or 2.0.1 to a central system over WebSocket
(the ``ocpp`` and ``websockets`` libraries): it boots, reports each connector's status, and
plays drivers: an RFID tap is authorized (Authorize) and starts a transaction, the meter
advances along a charging curve (constant power, tapering above 80 % of the session's energy
budget) and is reported as meter values, a stop ends the transaction; it accepts remote
start/stop, unlock, reserve and cancel-reservation calls and starts or stops accordingly, and
with ``signed`` sends OCMF signed begin and end readings of each transaction (a test key,
:mod:`.ocmf`: 1.6 ``SignedData`` samples, 2.0.1 ``signedMeterValue``); it keeps the charging
schedule a SetChargingProfile gives (GetCompositeSchedule answers it,
ClearChargingProfile forgets it).

The meter register is reported in whole Wh everywhere (``meter_start``/``meter_stop``, samples,
the signed readings' kWh). Connector numbers are 1-based (the OCPP 1.6 connector id, the OCPP 2.0.1 EVSE id, whose single
connector is 1). Every event (a message sent and its answer, a call received) goes to
``on_event`` as a JSON-ready dict, which the CLI prints as one line each.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import websockets
from ocpp.routing import on as _on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from .ocmf import TEST_PUBLIC_KEY, signed_reading

__all__ = ["Connector", "Simulator"]

Event = Callable[[dict[str, Any]], None]
F = TypeVar("F", bound=Callable[..., Any])


def on(action: str) -> Callable[[F], F]:
    """The ``ocpp`` library's handler decorator, typed."""
    decorator: Callable[[F], F] = _on(action)
    return decorator


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(slots=True)
class Connector:
    number: int
    status: str = "Available"
    meter_wh: float = 0.0
    tx_id: str | None = None
    id_tag: str | None = None
    power_w: float = 11000.0
    last: datetime | None = None
    seq: int = 0


class _Client16(Cp16):  # type: ignore[misc]
    sim: Simulator

    @on("RemoteStartTransaction")
    async def remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any) -> Any:
        n = connector_id or self.sim.free_connector()
        ok = n is not None and self.sim.connectors[n].tx_id is None
        self.sim.event({"received": "RemoteStartTransaction", "connector": n, "id_tag": id_tag})
        if ok and n is not None:
            self.sim.later(self.sim.start(n, id_tag))
        return result16.RemoteStartTransaction(status="Accepted" if ok else "Rejected")

    @on("RemoteStopTransaction")
    async def remote_stop(self, transaction_id: int) -> Any:
        n = self.sim.connector_of(str(transaction_id))
        self.sim.event({"received": "RemoteStopTransaction", "transaction_id": transaction_id})
        if n is not None:
            self.sim.later(self.sim.stop(n))
        return result16.RemoteStopTransaction(status="Accepted" if n else "Rejected")

    @on("UnlockConnector")
    async def unlock(self, connector_id: int) -> Any:
        self.sim.event({"received": "UnlockConnector", "connector": connector_id})
        return result16.UnlockConnector(status="Unlocked")

    @on("ReserveNow")
    async def reserve(self, connector_id: int, **_: Any) -> Any:
        self.sim.event({"received": "ReserveNow", "connector": connector_id})
        return result16.ReserveNow(status="Accepted")

    @on("CancelReservation")
    async def cancel(self, reservation_id: int) -> Any:
        self.sim.event({"received": "CancelReservation", "reservation_id": reservation_id})
        return result16.CancelReservation(status="Accepted")

    @on("SetChargingProfile")
    async def set_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> Any:
        self.sim.profiles[connector_id] = _floats(cs_charging_profiles.get("charging_schedule"))
        self.sim.event({"received": "SetChargingProfile", "connector": connector_id})
        return result16.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    async def clear_profile(self, connector_id: int | None = None, **_: Any) -> Any:
        self.sim.profiles.pop(connector_id or 0, None)
        self.sim.event({"received": "ClearChargingProfile", "connector": connector_id})
        return result16.ClearChargingProfile(status="Accepted")

    @on("GetCompositeSchedule")
    async def composite(self, connector_id: int, duration: int, **_: Any) -> Any:
        schedule = self.sim.profiles.get(connector_id)
        self.sim.event({"received": "GetCompositeSchedule", "connector": connector_id})
        if not schedule:
            return result16.GetCompositeSchedule(status="Rejected")
        return result16.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=_now(),
            charging_schedule={**schedule, "duration": duration},
        )


class _Client201(Cp201):  # type: ignore[misc]
    sim: Simulator

    @on("RequestStartTransaction")
    async def remote_start(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> Any:
        n = evse_id or self.sim.free_connector()
        ok = n is not None and self.sim.connectors[n].tx_id is None
        tag = str(id_token.get("id_token"))
        self.sim.event({"received": "RequestStartTransaction", "connector": n, "id_tag": tag})
        if ok and n is not None:
            self.sim.later(self.sim.start(n, tag))
        return result201.RequestStartTransaction(status="Accepted" if ok else "Rejected")

    @on("RequestStopTransaction")
    async def remote_stop(self, transaction_id: str, **_: Any) -> Any:
        n = self.sim.connector_of(transaction_id)
        self.sim.event({"received": "RequestStopTransaction", "transaction_id": transaction_id})
        if n is not None:
            self.sim.later(self.sim.stop(n))
        return result201.RequestStopTransaction(status="Accepted" if n else "Rejected")

    @on("UnlockConnector")
    async def unlock(self, evse_id: int, connector_id: int, **_: Any) -> Any:
        self.sim.event({"received": "UnlockConnector", "connector": evse_id})
        return result201.UnlockConnector(status="Unlocked")

    @on("ReserveNow")
    async def reserve(self, id: int, evse_id: int | None = None, **_: Any) -> Any:
        self.sim.event({"received": "ReserveNow", "connector": evse_id})
        return result201.ReserveNow(status="Accepted")

    @on("CancelReservation")
    async def cancel(self, reservation_id: int, **_: Any) -> Any:
        self.sim.event({"received": "CancelReservation", "reservation_id": reservation_id})
        return result201.CancelReservation(status="Accepted")

    @on("SetChargingProfile")
    async def set_profile(self, evse_id: int, charging_profile: dict[str, Any], **_: Any) -> Any:
        [schedule, *_rest] = charging_profile.get("charging_schedule") or [{}]
        self.sim.profiles[evse_id] = _floats(schedule)
        self.sim.event({"received": "SetChargingProfile", "connector": evse_id})
        return result201.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    async def clear_profile(self, charging_profile_criteria: Any = None, **_: Any) -> Any:
        evse = (charging_profile_criteria or {}).get("evse_id", 0)
        self.sim.profiles.pop(evse, None)
        self.sim.event({"received": "ClearChargingProfile", "connector": evse})
        return result201.ClearChargingProfile(status="Accepted")

    @on("GetCompositeSchedule")
    async def composite(self, duration: int, evse_id: int, **_: Any) -> Any:
        schedule = self.sim.profiles.get(evse_id)
        self.sim.event({"received": "GetCompositeSchedule", "connector": evse_id})
        if not schedule:
            return result201.GetCompositeSchedule(status="Rejected")
        return result201.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": _now(),
                "charging_rate_unit": schedule.get("charging_rate_unit", "W"),
                "charging_schedule_period": schedule.get("charging_schedule_period") or [],
            },
        )


class Simulator:
    """One charge point with ``connectors`` connectors (see the module docstring)."""

    def __init__(
        self,
        cp_id: str,
        ocpp: str,
        connectors: int = 2,
        *,
        on_event: Event | None = None,
        power_w: float = 11000.0,
        signed: bool = False,
    ) -> None:
        if ocpp not in ("1.6", "2.0.1"):
            raise ValueError("ocpp: 1.6 or 2.0.1")
        self.id = cp_id
        self.ocpp = ocpp
        self.connectors = {
            n: Connector(n, power_w=power_w, meter_wh=1000.0 * n) for n in range(1, connectors + 1)
        }
        self._on_event = on_event
        self._client: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seq = itertools.count()
        #: send OCMF signed begin and end readings (test key: :mod:`.ocmf`)
        self.signed = signed
        #: every OCMF record sent, in order
        self.ocmf: list[str] = []
        #: the charging schedule set per connector (SetChargingProfile), snake_case
        self.profiles: dict[int, dict[str, Any]] = {}

    # --- plumbing -----------------------------------------------------------------------------
    def event(self, data: dict[str, Any]) -> None:
        if self._on_event is not None:
            self._on_event({"cp": self.id, "at": _now(), **data})

    def later(self, coro: Any, delay: float = 0.05) -> None:
        """Run ``coro`` shortly, after the answer to the current call is sent."""

        async def run() -> None:
            await asyncio.sleep(delay)
            await coro

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def free_connector(self) -> int | None:
        return next((n for n, c in self.connectors.items() if c.tx_id is None), None)

    def connector_of(self, tx_id: str) -> int | None:
        return next((n for n, c in self.connectors.items() if c.tx_id == tx_id), None)

    async def _call(self, payload: Any) -> Any:
        answer = await self._client.call(payload)
        self.event({"sent": type(payload).__name__, "answer": _plain(answer)})
        return answer

    # --- running ------------------------------------------------------------------------------
    async def run(self, url: str, ready: asyncio.Event | None = None) -> None:
        """Connect to ``url`` (the central system's ``.../ocpp``; our id is appended), boot,
        report every connector Available, then serve calls until the connection closes."""
        subprotocol = "ocpp1.6" if self.ocpp == "1.6" else "ocpp2.0.1"
        async with websockets.connect(
            f"{url.rstrip('/')}/{self.id}",
            subprotocols=[subprotocol],  # type: ignore[list-item]
        ) as ws:
            cls = _Client16 if self.ocpp == "1.6" else _Client201
            self._client = cls(self.id, ws)
            self._client.sim = self
            reader = asyncio.create_task(self._client.start())
            try:
                await self.boot()
                for n in self.connectors:
                    await self.set_status(n, "Available")
                if ready is not None:
                    ready.set()
                await reader
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    async def boot(self) -> None:
        if self.ocpp == "1.6":
            await self._call(
                call16.BootNotification(
                    charge_point_model="ocpikit-sim", charge_point_vendor="ocpikit"
                )
            )
        else:
            await self._call(
                call201.BootNotification(
                    charging_station={"model": "ocpikit-sim", "vendor_name": "ocpikit"},
                    reason="PowerUp",
                )
            )

    async def heartbeat(self) -> None:
        await self._call(call16.Heartbeat() if self.ocpp == "1.6" else call201.Heartbeat())

    async def set_status(self, n: int, status: str) -> None:
        """Report connector ``n``'s status, in this version's words (1.6: Available,
        Preparing, Charging, Faulted, Unavailable, ...; 2.0.1: Available, Occupied, Faulted,
        Unavailable, Reserved; a 1.6 word is translated for 2.0.1)."""
        c = self.connectors[n]
        c.status = status
        if self.ocpp == "1.6":
            error = "OtherError" if status == "Faulted" else "NoError"
            await self._call(
                call16.StatusNotification(connector_id=n, error_code=error, status=status)
            )
            return
        status201 = {
            "Preparing": "Occupied",
            "Charging": "Occupied",
            "SuspendedEV": "Occupied",
            "SuspendedEVSE": "Occupied",
            "Finishing": "Occupied",
        }.get(status, status)
        await self._call(
            call201.StatusNotification(
                timestamp=_now(), connector_status=status201, evse_id=n, connector_id=1
            )
        )

    # --- drivers ------------------------------------------------------------------------------
    async def authorize(self, id_tag: str) -> str:
        if self.ocpp == "1.6":
            answer = await self._call(call16.Authorize(id_tag=id_tag))
            return str(answer.id_tag_info["status"])
        answer = await self._call(
            call201.Authorize(id_token={"id_token": id_tag, "type": "ISO14443"})
        )
        return str(answer.id_token_info["status"])

    async def tap(self, n: int, id_tag: str) -> str:
        """A driver taps an RFID card at connector ``n``: Authorize, and when accepted the
        transaction starts. The authorization status."""
        status = await self.authorize(id_tag)
        if status == "Accepted":
            await self.start(n, id_tag)
        return status

    async def start(self, n: int, id_tag: str) -> str:
        """Start a transaction on connector ``n``; its id."""
        c = self.connectors[n]
        c.id_tag, c.last, c.seq = id_tag, datetime.now(UTC), 0
        if self.ocpp == "1.6":
            await self.set_status(n, "Preparing")
            answer = await self._call(
                call16.StartTransaction(
                    connector_id=n, id_tag=id_tag, meter_start=_wh(c.meter_wh), timestamp=_now()
                )
            )
            c.tx_id = str(answer.transaction_id)
            if self.signed:
                await self._call(
                    call16.MeterValues(
                        connector_id=n,
                        transaction_id=int(c.tx_id),
                        meter_value=[self._signed16(c, "B", "Transaction.Begin")],
                    )
                )
        else:
            c.tx_id = uuid.uuid4().hex[:20]
            await self._transaction_event(c, "Started", "Authorized", id_tag)
        await self.set_status(n, "Charging")
        return c.tx_id

    def _advance(self, c: Connector, seconds: float | None) -> None:
        now = datetime.now(UTC)
        elapsed = seconds if seconds is not None else (now - (c.last or now)).total_seconds()
        c.meter_wh += c.power_w * max(0.0, elapsed) / 3600
        c.last = now

    async def meter(self, n: int, seconds: float | None = None) -> float:
        """Advance connector ``n``'s meter by ``seconds`` of charging (default: the time
        since the last reading) and report it; the register in Wh."""
        c = self.connectors[n]
        self._advance(c, seconds)
        if c.tx_id is None:
            return c.meter_wh
        if self.ocpp == "1.6":
            await self._call(
                call16.MeterValues(
                    connector_id=n,
                    transaction_id=int(c.tx_id),
                    meter_value=[_sample16(c.meter_wh, "Sample.Periodic")],
                )
            )
        else:
            await self._transaction_event(c, "Updated", "MeterValuePeriodic")
        return c.meter_wh

    async def stop(self, n: int, seconds: float | None = None) -> None:
        """End connector ``n``'s transaction (the meter advanced first) and free it."""
        c = self.connectors[n]
        if c.tx_id is None:
            return
        self._advance(c, seconds)
        if self.ocpp == "1.6":
            data = [self._signed16(c, "E", "Transaction.End")] if self.signed else None
            await self._call(
                call16.StopTransaction(
                    meter_stop=_wh(c.meter_wh),
                    timestamp=_now(),
                    transaction_id=int(c.tx_id),
                    reason="Local",
                    transaction_data=data,
                )
            )
        else:
            await self._transaction_event(c, "Ended", "StopAuthorized")
        c.tx_id = c.id_tag = None
        await self.set_status(n, "Available")

    def _ocmf(self, c: Connector, kind: str) -> str:
        record = signed_reading(
            self.id, c.id_tag or "", kind, datetime.now(UTC), _wh(c.meter_wh), len(self.ocmf) + 1
        )
        self.ocmf.append(record)
        self.event({"signed": kind, "connector": c.number, "ocmf": record})
        return record

    def _signed16(self, c: Connector, kind: str, context: str) -> dict[str, Any]:
        return _signed_sample16(self._ocmf(c, kind), context)

    async def _transaction_event(
        self, c: Connector, kind: str, trigger: str, id_tag: str | None = None
    ) -> None:
        context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(
            kind, "Sample.Periodic"
        )
        sample = _sample201(c.meter_wh, context)
        if self.signed and kind in ("Started", "Ended"):
            ocmf = self._ocmf(c, "B" if kind == "Started" else "E")
            sample["sampledValue"][0]["signedMeterValue"] = {
                "signedMeterData": ocmf,
                "signingMethod": "ECDSA-secp256r1-SHA256",
                "encodingMethod": "OCMF",
                "publicKey": TEST_PUBLIC_KEY,
            }
        payload = call201.TransactionEvent(
            event_type=kind,
            timestamp=_now(),
            trigger_reason=trigger,
            seq_no=c.seq,
            transaction_info={"transaction_id": c.tx_id},
            meter_value=[sample],
            evse={"id": c.number, "connector_id": 1} if kind == "Started" else None,
            id_token={"id_token": id_tag, "type": "ISO14443"} if id_tag else None,
        )
        c.seq += 1
        await self._call(payload)


def _wh(wh: float) -> int:
    """The register as reported: whole Wh, the same in every message of a transaction (start,
    samples, stop, signed readings), so the energy a central system computes from the unsigned
    values equals the signed one."""
    return round(wh)


def _signed_sample16(ocmf: str, context: str) -> dict[str, Any]:
    return {
        "timestamp": _now(),
        "sampledValue": [
            {
                "value": ocmf,
                "context": context,
                "format": "SignedData",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
            }
        ],
    }


def _sample16(wh: float, context: str) -> dict[str, Any]:
    return {
        "timestamp": _now(),
        "sampledValue": [
            {
                "value": str(_wh(wh)),
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
            }
        ],
    }


def _sample201(wh: float, context: str) -> dict[str, Any]:
    return {
        "timestamp": _now(),
        "sampledValue": [
            {
                "value": _wh(wh),
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "Wh"},
            }
        ],
    }


def _floats(value: Any) -> Any:
    """``value`` with the ``Decimal`` numbers the ``ocpp`` library parses as floats (it cannot
    write a ``Decimal`` back into an answer)."""
    return json.loads(json.dumps(value or {}, default=float))


def _plain(answer: Any) -> Any:
    if answer is None:
        return None
    try:
        from dataclasses import asdict

        return {k: v for k, v in asdict(answer).items() if v is not None}
    except TypeError:
        return str(answer)
