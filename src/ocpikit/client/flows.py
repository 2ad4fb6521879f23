"""The I/O loop of the asynchronous flows (DESIGN §5): it drives the pure state machines of
:mod:`ocpikit.protocol.commands` (commands and charging-profile requests, both sides),
:mod:`ocpikit.protocol.tokens_auth` (real-time authorization as CPO) and
:mod:`ocpikit.protocol.webhooks` (events to the operator), with the partner client.

:class:`Flows` implements :class:`~ocpikit.protocol.commands.PartnerFlows`, the port the backend
API uses, and :meth:`Flows.sweep` is the periodic job: sent commands past their deadline become
TIMEOUT, received commands still waiting for the operator get a TIMEOUT result, due results are
POSTed to their ``response_url`` (retried with backoff), due webhook events are POSTed. Every
state lives in the CommandStore, so a restart continues where the last process stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Generator, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
import orjson

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.errors import (
    ClientError,
    OcpiError,
    Unauthorized,
    UnknownLocation,
    UnknownToken,
)
from ocpikit.core.types import parse_datetime
from ocpikit.core.versions import Role
from ocpikit.protocol import commands, tokens_auth, webhooks
from ocpikit.protocol.endpoints import side_of
from ocpikit.protocol.handlers.objects import token_key_id
from ocpikit.protocol.ports import (
    CommandDirection,
    CommandRecord,
    ObjectKey,
    Partner,
    PartnerStatus,
    Storage,
)
from ocpikit.protocol.webhooks import StoredEvents

from .partner import NoEndpoint, PartnerClient
from .sync import remember_auth
from .webhooks import WebhookSender

__all__ = ["Flows"]

log = logging.getLogger("ocpikit.flows")

_EPSILON = timedelta(milliseconds=1)
"""Records due "now" (deadline = now) are taken by a sweep at the same instant."""

Req = TypeVar("Req")
Ans = TypeVar("Ans")


def _send_error(exc: OcpiError) -> commands.SendError:
    permanent = isinstance(exc, (ClientError, NoEndpoint)) and not isinstance(exc, Unauthorized)
    return commands.SendError(f"{type(exc).__name__}: {exc.message}", permanent=permanent)


class Flows:
    """Commands, charging profiles, real-time authorization and webhooks (module docstring).

    ``base_url``: our public base URL (response URLs point at it). ``webhook_url`` /
    ``webhook_secret``: where events go and how they are signed (no URL: no events queued).
    """

    def __init__(
        self,
        storage: Storage,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        clock: Clock = SYSTEM_CLOCK,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        lease: float = 30.0,
        webhook_http: httpx.AsyncClient | None = None,
    ) -> None:
        self.storage = storage
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.lease = timedelta(seconds=lease)
        self.webhook = (
            WebhookSender(webhook_http or http, webhook_url, secret=webhook_secret, clock=clock)
            if webhook_url
            else None
        )
        self.events = StoredEvents(storage.commands, clock.now) if webhook_url else None
        self._learn = remember_auth(storage)

    # --- plumbing ---------------------------------------------------------------------------
    async def _client(self, partner_id: str | None) -> PartnerClient:
        partner = await self.storage.partners.get(partner_id) if partner_id else None
        if partner is None or partner.status is not PartnerStatus.REGISTERED:
            raise NoEndpoint(f"partner {partner_id} is not registered")
        return PartnerClient(partner, self.http, clock=self.clock, on_auth_learned=self._learn)

    async def _emit(self, event: str, data: Mapping[str, Any], partner_id: str | None) -> None:
        if self.events is not None:
            await self.events.emit(event, data, partner_id=partner_id)

    def response_url(self, partner: Partner, module: str, *parts: str) -> str:
        """Our Sender URL for an asynchronous result, in the partner's version."""
        side = side_of(Role.EMSP)
        return "/".join([f"{self.base_url}/ocpi/{partner.version}/{side}/{module}", *parts])

    @staticmethod
    def _start(flow: Generator[Req, Ans, CommandRecord]) -> Req | CommandRecord:
        try:
            return next(flow)
        except StopIteration as stop:
            result: CommandRecord = stop.value
            return result

    @staticmethod
    def _finish(flow: Generator[Req, Ans, CommandRecord], answer: Ans) -> CommandRecord:
        try:
            flow.send(answer)
        except StopIteration as stop:
            result: CommandRecord = stop.value
            return result
        raise RuntimeError("flow yielded twice")

    # --- eMSP: send a command -----------------------------------------------------------------
    async def send_command(
        self, partner_id: str, command: str, body: Mapping[str, Any]
    ) -> CommandRecord:
        """Send ``command`` (head body without ``response_url``) and return the record: state
        PENDING (ACCEPTED, waiting for the result until the deadline), or final."""
        command = command.upper()
        if command not in commands.COMMAND_OBJECTS:
            raise ValueError(f"unknown command {command!r}")
        client = await self._client(partner_id)
        command_id = uuid.uuid4().hex
        url = self.response_url(client.partner, "commands", command, command_id)
        record = commands.new_sent(
            command_id, command, partner_id, {**body, "response_url": url}, url
        )
        return await self._send(client, record, self._send_command)

    async def _send_command(self, client: PartnerClient, req: commands.SendCommand) -> Any:
        return await client.send_command(req.command, req.body)

    async def send_profile(
        self, partner_id: str, action: str, session_id: str, body: Mapping[str, Any]
    ) -> CommandRecord:
        """SET_PROFILE (``body``: ``{"charging_profile": ...}``), GET_PROFILE (``{"duration":
        seconds}``) or CLEAR_PROFILE to the CPO's ChargingProfiles Receiver (2.2+)."""
        action = action.upper()
        if action not in commands.PROFILE_ACTIONS:
            raise ValueError(f"unknown charging-profile action {action!r}")
        client = await self._client(partner_id)
        request_id = uuid.uuid4().hex
        url = self.response_url(client.partner, "chargingprofiles", session_id, request_id)
        record = commands.new_sent(
            request_id, action, partner_id, {**body, "session_id": session_id}, url
        )
        return await self._send(client, record, self._send_profile)

    async def _send_profile(self, client: PartnerClient, req: commands.SendCommand) -> Any:
        body = dict(req.body)
        session_id = str(body.pop("session_id"))
        url = str(dict(req.body).get("response_url") or "")
        if req.command == "SET_PROFILE":
            return await client.set_charging_profile(
                session_id, {"charging_profile": body["charging_profile"], "response_url": url}
            )
        if req.command == "GET_PROFILE":
            return await client.get_active_profile(
                session_id, duration=int(body.get("duration") or 900), response_url=url
            )
        return await client.clear_profile(session_id, response_url=url)

    async def _send(self, client: PartnerClient, record: CommandRecord, call: Any) -> CommandRecord:
        now = self.clock.now()
        if record.request is not None and record.response_url:
            record = dataclasses.replace(
                record, request={**record.request, "response_url": record.response_url}
            )
        # stored before sending: a fast result may overtake the synchronous answer, and a
        # process that dies mid-send leaves a record that the sweep times out
        await self.storage.commands.save(dataclasses.replace(record, deadline=now + self.lease))
        flow = commands.send_flow(record, now)
        req = self._start(flow)
        assert isinstance(req, commands.SendCommand)
        answer: Mapping[str, Any] | commands.SendError
        try:
            answer = await call(client, req)
        except UnknownLocation as exc:
            # 2003 carries CommandResponse REJECTED (plantuml command_unlock_unknow_location)
            answer = {"result": "REJECTED", "message": [{"language": "en", "text": exc.message}]}
        except OcpiError as exc:
            answer = _send_error(exc)
        done = self._finish(flow, answer)
        current = await self.storage.commands.get(CommandDirection.SENT, record.id)
        if current is not None and current.state != commands.NEW:
            # the result already arrived: keep it, add the synchronous answer
            done = dataclasses.replace(current, response=done.response)
        saved = await self.storage.commands.save(done)
        if saved.final:
            await self._emit("command.result", _summary(saved), saved.partner_id)
        return saved

    # --- CPO: deliver a result ----------------------------------------------------------------
    async def deliver(self, record: CommandRecord) -> CommandRecord:
        """POST the record's due result to its response_url (one attempt) and save the next
        state; a record not due for delivery is returned unchanged."""
        now = self.clock.now()
        flow = commands.deliver_flow(record, now)
        req = self._start(flow)
        if isinstance(req, CommandRecord):
            if req is not record:
                await self.storage.commands.save(req)
            return req
        failure: commands.SendError | None = None
        try:
            client = await self._client(req.partner_id)
            await client.post_result(req.response_url, req.body, module=req.module)
        except OcpiError as exc:
            failure = _send_error(exc)
        done = self._finish(flow, failure)
        return await self.storage.commands.save(done)

    async def report_result(self, command_id: str, result: Mapping[str, Any]) -> CommandRecord:
        """The operator's result for a received command: recorded, then POSTed at once."""
        record = await self.storage.commands.get(CommandDirection.RECEIVED, command_id)
        if record is None:
            raise KeyError(command_id)
        updated = commands.on_operator_result(record, result, self.clock.now())
        await self.storage.commands.save(updated)
        return await self.deliver(updated)

    # --- CPO: real-time authorization -----------------------------------------------------------
    async def authorize(
        self,
        party: tuple[str, str],
        uid: str,
        *,
        token_type: str | None = None,
        emsp: tuple[str, str] | None = None,
        location: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Authorize token ``uid`` for our party ``party`` (the CPO) by the whitelist rules of
        :mod:`ocpikit.protocol.tokens_auth`: from the token cache, or by asking the owning
        eMSP (``POST {tokens}/{uid}/authorize``) with ``location`` (head LocationReferences)."""
        key_id = token_key_id(uid, token_type)
        partners = [
            p
            for p in await self.storage.partners.all(status=PartnerStatus.REGISTERED)
            if p.local_party is None
            or (p.local_party[0].upper(), p.local_party[1].upper())
            == (party[0].upper(), party[1].upper())
        ]
        cached: Mapping[str, Any] | None = None
        owner: Partner | None = None
        key: ObjectKey | None = None
        for p in partners:
            for r in p.roles:
                if emsp is not None and (r.country_code.upper(), r.party_id.upper()) != (
                    emsp[0].upper(),
                    emsp[1].upper(),
                ):
                    continue
                k = ObjectKey("Token", r.country_code, r.party_id, key_id)
                stored = await self.storage.objects.get(k)
                if stored is not None and stored.owner == p.id:
                    cached, owner, key = stored.document, p, k
                    break
                if emsp is not None and owner is None:
                    owner, key = p, k
            if cached is not None:
                break
        plan = tokens_auth.plan(cached)
        info: dict[str, Any]
        if not plan.realtime:
            info = tokens_auth.answer(
                plan.local or "NOT_ALLOWED", "cache", cached, location, plan.reason
            )
        elif owner is None:
            info = tokens_auth.answer(
                "NOT_ALLOWED", "none", cached, location, "no eMSP known for the token"
            )
        else:
            info = await self._ask(owner, uid, token_type, location, cached, plan)
            refreshed = tokens_auth.refreshed_token(cached, info.get("token"))
            if refreshed is not None and key is not None:
                head = dict(refreshed)
                await self.storage.objects.put(
                    key,
                    orjson.dumps(head),
                    last_updated=parse_datetime(str(head["last_updated"])),
                    owner=owner.id,
                )
        await self._emit(
            "authorization.requested",
            {"uid": uid, "type": token_type or "RFID", "party": list(party), "answer": info},
            owner.id if owner else None,
        )
        return info

    async def _ask(
        self,
        owner: Partner,
        uid: str,
        token_type: str | None,
        location: Mapping[str, Any] | None,
        cached: Mapping[str, Any] | None,
        plan: tokens_auth.AuthPlan,
    ) -> dict[str, Any]:
        try:
            client = PartnerClient(owner, self.http, clock=self.clock, on_auth_learned=self._learn)
            info = await client.authorize(uid, token_type=token_type, location=location)
        except UnknownToken:
            return tokens_auth.answer("NOT_ALLOWED", "realtime", cached, location, "unknown token")
        except ClientError as exc:
            if isinstance(exc, Unauthorized):
                return tokens_auth.answer(plan.offline, "offline", cached, location, exc.message)
            return tokens_auth.answer("NOT_ALLOWED", "realtime", cached, location, exc.message)
        except OcpiError as exc:
            reason = f"eMSP unreachable ({type(exc).__name__}): {plan.reason}"
            return tokens_auth.answer(plan.offline, "offline", cached, location, reason)
        return {**info, "source": "realtime", "reason": plan.reason}

    # --- the periodic sweep ---------------------------------------------------------------------
    async def sweep(self, *, limit: int = 100) -> int:
        """Act on every due record once; returns how many were handled."""
        now = self.clock.now()
        due = await self.storage.commands.due(before=now + _EPSILON, limit=limit)
        for record in due:
            try:
                await self._handle(record, now)
            except Exception:
                log.exception("flows: record %s/%s failed", record.direction, record.id)
        return len(due)

    async def _handle(self, record: CommandRecord, now: datetime) -> None:
        if record.command == webhooks.KIND:
            if self.webhook is None:
                return
            # a short lease so that a second process does not POST it concurrently
            leased = dataclasses.replace(record, deadline=now + self.lease)
            await self.storage.commands.save(leased)
            await self.storage.commands.save(await self.webhook.deliver(record))
            return
        if record.direction is CommandDirection.SENT:
            if record.state == commands.NEW:
                record = dataclasses.replace(record, state=commands.State.PENDING)
            if record.state != commands.State.PENDING:
                return
            timed_out = await self.storage.commands.save(commands.on_deadline(record, now))
            await self._emit("command.result", _summary(timed_out), timed_out.partner_id)
            return
        await self.storage.commands.save(dataclasses.replace(record, deadline=now + self.lease))
        await self.deliver(record)

    async def run(self, stop: asyncio.Event, *, interval: float = 1.0) -> None:
        """Sweep until ``stop`` is set."""
        while not stop.is_set():
            try:
                handled = await self.sweep()
            except Exception:
                log.exception("flows: sweep failed")
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)


def _summary(record: CommandRecord) -> dict[str, Any]:
    return {
        "command_id": record.id,
        "command": record.command,
        "state": record.state,
        "response": record.response,
        "result": record.result,
    }
