"""The Payments module (2.3.0 mod_payments; DIGEST §3.9): the Payment Terminal Provider's Sender
and the CPO's Receiver.

Where the objects live:

- **PTP (Sender).** Our own Terminals and FinancialAdviceConfirmations are kept under the key
  of the CPO party they serve (``Terminal``/``FinancialAdviceConfirmation``, the CPO's
  ``country_code``/``party_id``, the id), owner ``None``. A CPO connection sees, changes,
  activates and deactivates only the terminals of its own party: another CPO's terminal is a
  404, never shown. An activated terminal (``POST /terminals/activate``) gets an id of ours and
  is queued to the CPO's Receiver in the same transaction (the spec's activation flow: the PTP
  then POSTs the Terminal to the CPO). The CPO's PUT and PATCH are information pushes (the
  objects stay the PTP's): the fields sent are merged into our terminal.
- **CPO (Receiver).** What a PTP POSTs is kept under the PTP connection's party, owned by it.

These are not client-owned-object URLs: no ``{country_code}/{party_id}`` segments. Payments
exists in 2.3.0 only, whose objects are the head form, so stored bytes are served as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from ocpikit.core.errors import InvalidOrMissingParameters, NotFound, from_validation_error
from ocpikit.core.pagination import PageParams, make_page
from ocpikit.core.types import format_datetime
from ocpikit.models import OBJECTS
from ocpikit.protocol.handlers.base import (
    Call,
    Reply,
    Services,
    last_updated_of,
    load_head,
    object_key,
)
from ocpikit.protocol.ports import ObjectKey, StoredObject
from ocpikit.protocol.webhooks import emit

__all__ = [
    "activate_terminal",
    "deactivate_terminal",
    "get_fac",
    "get_own_fac",
    "get_own_terminal",
    "get_terminal",
    "list_facs",
    "list_terminals",
    "post_fac",
    "post_terminal",
    "update_terminal",
]

TERMINAL = "Terminal"
FAC = "FinancialAdviceConfirmation"


def _partner_id(call: Call) -> str | None:
    return call.partner.id if call.partner is not None else None


def _partner_party(call: Call) -> tuple[str, str]:
    """The calling connection's party (the CPO at a PTP, the PTP at a CPO)."""
    partner = call.partner
    if partner is None or not partner.roles:
        raise NotFound("No partner")
    return partner.roles[0].country_code, partner.roles[0].party_id


# --- Receiver (CPO) ------------------------------------------------------------------------------
async def _post_received(call: Call, services: Services, name: str, id_field: str) -> Reply:
    head = load_head(call.version, name, call.body)
    cc, pid = _partner_party(call)
    await services.storage.objects.put(
        object_key(name, cc, pid, str(head[id_field])),
        orjson.dumps(head),
        last_updated=last_updated_of(head, services.clock.now()),
        owner=_partner_id(call),
    )
    event = "terminal.received" if name == TERMINAL else "payment.confirmed"
    await emit(services.decisions, event, head, partner_id=_partner_id(call))
    return Reply(http_status=201, data=head)


async def _get_received(call: Call, services: Services, name: str, param: str) -> Reply:
    cc, pid = _partner_party(call)
    stored = await services.storage.objects.get(object_key(name, cc, pid, call.params[param]))
    if stored is None or stored.owner != _partner_id(call):
        raise NotFound(f"Unknown {name} {call.params[param]!r}")
    return Reply(raw_data=stored.raw)


async def post_terminal(call: Call, services: Services) -> Reply:
    return await _post_received(call, services, TERMINAL, "terminal_id")


async def get_terminal(call: Call, services: Services) -> Reply:
    return await _get_received(call, services, TERMINAL, "terminal_id")


async def post_fac(call: Call, services: Services) -> Reply:
    return await _post_received(call, services, FAC, "id")


async def get_fac(call: Call, services: Services) -> Reply:
    return await _get_received(call, services, FAC, "fac_id")


# --- Sender (PTP) --------------------------------------------------------------------------------
async def _own(call: Call, services: Services, name: str, ident: str) -> StoredObject:
    """Our object ``name`` ``ident`` kept for the calling CPO's party (404 for another's)."""
    cc, pid = _partner_party(call)
    stored = await services.storage.objects.get(ObjectKey(name, cc, pid, ident))
    if stored is None or stored.owner is not None:
        raise NotFound(f"Unknown {name} {ident!r}")
    return stored


