"""Commands and charging-profile requests as the operator's use cases, both sides (DIGEST §3.6,
§3.7, §6.8): send one to a partner, report the charge point's result of one we received (and
POST it), and the sweep of due records. The state machine is
:mod:`ocpikit.protocol.commands` (pure); this module drives it with the partner-calls port of
:class:`~ocpikit.operations.flow_ports.FlowPorts` and keeps every state in the CommandStore,
so a restart continues where the last process stopped.

The sweep (:func:`sweep`) acts on every due record once: a sent command past its deadline
becomes TIMEOUT, a received one still waiting for the operator gets a TIMEOUT result, a due
result is POSTed to its ``response_url`` (retried with backoff), a due webhook event is handed
to the event delivery. It takes a lease on a record (its deadline moved by
``FlowPorts.lease``) before the slow part, so a second process skips it meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Generator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ocpikit.core.errors import ClientError, NoEndpoint, OcpiError, Unauthorized, UnknownLocation
from ocpikit.core.headers import PartyRef
from ocpikit.core.versions import Role
from ocpikit.operations.flow_ports import FlowPorts
from ocpikit.protocol import commands, webhooks
from ocpikit.protocol.endpoints import side_of
from ocpikit.protocol.parties import choose_route, directory
from ocpikit.protocol.partner_calls import PartnerCalls
from ocpikit.protocol.party_records import Path
from ocpikit.protocol.ports import (
    CommandDirection,
    CommandRecord,
    Partner,
    PartnerStatus,
    Storage,
)

__all__ = [
    "command_record",
    "deliver",
    "emit",
    "open_commands",
    "party_route",
    "registered_partner",
    "report_result",
    "response_url",
    "send_command",
    "send_profile",
    "summary",
    "sweep",
    "sweep_until",
]

log = logging.getLogger("ocpikit.flows")

_EPSILON = timedelta(milliseconds=1)
"""Records due "now" (deadline = now) are taken by a sweep at the same instant."""

Req = TypeVar("Req")
Ans = TypeVar("Ans")
_Call = Callable[[PartnerCalls, commands.SendCommand], Awaitable[Mapping[str, Any]]]


# --- plumbing ------------------------------------------------------------------------------------
async def registered_partner(ports: FlowPorts, partner_id: str | None) -> Partner:
    """The partner ``partner_id`` when it is registered; :class:`NoEndpoint` otherwise."""
    partner = await ports.storage.partners.get(partner_id) if partner_id else None
    if partner is None or partner.status is not PartnerStatus.REGISTERED:
        raise NoEndpoint(f"partner {partner_id} is not registered")
    return partner


async def emit(
    ports: FlowPorts, event: str, data: Mapping[str, Any], partner_id: str | None
) -> None:
    """Queue a webhook event when events are wired (``ocpikit.protocol.webhooks``)."""
    if ports.events is not None:
        await ports.events.emit(event, data, partner_id=partner_id)


def response_url(base_url: str, partner: Partner, module: str, *parts: str) -> str:
    """Our Sender URL for an asynchronous result, in the partner's version."""
    side = side_of(Role.EMSP)
    root = f"{base_url.rstrip('/')}/ocpi/{partner.version}/{side}/{module}"
    return "/".join([root, *parts])


def _send_error(exc: OcpiError) -> commands.SendError:
    permanent = isinstance(exc, (ClientError, NoEndpoint)) and not isinstance(exc, Unauthorized)
    return commands.SendError(f"{type(exc).__name__}: {exc.message}", permanent=permanent)


def _start(flow: Generator[Req, Ans, CommandRecord]) -> Req | CommandRecord:
    try:
        return next(flow)
    except StopIteration as stop:
        result: CommandRecord = stop.value
        return result


def _finish(flow: Generator[Req, Ans, CommandRecord], answer: Ans) -> CommandRecord:
    try:
        flow.send(answer)
    except StopIteration as stop:
        result: CommandRecord = stop.value
        return result
    raise RuntimeError("flow yielded twice")


def summary(record: CommandRecord) -> dict[str, Any]:
    """The ``data`` of a ``command.result`` webhook event."""
    return {
        "command_id": record.id,
        "command": record.command,
        "state": record.state,
        "response": record.response,
        "result": record.result,
    }


