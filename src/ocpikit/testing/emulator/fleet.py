"""The emulated CPO's simulated charge points (``ocpikit emulate cpo --chargepoints N``): N
:class:`~ocpikit.testing.chargepoint.Simulator` instances run in the emulator's own process and
event loop, connected over a real WebSocket to its OCPP endpoint (:mod:`.central`); charge
point ``k`` is the CPO's ``k``-th Location (:mod:`.sites`). What they do reaches the platform
the emulator is registered with, as a CPO's pushes (2.2.1 mod_locations, mod_sessions,
mod_cdrs, mod_commands), queued in order (:mod:`.pushes`):

- a connector status → the EVSE's OCPI status, PATCHed to ``.../{location_id}/{evse_uid}``
  when it changes;
- a driver's tap → Authorize, answered from the eMSP's pushed tokens or its real-time
  authorization (:mod:`.authorization`); an accepted start → a Session PUT (auth method
  WHITELIST or AUTH_REQUEST, or COMMAND after a START_SESSION);
- meter values → Session PATCHes appending charging periods (a whole PUT in 2.1.1, whose PATCH
  of a Session has no rule for periods); the end of the transaction → the Session COMPLETED
  and a CDR POSTed, priced from the emulator's Tariff and carrying the charger's OCMF signed
  readings (:mod:`.charging`);
- START_SESSION → RemoteStartTransaction / RequestStartTransaction, STOP_SESSION →
  RemoteStop / RequestStopTransaction, UNLOCK_CONNECTOR → UnlockConnector, RESERVE_NOW →
  ReserveNow, CANCEL_RESERVATION → CancelReservation (at the charger the reservation was made
  at); the synchronous CommandResponse says the command was forwarded, the charger's answer
  gives the CommandResult.

The sessions and CDRs join what the emulator serves (its Sender lists), and each Location
serves its EVSEs' current statuses. The control API drives the drivers (:meth:`Fleet.tap`,
:meth:`Fleet.act`); each such call returns once the pushes it caused were answered.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import zlib
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from ocpikit.testing.chargepoint.ocmf import TEST_PUBLIC_KEY
from ocpikit.testing.chargepoint.simulator import Simulator

from .authorization import Authorization, authorize, cdr_token
from .charging import Charge
from .data import Entry, in_version
from .links import Link
from .ocpp_values import command_result
from .pricing import Costs, UnsupportedTariff
from .pushes import Push, Pusher
from .sites import Site, plan_sites
from .state import Emulator

__all__ = ["CommandContext", "Fleet", "FleetError"]

log = logging.getLogger("ocpikit.emulator.ocpp")

#: ended transactions remembered (a STOP_SESSION of one gets UNKNOWN_SESSION, not our answer
#: for a session of no charge point)
_KEEP_ENDED = 1000
#: seconds the charge points may take to connect and boot at start-up
CONNECT_TIMEOUT = 20.0


class FleetError(Exception):
    """A control call about the charge points that cannot be done (the message says why)."""


def reservation_number(reservation_id: str) -> int:
    """An OCPI reservation id (text) as the integer OCPP wants: itself when it is a small
    number, else a stable hash of it."""
    if reservation_id.isdigit() and len(reservation_id) < 10:
        return int(reservation_id)
    return zlib.crc32(reservation_id.encode()) % 2_000_000_000


@dataclass(frozen=True)
class _RemoteStart:
    """A START_SESSION forwarded to a charger, waiting for its transaction to start."""

    token: dict[str, Any]
    reference: str | None


@dataclass(frozen=True)
class CommandContext:
    """What a CommandResult needs of the command's request."""

    response_url: str
    cpo: str
    emsp: str | None
    correlation_id: str | None


