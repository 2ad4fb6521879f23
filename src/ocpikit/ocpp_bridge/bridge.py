"""The OCPP bridge's core, the same for both OCPP versions: a thin adapter from what a charge
point says to the platform's own operations (:mod:`ocpikit.operations`), and from the OCPI
commands we received to calls on the charge point. The version modules (:mod:`.v16`,
:mod:`.v201`) only translate messages; docs/ocpp.md has the table.

- status → :func:`~ocpikit.operations.evse_updates.set_evse_status` (an EVSE-level PATCH to
  every partner, :mod:`ocpikit.protocol.push_patches`);
- Authorize → :func:`~ocpikit.operations.authorize` (our token cache by the whitelist rules,
  else real-time authorization at the token's eMSP);
- transactions → Sessions (:mod:`.sessions`);
- received OCPI commands (START_SESSION, STOP_SESSION, UNLOCK_CONNECTOR, RESERVE_NOW,
  CANCEL_RESERVATION) and charging-profile requests (SET/CLEAR/GET_PROFILE, :mod:`.profiles`)
  for a charge point connected to this process → the OCPP call; the charger's answer becomes
  the CommandResult or charging-profile result (:func:`~ocpikit.operations.commands.
  report_result`, POSTed to the eMSP). A command whose charge point is connected elsewhere or
  not at all is left alone (the platform answers TIMEOUT at its deadline).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ocpikit.core.errors import NotFound
from ocpikit.operations import authorize
from ocpikit.operations.authorization import emsp_connection
from ocpikit.operations.commands import open_commands, report_result
from ocpikit.operations.evse_updates import set_evse_status
from ocpikit.operations.flow_ports import FlowPorts
from ocpikit.protocol.commands import PROFILE_ACTIONS, State
from ocpikit.protocol.ports import CommandDirection, CommandRecord, ObjectKey

from .config import ChargePointConfig, OcppConfig
from .mapping import command_result
from .profiles import profile_result
from .sessions import Transactions

__all__ = ["Bridge", "Link", "PendingStart", "reservation_fact"]

log = logging.getLogger("ocpikit.ocpp")


class Link(Protocol):
    """The calls the platform makes on one connected charge point (per OCPP version); each
    returns the charger's ``status`` answer, None when it answered with an error."""

    config: ChargePointConfig

    async def remote_start(self, number: int, id_tag: str, remote_id: int) -> str | None: ...
    async def remote_stop(self, tx_id: str) -> str | None: ...
    async def unlock(self, number: int, connector: int) -> str | None: ...
    async def reserve(
        self, number: int, id_tag: str, reservation_id: int, expiry: str
    ) -> str | None: ...
    async def cancel_reservation(self, reservation_id: int) -> str | None: ...
    async def set_profile(
        self, number: int, tx_id: str, profile: Mapping[str, Any]
    ) -> str | None: ...
    async def clear_profile(self, number: int) -> str | None: ...
    async def composite_schedule(self, number: int, duration: int) -> dict[str, Any] | None:
        """The OCPI ActiveChargingProfile of the charger's composite schedule, or None."""
        ...


@dataclass(frozen=True, slots=True)
class PendingStart:
    """A START_SESSION the charger accepted: the transaction it starts next on that
    connector belongs to this token and authorization reference."""

    cdr_token: Mapping[str, Any]
    authorization_reference: str | None


def cdr_token_of(token: Mapping[str, Any]) -> dict[str, Any]:
    """The CdrToken (OCPI 2.2.1 §9.4.3) of a head Token."""
    return {
        "country_code": token.get("country_code"),
        "party_id": token.get("party_id"),
        "uid": token.get("uid"),
        "type": token.get("type", "RFID"),
        "contract_id": token.get("contract_id") or token.get("uid"),
    }


