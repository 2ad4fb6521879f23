"""Payment terminals and financial advice confirmations as the operator's use cases, both sides
of 2.3.0 mod_payments (DIGEST §3.9):

- **as PTP** (a party with ``roles = ["PTP"]``): publish a terminal serving a CPO party
  (:func:`put_own_terminal`) and confirm the capture of a session paid at one
  (:func:`confirm_payment`); each is stored and queued to that CPO's Payments Receiver in one
  transaction (the outbox POSTs it);
- **as CPO**: ask a PTP to activate a terminal of our station, deactivate one, update it or
  assign it Locations and EVSEs (:func:`activate_terminal`, :func:`deactivate_terminal`,
  :func:`update_terminal`), and see the confirmations received with the CDR each one pays
  (:func:`confirmations`): the CDR of ours with the same ``authorization_reference``, the
  reference the PTP's StartSession gave the session.

Invariants: a PTP's own objects are kept under the key of the CPO party they serve, owner
``None``; what a PTP sent us is kept under its connection's party, owned by the connection (as
:mod:`ocpikit.protocol.handlers.payments` stores a POST), so both paths end in the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson

from ocpikit.core.errors import InvalidOrMissingParameters, NoEndpoint, NotFound
from ocpikit.core.types import ci_equal, format_datetime, parse_datetime
from ocpikit.core.versions import HEAD
from ocpikit.operations.flow_ports import FlowPorts
from ocpikit.protocol.handlers.base import load_head
from ocpikit.protocol.partner_calls import PaymentCalls
from ocpikit.protocol.ports import (
    ANY_OWNER,
    ObjectKey,
    Partner,
    PartnerStatus,
    Storage,
    StoredObject,
)
from ocpikit.protocol.push import receives

__all__ = [
    "FAC",
    "TERMINAL",
    "activate_terminal",
    "confirm_payment",
    "confirmations",
    "deactivate_terminal",
    "payment_objects",
    "put_own_terminal",
    "update_terminal",
]

TERMINAL = "Terminal"
FAC = "FinancialAdviceConfirmation"
#: how far before a confirmation the CDR it pays is looked for
CDR_WINDOW = timedelta(days=31)
_SCAN_LIMIT = 5000


# --- as PTP --------------------------------------------------------------------------------------
async def _cpo_connections(storage: Storage, cc: str, pid: str) -> list[str]:
    """The registered connections of CPO party ``cc``/``pid`` with a Payments Receiver."""
    return [
        p.id
        for p in await storage.partners.all(status=PartnerStatus.REGISTERED)
        if receives(p, "payments")
        and any(ci_equal(r.country_code, cc) and ci_equal(r.party_id, pid) for r in p.roles)
    ]


async def _put_own(
    storage: Storage, kind: str, cc: str, pid: str, ident: str, head: Mapping[str, Any]
) -> StoredObject:
    receivers = await _cpo_connections(storage, cc, pid)
    if not receivers:
        raise NotFound(f"no registered CPO {cc}-{pid} with a Payments Receiver")
    return await storage.objects.put(
        ObjectKey(kind, cc, pid, ident),
        orjson.dumps(dict(head)),
        last_updated=parse_datetime(str(head["last_updated"])),
        owner=None,
        push_to=receivers,
    )


async def put_own_terminal(
    storage: Storage, cc: str, pid: str, terminal: Mapping[str, Any], *, now: str
) -> StoredObject:
    """Publish our terminal (head Terminal, ``terminal_id`` required) serving CPO party
    ``cc``/``pid``; ``now`` stamps it when it has no ``last_updated``."""
    doc = {"last_updated": now, **terminal, "country_code": cc, "party_id": pid}
    head = load_head(HEAD, TERMINAL, doc)
    return await _put_own(storage, TERMINAL, cc, pid, str(head["terminal_id"]), head)


async def confirm_payment(
    storage: Storage, cc: str, pid: str, confirmation: Mapping[str, Any], *, now: str
) -> StoredObject:
    """Confirm to CPO party ``cc``/``pid`` what was captured for a session paid at one of our
    terminals (head FinancialAdviceConfirmation; its ``authorization_reference`` is the one of
    the StartSession)."""
    head = load_head(HEAD, FAC, {"last_updated": now, **confirmation})
    return await _put_own(storage, FAC, cc, pid, str(head["id"]), head)


# --- as CPO --------------------------------------------------------------------------------------
async def _ptp(ports: FlowPorts, partner_id: str) -> tuple[Partner, PaymentCalls]:
    partner = await ports.storage.partners.get(partner_id)
    if partner is None or partner.status is not PartnerStatus.REGISTERED:
        raise NotFound(f"Unknown partner {partner_id!r}")
    if ports.payments is None:
        raise NoEndpoint("this platform does not call Payments Senders")
    return partner, ports.payments(partner)


def _received_key(partner: Partner, terminal_id: str) -> ObjectKey:
    role = partner.roles[0]
    return ObjectKey(TERMINAL, role.country_code, role.party_id, terminal_id)


async def _keep(ports: FlowPorts, partner: Partner, terminal: Mapping[str, Any]) -> None:
    """Keep the PTP's answer as if it had POSTed it to our Receiver."""
    if not terminal.get("terminal_id"):
        return
    head = load_head(HEAD, TERMINAL, terminal)
    await ports.storage.objects.put(
        _received_key(partner, str(head["terminal_id"])),
        orjson.dumps(head),
        last_updated=parse_datetime(str(head["last_updated"])),
        owner=partner.id,
    )