async def _list_own(call: Call, services: Services, name: str) -> Reply:
    params = PageParams.from_query(call.query)
    cc, pid = _partner_party(call)
    page = await services.storage.objects.list_page(
        name,
        offset=params.offset,
        limit=params.limit,
        date_from=params.date_from,
        date_to=params.date_to,
        owner=None,
        country_code=cc,
        party_id=pid,
    )
    meta = make_page(page.items, params=params, total_count=page.total, url=call.url)
    return Reply(raw_items=[item.raw for item in page.items], headers=meta.headers())


async def list_terminals(call: Call, services: Services) -> Reply:
    return await _list_own(call, services, TERMINAL)


async def list_facs(call: Call, services: Services) -> Reply:
    return await _list_own(call, services, FAC)


async def get_own_terminal(call: Call, services: Services) -> Reply:
    return Reply(raw_data=(await _own(call, services, TERMINAL, call.params["terminal_id"])).raw)


async def get_own_fac(call: Call, services: Services) -> Reply:
    return Reply(raw_data=(await _own(call, services, FAC, call.params["fac_id"])).raw)


def _terminal_fields(call: Call, body: Any) -> dict[str, Any]:
    """The Terminal fields a CPO sends (a partial Terminal: the spec's examples leave out
    ``terminal_id`` and ``last_updated``), validated one by one."""
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("Terminal: the body must be a JSON object")
    model = OBJECTS[call.version.text][TERMINAL]
    try:
        fields: dict[str, Any] = model.parse_patch(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    return fields


async def _save_terminal(
    call: Call, services: Services, key: ObjectKey, doc: Mapping[str, Any], *, push: bool
) -> Reply:
    head = load_head(call.version, TERMINAL, doc)
    partner_id = _partner_id(call)
    await services.storage.objects.put(
        key,
        orjson.dumps(head),
        last_updated=last_updated_of(head, services.clock.now()),
        owner=None,
        push_to=[partner_id] if push and partner_id is not None else (),
    )
    return Reply(data=head)


async def activate_terminal(call: Call, services: Services) -> Reply:
    """``POST {terminals}/activate``: the CPO asks us to activate a terminal integrated in its
    station (its ``reference``, e.g. a serial number). We give it an id (unless the CPO named
    one it may use), keep it for the CPO's party and queue it to the CPO's Receiver."""
    fields = _terminal_fields(call, call.body)
    cc, pid = _partner_party(call)
    ident = str(fields.get("terminal_id") or uuid.uuid4().hex)
    key = ObjectKey(TERMINAL, cc, pid, ident)
    existing = await services.storage.objects.get(key)
    if existing is not None:
        raise InvalidOrMissingParameters(
            f"terminal_id: {ident!r} is already active", path="terminal_id"
        )
    now = format_datetime(services.clock.now())
    doc = {**fields, "terminal_id": ident, "country_code": cc, "party_id": pid}
    reply = await _save_terminal(call, services, key, {**doc, "last_updated": now}, push=True)
    await emit(services.decisions, "terminal.activated", reply.data, partner_id=_partner_id(call))
    return reply


async def update_terminal(call: Call, services: Services) -> Reply:
    """``PUT`` or ``PATCH {terminals}/{terminal_id}``: the CPO's information push (its location
    and EVSE assignment, ``customer_reference``, ``invoice_base_url``): merged into ours."""
    stored = await _own(call, services, TERMINAL, call.params["terminal_id"])
    fields = _terminal_fields(call, call.body)
    sent_id = fields.pop("terminal_id", None)
    if sent_id is not None and str(sent_id).upper() != stored.key.id.upper():
        raise InvalidOrMissingParameters(
            f"terminal_id: {sent_id!r} differs from the URL", path="terminal_id"
        )
    for owner_field in ("country_code", "party_id"):
        fields.pop(owner_field, None)  # a CPO cannot move a terminal to another party
    doc = {**stored.document, **fields}
    if "last_updated" not in fields:
        doc["last_updated"] = format_datetime(services.clock.now())
    reply = await _save_terminal(call, services, stored.key, doc, push=False)
    await emit(services.decisions, "terminal.updated", reply.data, partner_id=_partner_id(call))
    return reply


async def deactivate_terminal(call: Call, services: Services) -> Reply:
    """``POST {terminals}/{terminal_id}/deactivate``: the terminal no longer serves the CPO;
    we forget it and answer with its last state."""
    stored = await _own(call, services, TERMINAL, call.params["terminal_id"])
    await services.storage.objects.delete(stored.key)
    doc = stored.document
    await emit(services.decisions, "terminal.deactivated", doc, partner_id=_partner_id(call))
    return Reply(data=doc)