def reservation_fact(partner_id: str | None, reservation_id: str) -> str:
    """The platform fact that names the charge point holding an eMSP's reservation. The eMSP's
    CANCEL_RESERVATION names only the reservation (its id is unique per eMSP, OCPI 2.2.1
    mod_commands §ReserveNow object), and may come after a restart or to another process.
    Kept while the charger holds the reservation: set before RESERVE_NOW is sent, forgotten
    when the charger refuses it or accepts its cancellation."""
    return f"ocpp-reservation/{partner_id or '-'}/{reservation_id}"


def reservation_number(reservation_id: str) -> int:
    """An OCPI reservation id (string) as the integer OCPP wants: itself when numeric."""
    if reservation_id.isdigit() and len(reservation_id) < 10:
        return int(reservation_id)
    return zlib.crc32(reservation_id.encode()) % 2_000_000_000


class Bridge:
    """One per process serving the OCPP endpoint."""

    def __init__(self, ports: FlowPorts, config: OcppConfig) -> None:
        self.ports = ports
        self.config = config
        self.transactions = Transactions(ports.storage, ports.rules)
        self.links: dict[str, Link] = {}
        self._authorized: dict[str, dict[str, Any]] = {}  # id tag -> the last answer's token
        self._pending: dict[tuple[str, int], PendingStart] = {}
        self._remote_ids = iter(range(1, 2**31))
        self._busy: set[str] = set()
        self._poller: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None

    # --- connections -----------------------------------------------------------------------------
    def connected(self, link: Link) -> None:
        """A charge point connected: its calls go to ``link`` (a second connection of one
        identity replaces the first); the command poller runs while any is connected."""
        self.links[link.config.id] = link
        if self._poller is None or self._poller.done():
            self._stop = asyncio.Event()
            self._poller = asyncio.create_task(self.run_commands(self._stop))

    def disconnected(self, link: Link) -> None:
        if self.links.get(link.config.id) is link:
            del self.links[link.config.id]
        if not self.links and self._stop is not None:
            self._stop.set()

    # --- the charge point speaks ---------------------------------------------------------------
    async def status(self, cp: ChargePointConfig, number: int, ocpi_status: str) -> None:
        """An OCPP connector/EVSE status as our EVSE's status (number 0: every EVSE, only for
        the statuses that say the whole charge point is out)."""
        if number == 0:
            if ocpi_status not in ("INOPERATIVE", "OUTOFORDER"):
                return
            uids = list(cp.evse_uids)
        else:
            uid = cp.evse_uid(number)
            if uid is None:
                log.warning("%s: status of unmapped connector/EVSE %d", cp.id, number)
                return
            uids = [uid]
        key = ObjectKey("Location", cp.country_code, cp.party_id, cp.location_id)
        for uid in uids:
            try:
                await set_evse_status(
                    self.ports.storage,
                    key,
                    uid,
                    ocpi_status,
                    now=self.ports.clock.now(),
                    rules=self.ports.rules,
                )
            except NotFound as exc:
                log.warning("%s: %s", cp.id, exc.message)

    async def authorize(self, cp: ChargePointConfig, id_tag: str, number: int | None) -> str:
        """The OCPI AllowedType for ``id_tag`` at this charge point (its EVSE when known)."""
        uids = [cp.evse_uid(number)] if number else list(cp.evse_uids)
        location = {"location_id": cp.location_id, "evse_uids": [u for u in uids if u]}
        info = await authorize(
            self.ports, (cp.country_code, cp.party_id), id_tag, location=location
        )
        token = info.get("token")
        if not isinstance(token, Mapping):  # a 2.1.1 answer has none: the cached token
            token = await self._cached_token(cp, id_tag)
        if isinstance(token, Mapping):
            self._authorized[id_tag.upper()] = {
                **cdr_token_of(token),
                "authorization_reference": info.get("authorization_reference"),
            }
        return str(info.get("allowed", "NOT_ALLOWED"))

    async def _cached_token(self, cp: ChargePointConfig, id_tag: str) -> Mapping[str, Any] | None:
        """The token an eMSP pushed to our party, as cached (None when unknown)."""
        found = await emsp_connection(
            self.ports.storage, (cp.country_code, cp.party_id), id_tag, rules=self.ports.rules
        )
        return found.token

    async def start(
        self,
        cp: ChargePointConfig,
        number: int,
        tx_id: str,
        id_tag: str,
        meter_wh: float | None,
        at: Any,
        connector: int | None = None,
    ) -> None:
        """A transaction started: its Session, with the token of the START_SESSION the
        charger accepted on that connector (COMMAND), else of the tag's last authorization
        (AUTH_REQUEST), else the token an eMSP pushed to us (WHITELIST: the charger let the tag
        in by itself), else a token of our own party (WHITELIST)."""
        pending = self._pending.pop((cp.id, number), None)
        auth_method = "COMMAND" if pending is not None else "AUTH_REQUEST"
        if pending is not None:
            token, reference = dict(pending.cdr_token), pending.authorization_reference
        else:
            known = self._authorized.pop(id_tag.upper(), None)
            if known is None:  # the charger let the tag in by itself: the cached token
                cached = await self._cached_token(cp, id_tag)
                if cached is not None:
                    known = cdr_token_of(cached)
                    auth_method = "WHITELIST"
            if known is None:
                known = {
                    "country_code": cp.country_code,
                    "party_id": cp.party_id,
                    "uid": id_tag,
                    "type": "RFID",
                    "contract_id": id_tag,
                }
                auth_method = "WHITELIST"
            known = dict(known)
            reference = known.pop("authorization_reference", None)
            token = known
        await self.transactions.start(
            cp,
            number,
            tx_id,
            cdr_token=token,
            auth_method=auth_method,
            authorization_reference=reference,
            meter_wh=meter_wh,
            at=at,
            connector=connector,
        )

    # --- the platform speaks: received OCPI commands ------------------------------------------
    async def run_commands(self, stop: asyncio.Event) -> None:
        """Until ``stop``: every ``command_poll`` seconds, execute the received commands that
        wait for a result and whose charge point is connected here."""
        while not stop.is_set():
            try:
                await self.commands_once()
            except Exception:
                log.exception("ocpp bridge: commands")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.config.command_poll)

    async def commands_once(self) -> list[asyncio.Task[None]]:
        """Start the execution of each waiting command for a connected charge point."""
        records = await open_commands(self.ports.storage, direction=CommandDirection.RECEIVED)
        started = []
        for record in records:
            if record.state != State.AWAITING_RESULT or record.id in self._busy:
                continue
            link = await self._link_for(record)
            if link is None:
                continue
            self._busy.add(record.id)
            started.append(asyncio.create_task(self._execute(link, record)))
        return started

    def _parties(self) -> list[tuple[str, str]]:
        """Our parties that have charge points (``(country_code, party_id)``)."""
        return list(
            dict.fromkeys((cp.country_code, cp.party_id) for cp in self.config.charge_points)
        )

    async def _transaction_of(self, record: CommandRecord) -> tuple[str, str] | None:
        """The ``(charge point id, transaction id)`` of the Session a command names."""
        session = str((record.request or {}).get("session_id", ""))
        return await self.transactions.of_session(session, self._parties())

    async def _link_for(self, record: CommandRecord) -> Link | None:
        request = record.request or {}
        if record.command in ("STOP_SESSION", *PROFILE_ACTIONS):
            found = await self._transaction_of(record)
            return self.links.get(found[0]) if found else None
        if record.command == "CANCEL_RESERVATION":
            fact = reservation_fact(record.partner_id, str(request.get("reservation_id", "")))
            cp_id = await self.ports.storage.facts.get(fact)
            return self.links.get(cp_id) if cp_id is not None else None
        location = request.get("location_id")
        if not isinstance(location, str):
            return None
        evse = request.get("evse_uid")
        cp = self.config.at(location, evse if isinstance(evse, str) else None)
        return self.links.get(cp.id) if cp is not None else None

    async def _execute(self, link: Link, record: CommandRecord) -> None:
        profile = record.command in PROFILE_ACTIONS
        result: dict[str, Any]
        try:
            if profile:
                result = await asyncio.wait_for(
                    self._call_profile(link, record), timeout=self.config.call_timeout
                )
            else:
                answer = await asyncio.wait_for(
                    self._call(link, record), timeout=self.config.call_timeout
                )
                result = {"result": command_result(answer)}
        except TimeoutError:
            result = {"result": "UNKNOWN" if profile else "TIMEOUT"}
        except Exception as exc:
            log.warning("%s: %s %s failed: %s", link.config.id, record.command, record.id, exc)
            result = {"result": "UNKNOWN" if profile else "FAILED"}
        try:
            await report_result(self.ports, record.id, result)
        except Exception:
            # stays "busy": the charger acted already, it is not asked again (the platform's
            # sweep answers the command at its deadline)
            log.exception("ocpp bridge: reporting %s %s", record.command, record.id)
            return
        self._busy.discard(record.id)

    async def _call_profile(self, link: Link, record: CommandRecord) -> dict[str, Any]:
        """SET_PROFILE → SetChargingProfile, CLEAR_PROFILE → ClearChargingProfile,
        GET_PROFILE → GetCompositeSchedule, on the Session's transaction (:mod:`.profiles`)."""
        request = record.request or {}
        found = await self._transaction_of(record)
        tx = self.transactions.find(*found) if found else None
        if tx is None or found is None:
            return {"result": "UNKNOWN"}
        if record.command == "SET_PROFILE":
            profile = request.get("charging_profile") or {}
            return {"result": profile_result(await link.set_profile(tx.number, found[1], profile))}
        if record.command == "CLEAR_PROFILE":
            return {"result": profile_result(await link.clear_profile(tx.number))}
        duration = int(request.get("duration", 0) or 0)
        active = await link.composite_schedule(tx.number, duration)
        if active is None:
            return {"result": "REJECTED"}
        return {"result": "ACCEPTED", "profile": active}

    async def _call(self, link: Link, record: CommandRecord) -> str | None:
        request = record.request or {}
        cp = link.config
        number = cp.number_of(str(request.get("evse_uid", ""))) or 1
        if record.command == "START_SESSION":
            token = request.get("token") or {}
            uid = str(token.get("uid", ""))
            self._pending[(cp.id, number)] = PendingStart(
                cdr_token_of(token), request.get("authorization_reference")
            )
            answer = await link.remote_start(number, uid, next(self._remote_ids))
            if answer != "Accepted":
                self._pending.pop((cp.id, number), None)
            return answer
        if record.command == "STOP_SESSION":
            found = await self._transaction_of(record)
            return await link.remote_stop(found[1]) if found else "Rejected"
        if record.command == "UNLOCK_CONNECTOR":
            connector = str(request.get("connector_id", "1"))
            return await link.unlock(number, int(connector) if connector.isdigit() else 1)
        if record.command in ("RESERVE_NOW", "CANCEL_RESERVATION"):
            return await self._reservation(link, record)
        return "NotSupported"

    async def _reservation(self, link: Link, record: CommandRecord) -> str | None:
        """RESERVE_NOW or CANCEL_RESERVATION on the charger, keeping the reservation's
        charge point as a platform fact (:func:`reservation_fact`)."""
        request = record.request or {}
        reservation_id = str(request.get("reservation_id", ""))
        facts = self.ports.storage.facts
        fact = reservation_fact(record.partner_id, reservation_id)
        if record.command == "CANCEL_RESERVATION":
            answer = await link.cancel_reservation(reservation_number(reservation_id))
            if answer == "Accepted":
                await facts.delete(fact)
            return answer
        await facts.set(fact, link.config.id)
        token = request.get("token") or {}
        number = link.config.number_of(str(request.get("evse_uid", ""))) or 1
        answer = await link.reserve(
            number,
            str(token.get("uid", "")),
            reservation_number(reservation_id),
            str(request.get("expiry_date", "")),
        )
        if answer != "Accepted":
            await facts.delete(fact)
        return answer