async def activate_terminal(
    ports: FlowPorts, partner_id: str, terminal: Mapping[str, Any]
) -> dict[str, Any]:
    """Ask PTP ``partner_id`` to activate a terminal integrated in our station (``reference``,
    e.g. its serial number); the activated Terminal, kept as received."""
    if not isinstance(terminal, Mapping):
        raise InvalidOrMissingParameters("the body must be a Terminal object")
    partner, calls = await _ptp(ports, partner_id)
    answer = await calls.activate(terminal)
    await _keep(ports, partner, answer)
    return answer


async def deactivate_terminal(ports: FlowPorts, partner_id: str, terminal_id: str) -> bool:
    """Ask PTP ``partner_id`` to deactivate a terminal; our copy is forgotten."""
    partner, calls = await _ptp(ports, partner_id)
    await calls.deactivate(terminal_id)
    return await ports.storage.objects.delete(_received_key(partner, terminal_id))


async def update_terminal(
    ports: FlowPorts,
    partner_id: str,
    terminal_id: str,
    fields: Mapping[str, Any],
    *,
    patch: bool,
) -> dict[str, Any]:
    """Send PTP ``partner_id`` our data of a terminal: ``PATCH`` assigns ``location_ids`` and
    ``evse_uids``, ``PUT`` the rest (``customer_reference``, ``invoice_base_url``, ...).
    Our copy follows the PTP's answer (or, when it sends none, the fields sent)."""
    if not isinstance(fields, Mapping):
        raise InvalidOrMissingParameters("the body must be a JSON object")
    partner, calls = await _ptp(ports, partner_id)
    now = format_datetime(ports.clock.now())
    sent = {**fields, "last_updated": fields.get("last_updated") or now}
    answer = await calls.update(terminal_id, sent, patch=patch)
    if not answer:
        stored = await ports.storage.objects.get(_received_key(partner, terminal_id))
        answer = {**(stored.document if stored else {"terminal_id": terminal_id}), **sent}
    await _keep(ports, partner, answer)
    return answer


# --- the operator's views ------------------------------------------------------------------------
async def payment_objects(storage: Storage, kind: str, *, own: bool) -> list[dict[str, Any]]:
    """Terminals or confirmations: ours (as PTP) or received (as CPO), in creation order."""
    page = await storage.objects.list_page(
        kind, limit=_SCAN_LIMIT, owner=None if own else ANY_OWNER
    )
    return [
        {
            "party": f"{o.key.country_code}-{o.key.party_id}",
            "partner": o.owner,
            "object": o.document,
        }
        for o in page.items
        if own or o.owner is not None
    ]


async def _cdr_paid_by(storage: Storage, fac: StoredObject) -> StoredObject | None:
    reference = fac.document.get("authorization_reference")
    if not isinstance(reference, str):
        return None
    page = await storage.objects.list_page(
        "CDR", limit=_SCAN_LIMIT, owner=None, date_from=fac.last_updated - CDR_WINDOW
    )
    for cdr in page.items:
        if ci_equal(str(cdr.document.get("authorization_reference") or ""), reference):
            return cdr
    return None


async def confirmations(storage: Storage) -> list[dict[str, Any]]:
    """The confirmations PTPs sent us, each with the CDR of ours it pays (or None yet)."""
    page = await storage.objects.list_page(FAC, limit=_SCAN_LIMIT, owner=ANY_OWNER)
    out: list[dict[str, Any]] = []
    for fac in page.items:
        if fac.owner is None:
            continue
        cdr = await _cdr_paid_by(storage, fac)
        out.append(
            {
                "partner": fac.owner,
                "confirmation": fac.document,
                "cdr": None
                if cdr is None
                else {
                    "country_code": cdr.key.country_code,
                    "party_id": cdr.key.party_id,
                    "id": cdr.key.id,
                    "invoice_reference_id": cdr.document.get("invoice_reference_id"),
                },
            }
        )
    return out