class Fleet:
    """The charge points of one emulated CPO (see the module docstring)."""

    def __init__(self, emu: Emulator) -> None:
        cfg = emu.config
        self.emu = emu
        self.ocpp = cfg.ocpp
        sites = plan_sites(
            emu.data,
            cfg.party,
            cfg.chargepoints,
            cfg.connectors,
            seed=cfg.seed,
            version=cfg.version,
        )
        self.sites: dict[str, Site] = {s.id: s for s in sites}
        self.simulators = {
            s.id: Simulator(
                s.id,
                cfg.ocpp,
                cfg.connectors,
                on_event=self._event,
                power_w=cfg.power_w,
                signed=cfg.signed,
            )
            for s in sites
        }
        self.links: dict[str, Link] = {}
        self.open: dict[tuple[str, str], Charge] = {}
        self.ended: dict[str, Charge] = {}
        self.events: deque[dict[str, Any]] = deque(maxlen=200)
        self.pusher = Pusher(emu)
        self.ready = asyncio.Event()
        self._remote: dict[tuple[str, int], _RemoteStart] = {}
        self._authorized: dict[tuple[str, str], Authorization] = {}
        self._tapping: dict[str, int] = {}
        self._tx_ids = itertools.count(1)
        self._remote_ids = itertools.count(1)
        #: (eMSP, OCPI reservation id) -> the charge point that holds the reservation
        self._reservations: dict[tuple[str | None, str], str] = {}
        self._http: httpx.AsyncClient | None = None

    # --- where -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The OCPP endpoint the charge points connect to (``/{id}`` appended)."""
        return self.emu.base_url.replace("http", "ws", 1) + "/ocpp"

    def site(self, cp_id: str) -> Site | None:
        return self.sites.get(cp_id)

    def site_of_location(self, location_id: Any) -> Site | None:
        wanted = str(location_id).upper()
        return next((s for s in self.sites.values() if s.location_id.upper() == wanted), None)

    def _event(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    # --- running -----------------------------------------------------------------------------
    async def _keep(self, sim: Simulator, ready: asyncio.Event) -> None:
        """Connect ``sim`` (retrying until the server listens) and run it until it closes."""
        for _ in range(int(CONNECT_TIMEOUT / 0.05)):
            try:
                await sim.run(self.url, ready)
                return
            except Exception as exc:  # refused while the server starts; closed at its end
                if ready.is_set():
                    log.info("ocpp: %s stopped: %r", sim.id, exc)
                    return
                await asyncio.sleep(0.05)

    async def run(self, http: httpx.AsyncClient) -> None:
        """Run the push queue and every charge point; :attr:`ready` once all have booted and
        reported their connectors."""
        self._http = http
        worker = asyncio.ensure_future(self.pusher.run(http))
        readies = {cp: asyncio.Event() for cp in self.simulators}
        tasks = [
            asyncio.ensure_future(self._keep(sim, readies[cp]))
            for cp, sim in self.simulators.items()
        ]
        try:
            await asyncio.gather(*(e.wait() for e in readies.values()))
            self.ready.set()
            await asyncio.gather(*tasks)
        finally:
            for task in [*tasks, worker]:
                task.cancel()

    def connected(self, cp_id: str, link: Link) -> None:
        self.links[cp_id] = link

    def disconnected(self, cp_id: str, link: Link) -> None:
        if self.links.get(cp_id) is link:
            del self.links[cp_id]

    def new_transaction_id(self) -> int:
        """An OCPP 1.6 transaction id (the central system numbers them: 1.6 §4.8)."""
        return next(self._tx_ids)

    # --- pushes ------------------------------------------------------------------------------
    def _target(self, module: str) -> str | None:
        reg = self.emu.registration
        return reg.endpoint(module, "RECEIVER") if reg is not None else None

    def _emsp_of(self, token: dict[str, Any] | None) -> str | None:
        """The platform's party a session of ``token`` is for: the token's eMSP when the
        platform registered it, else the platform's eMSP party."""
        reg = self.emu.registration
        if reg is None:
            return None
        if token is not None:
            party = f"{token['country_code']}-{token['party_id']}".upper()
            if any(f"{r['country_code']}-{r['party_id']}".upper() == party for r in reg.roles):
                return party
        return reg.party("EMSP")

    def _serve(
        self, module: str, party: str, oid: str, data: dict[str, Any], when: datetime
    ) -> None:
        """Serve ``data`` as the current ``module`` object ``oid`` (last in its list, which
        stays in ``last_updated`` order)."""
        entries = self.emu.data.entries(module)
        entries[:] = [e for e in entries if not (e.party == party and e.id == oid)]
        moment = when.replace(microsecond=when.microsecond // 1000 * 1000)
        entries.append(Entry(party, oid, moment, data))

    def _push_evse(self, site: Site, n: int) -> None:
        url = self._target("locations")
        if url is None:
            return
        evse = site.evse(n)
        cc, pid = site.party.split("-")
        target = f"{url.rstrip('/')}/{cc}/{pid}/{quote(site.location_id, safe='')}"
        target += f"/{quote(evse['uid'], safe='')}"
        body = {"status": evse["status"], "last_updated": evse["last_updated"]}
        self.pusher.put(Push("PATCH", target, "locations", body, site.party, self._emsp_of(None)))

    def _push_session(self, charge: Charge, new: list[dict[str, Any]], first: bool) -> None:
        """Serve the Session now and push it: a PUT when it starts (and always in 2.1.1),
        else a PATCH with the ``new`` periods."""
        version = self.emu.config.version
        costs = self._costs(charge) if charge.end is not None else None
        whole = in_version("sessions", charge.session(costs), version, charge.site.location)
        self._serve("sessions", charge.site.party, charge.id, whole, charge.end or charge.last)
        url = self._target("sessions")
        if url is None:
            return
        cc, pid = charge.site.party.split("-")
        target = f"{url.rstrip('/')}/{cc}/{pid}/{quote(charge.id, safe='')}"
        emsp = self._emsp_of(charge.token)
        if first or version == "2.1.1":
            self.pusher.put(Push("PUT", target, "sessions", whole, charge.site.party, emsp))
            return
        body = in_version("sessions", charge.session_patch(new, costs), version)
        self.pusher.put(Push("PATCH", target, "sessions", body, charge.site.party, emsp))

    def _tariff(self, site: Site) -> dict[str, Any] | None:
        tid = site.tariff_id
        entry = self.emu.data.find("tariffs", tid) if tid else None
        return entry.data if entry is not None else None

    def _costs(self, charge: Charge) -> Costs | None:
        try:
            return charge.costs(self._tariff(charge.site))
        except UnsupportedTariff as exc:
            log.warning("ocpp: %s: not priced: %s", charge.id, exc)
            return None

    def _push_cdr(self, charge: Charge) -> None:
        version = self.emu.config.version
        tariff = self._tariff(charge.site)
        cdr = in_version(
            "cdrs", charge.cdr(tariff, self._costs(charge)), version, charge.site.location
        )
        self._serve("cdrs", charge.site.party, charge.id, cdr, charge.end or charge.last)
        url = self._target("cdrs")
        if url is not None:
            emsp = self._emsp_of(charge.token)
            self.pusher.put(Push("POST", url, "cdrs", cdr, charge.site.party, emsp))

    # --- what the chargers tell us ------------------------------------------------------------
    async def status(self, cp_id: str, n: int, status: str) -> None:
        """Connector ``n`` reports ``status`` (an OCPI EVSE status): served, and PATCHed to
        the platform when it changed."""
        site = self.sites.get(cp_id)
        if site is None or site.evse_uid(n) is None:
            return
        if site.set_status(n, status, datetime.now(UTC), self.emu.config.version):
            self._push_evse(site, n)

    async def _decide(self, cp_id: str, tag: str, n: int | None = None) -> Authorization:
        site = self.sites[cp_id]
        sim = self.simulators[cp_id]
        n = n or self._tapping.get(cp_id) or sim.free_connector() or 1
        if self._http is None:
            return Authorization("NOT_ALLOWED", None, "AUTH_REQUEST")
        evse_uid = site.evse_uid(n) or site.evse_uids[0]
        return await authorize(
            self.emu,
            self._http,
            tag,
            party=site.party,
            location_id=site.location_id,
            evse_uid=evse_uid,
        )

    async def authorize(self, cp_id: str, tag: str) -> str:
        """A driver's Authorize: the AllowedType (remembered for the transaction's start)."""
        if cp_id not in self.sites:
            return "NOT_ALLOWED"
        auth = await self._decide(cp_id, tag)
        self._authorized[cp_id, tag.upper()] = auth
        return auth.allowed

    async def start(
        self, cp_id: str, n: int, tx_id: str, tag: str, wh: Decimal | int | None, at: datetime
    ) -> str:
        """A transaction started on connector ``n``: the Session, unless the token is not
        allowed (then the AllowedType says why and nothing is stored)."""
        site = self.sites.get(cp_id)
        if site is None or site.evse_uid(n) is None:
            log.warning("ocpp: %s: a transaction on unknown connector %s", cp_id, n)
            return "NOT_ALLOWED"
        remote = self._remote.pop((cp_id, n), None)
        if remote is not None and remote.token["uid"].upper() == tag.upper():
            token, method, reference = remote.token, "COMMAND", remote.reference
        else:
            auth = self._authorized.pop((cp_id, tag.upper()), None)
            if auth is None:
                auth = await self._decide(cp_id, tag, n)
            if auth.allowed != "ALLOWED" or auth.token is None:
                return auth.allowed
            token, method, reference = auth.token, auth.method, auth.reference
        tariff = self._tariff(site)
        currency = str(tariff.get("currency", "EUR")) if tariff else "EUR"
        start_wh = None if wh is None else Decimal(wh)
        charge = Charge(site, n, tx_id, token, method, reference, at, start_wh, currency)
        self.open[cp_id, tx_id] = charge
        self._push_session(charge, [], first=True)
        return "ALLOWED"

    def add_signed(self, cp_id: str, tx_id: str, records: list[tuple[str, str | None]]) -> None:
        """OCMF records the charger signed; their key is the one it sent, else the one its
        meters were installed with (the simulator's test key)."""
        charge = self.open.get((cp_id, tx_id))
        if charge is None or not records:
            return
        charge.signed.extend(r for r, _ in records)
        charge.public_key = next((k for _, k in records if k), charge.public_key or TEST_PUBLIC_KEY)

    async def meter(self, cp_id: str, tx_id: str, readings: list[tuple[datetime, Decimal]]) -> None:
        """Energy readings of an open transaction: the periods they add, PATCHed."""
        charge = self.open.get((cp_id, tx_id))
        if charge is None:
            return
        new = [p for at, wh in readings if (p := charge.reading(wh, at)) is not None]
        if new:
            self._push_session(charge, new, first=False)

    async def stop(self, cp_id: str, tx_id: str, wh: Decimal | int | None, at: datetime) -> None:
        """The end of a transaction: the Session COMPLETED, then its CDR."""
        charge = self.open.pop((cp_id, tx_id), None)
        if charge is None:
            return
        last = charge.finish(None if wh is None else Decimal(wh), at)
        self._push_session(charge, [last] if last else [], first=False)
        self._push_cdr(charge)
        self.ended[charge.id.upper()] = charge
        while len(self.ended) > _KEEP_ENDED:
            del self.ended[next(iter(self.ended))]

    # --- commands ----------------------------------------------------------------------------
    def command(
        self, command: str, body: dict[str, Any], ctx: CommandContext
    ) -> tuple[str, int] | None:
        """The CommandResponse result and status code of a command about one of our charge
        points (the charger is asked in the background, its answer POSTed as the
        CommandResult); None when the command is about none of them."""
        if command == "STOP_SESSION":
            sid = str(body.get("session_id", "")).upper()
            charge = next((c for c in self.open.values() if c.id.upper() == sid), None)
            if charge is None:
                return ("UNKNOWN_SESSION", 1000) if sid in self.ended else None
            self.emu.spawn(self._forward(ctx, charge.site, charge.number, "stop", charge.tx_id))
            return "ACCEPTED", 1000
        reservation = (ctx.emsp, str(body.get("reservation_id", "")))
        if command == "CANCEL_RESERVATION":  # at the charger holding the reservation
            cp_id = self._reservations.get(reservation)
            if cp_id is None:
                return None
            self.emu.spawn(self._forward(ctx, self.sites[cp_id], None, "cancel", reservation[1]))
            return "ACCEPTED", 1000
        if command not in ("START_SESSION", "UNLOCK_CONNECTOR", "RESERVE_NOW"):
            return None
        site = self.site_of_location(body.get("location_id"))
        if site is None:
            return None
        n = site.number_of(str(body["evse_uid"])) if body.get("evse_uid") else None
        if body.get("evse_uid") and n is None:
            return "REJECTED", 2003
        if command == "UNLOCK_CONNECTOR":
            self.emu.spawn(self._forward(ctx, site, n or 1, "unlock", None))
            return "ACCEPTED", 1000
        if command == "RESERVE_NOW":  # no EVSE named: the whole charge point
            self._reservations[reservation] = site.id
            self.emu.spawn(self._forward(ctx, site, n, "reserve", body))
            return "ACCEPTED", 1000
        token = cdr_token(body["token"], ctx.emsp)
        self.emu.spawn(self._forward(ctx, site, n, "start", token, body))
        return "ACCEPTED", 1000

    async def _forward(
        self,
        ctx: CommandContext,
        site: Site,
        n: int | None,
        what: str,
        arg: Any,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Ask the charger (after ``command_delay``: the CommandResponse goes first) and queue
        the CommandResult."""
        await asyncio.sleep(self.emu.config.command_delay)
        link = self.links.get(site.id)
        sim = self.simulators[site.id]
        if what == "start":
            n = n or sim.free_connector()
        result = "FAILED"
        if link is None:
            result = "FAILED"
        elif what in ("reserve", "cancel"):
            result = await self._ask_reservation(link, n, what, arg)
        elif n is None or (what == "start" and sim.connectors[n].tx_id is not None):
            result = "EVSE_OCCUPIED"
        elif what == "start" and site.evse(n)["status"] in ("OUTOFORDER", "INOPERATIVE"):
            result = "EVSE_INOPERATIVE"
        elif what == "start":
            self._remote[site.id, n] = _RemoteStart(
                arg, (body or {}).get("authorization_reference")
            )
            result = command_result(await link.remote_start(n, arg["uid"], next(self._remote_ids)))
            if result != "ACCEPTED":
                self._remote.pop((site.id, n), None)
        elif what == "stop":
            result = command_result(await link.remote_stop(str(arg)))
        else:
            result = command_result(await link.unlock(n))
        self.pusher.put(
            Push(
                "POST",
                ctx.response_url,
                "commands",
                {"result": result},
                ctx.cpo,
                ctx.emsp,
                ctx.correlation_id,
            )
        )

    @staticmethod
    async def _ask_reservation(link: Link, n: int | None, what: str, arg: Any) -> str:
        if what == "cancel":
            return command_result(await link.cancel_reservation(reservation_number(arg)))
        token = arg.get("token") or {}
        answer = await link.reserve(
            n,
            str(token.get("uid", "")),
            reservation_number(str(arg.get("reservation_id", ""))),
            str(arg.get("expiry_date", "")),
        )
        return command_result(answer)

    # --- the control API ---------------------------------------------------------------------
    def _connector(self, sim: Simulator, value: Any) -> int:
        n = 1 if value is None else value
        if isinstance(n, bool) or not isinstance(n, int) or n not in sim.connectors:
            raise FleetError(f"connector: 1 to {len(sim.connectors)} at {sim.id}")
        return n

    def _sim(self, cp_id: Any) -> Simulator:
        sim = self.simulators.get(str(cp_id))
        if sim is None:
            raise FleetError(f"chargepoint {cp_id!r}: one of {', '.join(self.simulators)}")
        return sim

    def _charge_at(self, cp_id: str, n: int) -> Charge | None:
        return next((c for c in self.open.values() if c.site.id == cp_id and c.number == n), None)

    async def tap(
        self, uid: str, cp_id: str | None = None, connector: Any = None
    ) -> dict[str, Any]:
        """A driver taps RFID ``uid`` at a connector (the first free one when not given):
        Authorize, and the transaction starts when accepted."""
        if cp_id is None:
            free = [s for s in self.simulators.values() if s.free_connector() is not None]
            if not free:
                raise FleetError("every connector of every charge point is in use")
            sim = free[0]
        else:
            sim = self._sim(cp_id)
        if connector is None:
            n = sim.free_connector()
            if n is None:
                raise FleetError(f"every connector of {sim.id} is in use")
        else:
            n = self._connector(sim, connector)
        if sim.connectors[n].tx_id is not None:
            raise FleetError(f"connector {n} of {sim.id} is in use")
        self._tapping[sim.id] = n
        try:
            status = await sim.tap(n, uid)
        finally:
            self._tapping.pop(sim.id, None)
        await self.pusher.drain()
        charge = self._charge_at(sim.id, n) if status == "Accepted" else None
        return {
            "chargepoint": sim.id,
            "connector": n,
            "status": status,
            "session_id": charge.id if charge is not None else None,
        }

    async def act(self, cp_id: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """``status`` (``{"connector", "status"}``: an OCPP connector status), ``meter``
        (``{"connector", "seconds"}``: charging time to add, default the time since the last
        reading), ``stop`` (the driver ends the transaction), ``tap`` (``{"connector",
        "token_uid"}``)."""
        sim = self._sim(cp_id)
        if action == "tap":
            uid = body.get("token_uid")
            if not isinstance(uid, str) or not uid:
                raise FleetError("token_uid: required")
            return await self.tap(uid, sim.id, body.get("connector"))
        n = self._connector(sim, body.get("connector"))
        seconds = body.get("seconds")
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int | float)
        ):
            raise FleetError("seconds: a number")
        if action == "status":
            status = body.get("status")
            if not isinstance(status, str) or not status:
                raise FleetError("status: an OCPP connector status, e.g. Faulted")
            await sim.set_status(n, status)
        elif action == "meter":
            if sim.connectors[n].tx_id is None:
                raise FleetError(f"connector {n} of {sim.id} has no transaction")
            await sim.meter(n, seconds)
        elif action == "stop":
            if sim.connectors[n].tx_id is None:
                raise FleetError(f"connector {n} of {sim.id} has no transaction")
            await sim.stop(n, seconds)
        else:
            raise FleetError(f"action {action!r}: one of status, meter, stop, tap")
        await self.pusher.drain()
        return self.describe_one(sim.id)

    def describe_one(self, cp_id: str) -> dict[str, Any]:
        site, sim = self.sites[cp_id], self.simulators[cp_id]
        connectors = []
        for n, c in sim.connectors.items():
            charge = self._charge_at(cp_id, n)
            connectors.append(
                {
                    "connector": n,
                    "evse_uid": site.evse_uid(n),
                    "status": site.evse(n)["status"],
                    "ocpp_status": c.status,
                    "transaction_id": c.tx_id,
                    "session_id": charge.id if charge is not None else None,
                }
            )
        received = [e["received"] for e in self.events if e["cp"] == cp_id and "received" in e]
        return {
            **site.describe(),
            "connected": cp_id in self.links,
            "connectors": connectors,
            "received": received,
        }

    def describe(self) -> dict[str, Any]:
        return {
            "ocpp": self.ocpp,
            "url": self.url,
            "signed": self.emu.config.signed,
            "chargepoints": [self.describe_one(cp) for cp in self.sites],
        }