# --- eMSP (or the party setting a profile): send ---------------------------------------------------
async def send_command(
    ports: FlowPorts,
    partner_id: str,
    command: str,
    body: Mapping[str, Any],
    *,
    to_party: PartyRef | None = None,
) -> CommandRecord:
    """Send ``command`` (head body without ``response_url``) to the partner's Commands Receiver
    and return the record: state PENDING (ACCEPTED, waiting for the result until the deadline),
    or final. ``to_party``: the CPO behind the partner when it is a hub (:func:`party_route`).
    ``ValueError`` for an unknown command, :class:`NoEndpoint` for a partner that is not
    registered."""
    command = command.upper()
    if command not in commands.COMMAND_OBJECTS:
        raise ValueError(f"unknown command {command!r}")
    partner = await registered_partner(ports, partner_id)
    calls = ports.reach(partner)
    command_id = uuid.uuid4().hex
    url = response_url(ports.base_url, partner, "commands", command, command_id)
    record = commands.new_sent(command_id, command, partner_id, {**body, "response_url": url}, url)

    async def call(calls: PartnerCalls, req: commands.SendCommand) -> Mapping[str, Any]:
        return await calls.send_command(req.command, req.body, to_party=to_party)

    return await _send(ports, calls, record, call)


async def party_route(ports: FlowPorts, party: str, role: str) -> tuple[str, PartyRef | None]:
    """The connection that carries traffic to the party ``CC-PID`` in ``role`` (the party
    directory, :mod:`ocpikit.protocol.parties`) and the ``OCPI-to-*`` party to address there
    (None for a direct connection); :class:`NoEndpoint` when no connection reaches it."""
    cc, sep, pid = party.partition("-")
    if not sep or not cc or not pid:
        raise ValueError(f"party {party!r}: expected CC-PID")
    partners = await ports.storage.partners.all(status=PartnerStatus.REGISTERED)
    entries = directory(partners, await ports.storage.parties.learned())
    route = choose_route(entries, cc, pid, role=role, rules=ports.rules)
    if route is None:
        raise NoEndpoint(f"no connection reaches {party.upper()} as {role.upper()}")
    return route.partner_id, PartyRef(cc, pid) if route.path is Path.HUB else None


async def send_profile(
    ports: FlowPorts, partner_id: str, action: str, session_id: str, body: Mapping[str, Any]
) -> CommandRecord:
    """SET_PROFILE (``body``: ``{"charging_profile": ...}``), GET_PROFILE (``{"duration":
    seconds}``) or CLEAR_PROFILE to the CPO's ChargingProfiles Receiver (2.2+); the record as
    :func:`send_command` returns it."""
    action = action.upper()
    if action not in commands.PROFILE_ACTIONS:
        raise ValueError(f"unknown charging-profile action {action!r}")
    partner = await registered_partner(ports, partner_id)
    calls = ports.reach(partner)
    request_id = uuid.uuid4().hex
    url = response_url(ports.base_url, partner, "chargingprofiles", session_id, request_id)
    record = commands.new_sent(
        request_id, action, partner_id, {**body, "session_id": session_id}, url
    )
    return await _send(ports, calls, record, _call_profile)


async def _call_profile(calls: PartnerCalls, req: commands.SendCommand) -> Mapping[str, Any]:
    body = dict(req.body)
    session_id = str(body.pop("session_id"))
    url = str(dict(req.body).get("response_url") or "")
    if req.command == "SET_PROFILE":
        return await calls.set_charging_profile(
            session_id, {"charging_profile": body["charging_profile"], "response_url": url}
        )
    if req.command == "GET_PROFILE":
        return await calls.get_active_profile(
            session_id, duration=int(body.get("duration") or 900), response_url=url
        )
    return await calls.clear_profile(session_id, response_url=url)


async def _send(
    ports: FlowPorts, calls: PartnerCalls, record: CommandRecord, call: _Call
) -> CommandRecord:
    store = ports.storage.commands
    now = ports.clock.now()
    if record.request is not None and record.response_url:
        record = dataclasses.replace(
            record, request={**record.request, "response_url": record.response_url}
        )
    # stored before sending: a fast result may overtake the synchronous answer, and a
    # process that dies mid-send leaves a record that the sweep times out
    await store.save(dataclasses.replace(record, deadline=now + ports.lease))
    flow = commands.send_flow(record, now)
    req = _start(flow)
    assert isinstance(req, commands.SendCommand)
    answer: Mapping[str, Any] | commands.SendError
    try:
        answer = await call(calls, req)
    except UnknownLocation as exc:
        # 2003 carries CommandResponse REJECTED (plantuml command_unlock_unknow_location)
        answer = {"result": "REJECTED", "message": [{"language": "en", "text": exc.message}]}
    except OcpiError as exc:
        answer = _send_error(exc)
    done = _finish(flow, answer)
    current = await store.get(CommandDirection.SENT, record.id)
    if current is not None and current.state != commands.NEW:
        # the result already arrived: keep it, add the synchronous answer
        done = dataclasses.replace(current, response=done.response)
    saved = await store.save(done)
    if saved.final:
        await emit(ports, "command.result", summary(saved), saved.partner_id)
    return saved


