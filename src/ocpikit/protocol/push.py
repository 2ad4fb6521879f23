"""Who receives a change of one of our own objects ("push on change", ``transport_and_format`` §Pull and Push): the pure
rule behind the transactional outbox, usable by the backend API (``server``), which may not
import ``client``. ``ocpikit.client.delivery`` uses it for the outbox too.

A partner receives a change of our object when:

- it is registered;
- it has the module's Receiver interface in its version (2.1.1 endpoints carry no role: one of
  its roles must implement the Receiver, or it is a hub);
- it registered with the party owning the object (``local_party``), when that is known;
- Sessions and CDRs go only to the eMSP of the token (``cdr_token`` party, DIGEST §3.3 "only to
  the relevant eMSP"), over the one connection that reaches that eMSP (directly or through a
  hub: the party directory, :mod:`ocpikit.protocol.parties`), and a session keeps the
  connection it started on; Locations, Tariffs and Tokens (ours as eMSP) go to every
  connection that takes them, a hub once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from ocpikit.core.types import ci_equal
from ocpikit.core.versions import InterfaceRole
from ocpikit.protocol.endpoints import INTERFACES
from ocpikit.protocol.parties import RoutingRules, choose_route, directory, is_hub
from ocpikit.protocol.party_records import RemoteParty
from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus

__all__ = ["MODULE_OF_KIND", "push_targets", "receives", "token_party"]

#: head object name -> module whose Receiver takes it
MODULE_OF_KIND: Final = {
    "Location": "locations",
    "Session": "sessions",
    "CDR": "cdrs",
    "Tariff": "tariffs",
    "Token": "tokens",
    "Booking": "bookings",
    "BookingLocation": "bookings",
    "InvoiceReconciliationRecord": "invoicereconciliation",
}


def receives(partner: Partner, module: str) -> bool:
    """Whether ``partner`` has the Receiver interface of ``module``."""
    receivers = {
        i.implemented_by.value
        for i in INTERFACES
        if i.module == module and i.role is InterfaceRole.RECEIVER
    }
    for e in partner.endpoints:
        if e.identifier.lower() != module:
            continue
        if e.role is not None:
            if e.role.upper() == InterfaceRole.RECEIVER.value:
                return True
        elif is_hub(partner) or any(r.role.upper() in receivers for r in partner.roles):
            return True
    return False


def token_party(document: Mapping[str, Any]) -> tuple[str, str] | None:
    token = document.get("cdr_token")
    if isinstance(token, Mapping):
        cc, pid = token.get("country_code"), token.get("party_id")
        if isinstance(cc, str) and isinstance(pid, str):
            return cc, pid
    return None


def push_targets(
    partners: Sequence[Partner],
    key: ObjectKey,
    document: Mapping[str, Any],
    *,
    learned: Iterable[RemoteParty] = (),
    rules: RoutingRules | None = None,
    pinned: str | None = None,
) -> list[str]:
    """Ids of the connections that should receive the change of our object ``key``.

    A Session or CDR goes to the one connection that reaches its token's eMSP (``pinned`` when
    that connection still takes it, else the best route of the party directory: ``learned``
    are the directory's learned entries, ``rules`` the operator's choices), or its payment
    terminal provider; a Booking to the eMSP that asked for it (``pinned``) only; every other
    object to every connection that takes it, a hub once (not once per party behind it)."""
    module = MODULE_OF_KIND.get(key.kind)
    if module is None:
        return []
    eligible = [p for p in partners if _takes(p, module, key)]
    if key.kind == "Booking":
        # a booking goes to the eMSP that asked for it, only (2.3.0 mod_bookings §Flow)
        return [pinned] if pinned is not None and pinned in {p.id for p in eligible} else []
    owner = token_party(document) if key.kind in ("Session", "CDR") else None
    if owner is None:
        return [p.id for p in eligible]
    ids = {p.id for p in eligible}
    if pinned is not None and pinned in ids:
        return [pinned]
    entries = [e for e in directory(eligible, learned) if e.partner_id in ids]
    route = choose_route(entries, owner[0], owner[1], role="EMSP", rules=rules)
    if route is None:
        # a Payment Terminal Provider started it with its own ad-hoc token: it receives the
        # session and CDR (DIGEST §3.9), and presents itself as OTHER (no version has PTP)
        route = choose_route(entries, owner[0], owner[1], role="OTHER", rules=rules)
    return [route.partner_id] if route is not None else []


def _takes(partner: Partner, module: str, key: ObjectKey) -> bool:
    """A registered connection with the module's Receiver, registered with the object's party
    (when it registered with one)."""
    if partner.status is not PartnerStatus.REGISTERED or not receives(partner, module):
        return False
    local = partner.local_party
    return local is None or (
        ci_equal(local[0], key.country_code) and ci_equal(local[1], key.party_id)
    )
