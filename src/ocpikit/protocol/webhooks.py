"""Webhooks to the operator's systems for what partners send: the event
format, the signature and the durable queue, with no I/O (``ocpikit.client.webhooks`` POSTs).

Event types: ``session.received`` (PUT or PATCH of a Session by a CPO partner),
``cdr.received``, ``token.received`` (a Token pushed by an eMSP partner), ``command.received``
(a partner's command we accepted or refused), ``command.result`` (the result of a command we
sent, or its TIMEOUT), ``authorization.requested`` (a CPO partner asked us to authorize a token,
with our answer).

Body (JSON)::

    {"id": "<event id>", "type": "cdr.received", "created": "2026-01-01T10:00:00Z",
     "partner": "NL-CPO", "data": {...head JSON...}}

Headers: ``X-Ocpikit-Event-Id`` (the id: deliveries are at least once, receivers deduplicate
by it), ``X-Ocpikit-Event`` (the type), ``X-Ocpikit-Timestamp`` (unix seconds of this
attempt) and ``X-Ocpikit-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the
configured secret>``. Signing the timestamp with the body lets a receiver refuse replays.

Queue: events are stored in the :class:`~ocpikit.protocol.ports.CommandStore` as records with
``command="WEBHOOK"`` (direction ``sent``, id = event id), due at once; the sweep of
``ocpikit.operations.commands`` hands them to an :class:`EventDelivery` (``ocpikit.client``'s
POSTs them) and retries with exponential backoff (1 s doubling to 10 minutes,
:data:`MAX_ATTEMPTS` attempts) until a 2xx answer. The store keys by id, so saving an
event twice is idempotent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

import orjson

from ocpikit.core.types import format_datetime
from ocpikit.protocol.ports import CommandDirection, CommandRecord, CommandStore

__all__ = [
    "EVENT_TYPES",
    "KIND",
    "MAX_ATTEMPTS",
    "EventDelivery",
    "EventSink",
    "StoredEvents",
    "after_attempt",
    "emit",
    "event_body",
    "event_sink",
    "sign",
    "signature_headers",
    "verify",
]

KIND: Final = "WEBHOOK"
MAX_ATTEMPTS: Final = 15
EVENT_TYPES: Final = (
    "session.received",
    "cdr.received",
    "token.received",
    "command.received",
    "command.result",
    "authorization.requested",
)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``"<timestamp>." + body``)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """For receivers (and tests): whether the signature header matches (constant time)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        ts = int(lower.get("x-ocpikit-timestamp", ""))
    except ValueError:
        return False
    return hmac.compare_digest(sign(secret, ts, body), lower.get("x-ocpikit-signature", ""))


def signature_headers(
    record: CommandRecord, body: bytes, secret: str | None, timestamp: int
) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-Ocpikit-Event-Id": record.id,
        "X-Ocpikit-Event": str((record.request or {}).get("type", "")),
        "X-Ocpikit-Timestamp": str(timestamp),
    }
    if secret:
        headers["X-Ocpikit-Signature"] = sign(secret, timestamp, body)
    return headers


def event_body(record: CommandRecord) -> bytes:
    """The JSON body of a queued event (the same bytes on every attempt)."""
    return orjson.dumps(dict(record.request or {}))


def new_event(
    event_type: str,
    data: Mapping[str, Any],
    now: datetime,
    *,
    partner_id: str | None = None,
    event_id: str | None = None,
) -> CommandRecord:
    ident = event_id or uuid.uuid4().hex
    return CommandRecord(
        id=ident,
        direction=CommandDirection.SENT,
        command=KIND,
        state="PENDING",
        partner_id=partner_id,
        request={
            "id": ident,
            "type": event_type,
            "created": format_datetime(now),
            "partner": partner_id,
            "data": dict(data),
        },
        response={"attempts": 0},
        deadline=now,
    )


def after_attempt(record: CommandRecord, error: str | None, now: datetime) -> CommandRecord:
    """The record after one POST: delivered (final), or due again after the backoff, or given
    up (final, state ``FAILED``, last error kept) after :data:`MAX_ATTEMPTS`."""
    attempts = int((record.response or {}).get("attempts", 0)) + 1
    response: dict[str, Any] = {"attempts": attempts}
    if error is None:
        return dataclasses.replace(
            record, state="DELIVERED", final=True, deadline=None, response=response
        )
    response["last_error"] = error[:500]
    if attempts >= MAX_ATTEMPTS:
        return dataclasses.replace(
            record, state="FAILED", final=True, deadline=None, response=response
        )
    delay = min(600.0, float(2 ** (attempts - 1)))
    return dataclasses.replace(record, deadline=now + timedelta(seconds=delay), response=response)


class EventSink(Protocol):
    async def emit(
        self, event_type: str, data: Mapping[str, Any], *, partner_id: str | None = None
    ) -> None: ...


class EventDelivery(Protocol):
    """One attempt to POST a queued event to the operator's URL: the record that comes back
    says what is next (:func:`after_attempt`)."""

    async def deliver(self, record: CommandRecord) -> CommandRecord: ...


class StoredEvents:
    """The durable sink: one queued record per event (only wired when a webhook URL is set)."""

    def __init__(self, commands: CommandStore, now: Any) -> None:
        self.commands = commands
        self.now = now

    async def emit(
        self, event_type: str, data: Mapping[str, Any], *, partner_id: str | None = None
    ) -> None:
        await self.commands.save(new_event(event_type, data, self.now(), partner_id=partner_id))


def event_sink(holder: Any) -> Any:
    """The ``emit`` of ``holder.events`` (the decisions object carries the sink), or None when
    no sink is wired: a caller can skip building an event's data. Duck-typed rather than
    isinstance(sink, EventSink): a runtime Protocol check inspects every member, on every
    Session a partner pushes."""
    sink = getattr(holder, "events", None)
    send = getattr(sink, "emit", None) if sink is not None else None
    return send if callable(send) else None


async def emit(
    holder: Any, event_type: str, data: Mapping[str, Any], *, partner_id: str | None = None
) -> None:
    """Emit through ``holder.events`` when wired (:func:`event_sink`)."""
    send = event_sink(holder)
    if send is not None:
        await send(event_type, data, partner_id=partner_id)