# --- CPO: deliver a result -------------------------------------------------------------------------
async def deliver(ports: FlowPorts, record: CommandRecord) -> CommandRecord:
    """POST the record's due result to its response_url (one attempt) and save the next state;
    a record not due for delivery is returned unchanged."""
    now = ports.clock.now()
    flow = commands.deliver_flow(record, now)
    req = _start(flow)
    if isinstance(req, CommandRecord):
        if req is not record:
            await ports.storage.commands.save(req)
        return req
    failure: commands.SendError | None = None
    try:
        calls = ports.reach(await registered_partner(ports, req.partner_id))
        await calls.post_result(req.response_url, req.body, module=req.module)
    except OcpiError as exc:
        failure = _send_error(exc)
    done = _finish(flow, failure)
    return await ports.storage.commands.save(done)


async def report_result(
    ports: FlowPorts, command_id: str, result: Mapping[str, Any]
) -> CommandRecord:
    """The operator's result (head CommandResult or charging-profile result) for a received
    command: recorded, then POSTed at once. ``KeyError`` when the command is unknown,
    :class:`~ocpikit.protocol.commands.InvalidTransition` when it waits for no result."""
    record = await ports.storage.commands.get(CommandDirection.RECEIVED, command_id)
    if record is None:
        raise KeyError(command_id)
    now = ports.clock.now()
    updated = commands.on_operator_result(record, result, now)
    # leased while this process POSTs it: a sweep meanwhile (here or in another process) skips
    # it, so the partner gets the result once
    await ports.storage.commands.save(dataclasses.replace(updated, deadline=now + ports.lease))
    return await deliver(ports, updated)


# --- the operator's view -------------------------------------------------------------------------
async def open_commands(
    storage: Storage, *, direction: CommandDirection | None = None, limit: int = 1000
) -> list[CommandRecord]:
    """Open commands and charging-profile requests (not final, webhook events left out),
    oldest deadline first; ``direction`` keeps one side."""
    far = datetime.max.replace(tzinfo=UTC)
    return [
        r
        for r in await storage.commands.due(before=far, limit=limit)
        if r.command != webhooks.KIND and (direction is None or r.direction is direction)
    ]


async def command_record(
    storage: Storage, direction: CommandDirection, command_id: str
) -> CommandRecord | None:
    """One command or charging-profile request as stored, open or final."""
    return await storage.commands.get(direction, command_id)


# --- the periodic sweep --------------------------------------------------------------------------
async def sweep(ports: FlowPorts, *, limit: int = 100) -> int:
    """Act on every due record once (module docstring); returns how many were handled. A
    record that fails is logged and left for the next sweep."""
    now = ports.clock.now()
    due = await ports.storage.commands.due(before=now + _EPSILON, limit=limit)
    for record in due:
        try:
            await _handle(ports, record, now)
        except Exception:
            log.exception("flows: record %s/%s failed", record.direction, record.id)
    return len(due)


async def _handle(ports: FlowPorts, record: CommandRecord, now: datetime) -> None:
    store = ports.storage.commands
    if record.command == webhooks.KIND:
        if ports.webhooks is None:
            return
        # a short lease so that a second process does not POST it concurrently
        await store.save(dataclasses.replace(record, deadline=now + ports.lease))
        await store.save(await ports.webhooks.deliver(record))
        return
    if record.direction is CommandDirection.SENT:
        if record.state == commands.NEW:
            record = dataclasses.replace(record, state=commands.State.PENDING)
        if record.state != commands.State.PENDING:
            return
        timed_out = await store.save(commands.on_deadline(record, now))
        await emit(ports, "command.result", summary(timed_out), timed_out.partner_id)
        return
    await store.save(dataclasses.replace(record, deadline=now + ports.lease))
    await deliver(ports, record)


async def sweep_until(ports: FlowPorts, stop: asyncio.Event, *, interval: float = 1.0) -> None:
    """Sweep until ``stop`` is set: at once again while records were due, else after
    ``interval`` seconds."""
    while not stop.is_set():
        try:
            handled = await sweep(ports)
        except Exception:
            log.exception("flows: sweep failed")
            handled = 0
        if handled == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
