"""Real-time authorization of a token as a CPO (DIGEST §3.5, §6.7; OCPI 2.2.1 mod_tokens
§Real-time authorization): answer from the token cache when the whitelist allows it, else ask the
token's eMSP (``POST {tokens}/{uid}/authorize``) through the partner-calls port, and say what
was answered and why. The rules are :mod:`ocpikit.protocol.tokens_auth` (pure); this module
finds the token and the connection to its eMSP (:func:`emsp_connection`), makes the call,
refreshes the cache from a 2.2+ answer and queues an ``authorization.requested`` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ocpikit.core.errors import ClientError, OcpiError, Unauthorized, UnknownToken
from ocpikit.core.headers import PartyRef
from ocpikit.core.types import parse_datetime
from ocpikit.operations.commands import emit
from ocpikit.operations.flow_ports import FlowPorts
from ocpikit.protocol import tokens_auth
from ocpikit.protocol.handlers.objects import token_key_id
from ocpikit.protocol.parties import RoutingRules, choose_route, directory, is_hub
from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus, Storage
from ocpikit.protocol.profiles import effective_settings

__all__ = ["EmspConnection", "authorize", "emsp_connection"]


@dataclass(frozen=True, slots=True)
class EmspConnection:
    """Where a token's eMSP is reached and what we hold of the token. ``partner``: the
    registered connection to ask (None: no eMSP known); ``key``: where the token is (or is to
    be) cached; ``token``: the cached head Token that connection pushed, if any;
    ``to_party``: the eMSP to address when ``partner`` is a hub (``OCPI-to-*``)."""

    partner: Partner | None = None
    key: ObjectKey | None = None
    token: Mapping[str, Any] | None = None
    to_party: PartyRef | None = None


def _same(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return (a[0].upper(), a[1].upper()) == (b[0].upper(), b[1].upper())


async def emsp_connection(
    storage: Storage,
    party: tuple[str, str],
    key_id: str,
    *,
    emsp: tuple[str, str] | None = None,
    rules: RoutingRules | None = None,
) -> EmspConnection:
    """Which connection of our party ``party`` reaches the eMSP of the token ``key_id``
    (:func:`~ocpikit.protocol.handlers.objects.token_key_id`), and the token as that
    connection pushed it: the one place that decides the route of a real-time authorization.

    The eMSPs are those of the party directory (:mod:`ocpikit.protocol.parties`: a partner's
    own roles, and the parties behind a hub). The connection that pushed the token wins when we
    hold it (a cached token counts only when that connection owns it); else, when the caller
    names ``emsp``, the best route to that party. ``emsp`` also limits the search to it."""
    partners = [
        p
        for p in await storage.partners.all(status=PartnerStatus.REGISTERED)
        if p.local_party is None or _same(p.local_party, party)
    ]
    entries = directory(partners, await storage.parties.learned())
    by_id = {p.id: p for p in partners}
    reaching: dict[tuple[str, str], set[str]] = {}
    for entry in entries:
        where = (entry.country_code.upper(), entry.party_id.upper())
        if emsp is None or _same(where, emsp):
            reaching.setdefault(where, set()).add(entry.partner_id)
    keys = {where: ObjectKey("Token", where[0], where[1], key_id) for where in reaching}
    held = await storage.objects.get_many(keys.values())  # one read, whatever the directory
    for where, connections in reaching.items():
        stored = held.get(keys[where])
        if stored is not None and stored.owner in connections:
            return _connection(by_id[stored.owner], stored.key, stored.document)
    if emsp is None:
        return EmspConnection()
    route = choose_route(entries, emsp[0], emsp[1], rules=rules)
    if route is None:
        return EmspConnection()
    key = ObjectKey("Token", route.country_code, route.party_id, key_id)
    return _connection(by_id[route.partner_id], key, None)


def _connection(
    partner: Partner, key: ObjectKey, token: Mapping[str, Any] | None
) -> EmspConnection:
    to_party = PartyRef(key.country_code, key.party_id) if is_hub(partner) else None
    return EmspConnection(partner, key, token, to_party)


async def authorize(
    ports: FlowPorts,
    party: tuple[str, str],
    uid: str,
    *,
    token_type: str | None = None,
    emsp: tuple[str, str] | None = None,
    location: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Authorize token ``uid`` for our party ``party`` (the CPO) by the whitelist rules of
    :mod:`ocpikit.protocol.tokens_auth`: from the token cache, or by asking the owning eMSP
    with ``location`` (head LocationReferences). The head AuthorizationInfo with ``source``
    (``cache``, ``realtime``, ``offline`` or ``none``) and ``reason``."""
    found = await emsp_connection(
        ports.storage, party, token_key_id(uid, token_type), emsp=emsp, rules=ports.rules
    )
    cached, owner = found.token, found.partner
    plan = tokens_auth.plan(cached)
    info: dict[str, Any]
    if not plan.realtime:
        reason = plan.reason
        info = tokens_auth.answer(plan.local or "NOT_ALLOWED", "cache", cached, location, reason)
    elif owner is None:
        reason = "no eMSP known for the token"
        info = tokens_auth.answer("NOT_ALLOWED", "none", cached, location, reason)
    elif location is None and needs_location(owner):
        reason = f"{owner.id} takes real-time authorizations only with LocationReferences"
        info = tokens_auth.answer("NOT_ALLOWED", "none", cached, location, reason)
    else:
        info = await _ask(ports, found, uid, token_type, location, plan)
        await _refresh_cache(ports.storage, found, info.get("token"))
    await emit(
        ports,
        "authorization.requested",
        {"uid": uid, "type": token_type or "RFID", "party": list(party), "answer": info},
        owner.id if owner else None,
    )
    return info


def needs_location(partner: Partner) -> bool:
    """Whether the connection takes a real-time authorization only with LocationReferences
    (the ``authorization_needs_location`` switch, e.g. Gireve's profile)."""
    return effective_settings(partner.settings).get("authorization_needs_location") is True


async def _ask(
    ports: FlowPorts,
    found: EmspConnection,
    uid: str,
    token_type: str | None,
    location: Mapping[str, Any] | None,
    plan: tokens_auth.AuthPlan,
) -> dict[str, Any]:
    cached = found.token
    assert found.partner is not None
    try:
        calls = ports.reach(found.partner)
        info = await calls.authorize(
            uid, token_type=token_type, location=location, to_party=found.to_party
        )
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


async def _refresh_cache(storage: Storage, found: EmspConnection, token: Any) -> None:
    """A 2.2+ real-time answer carries the complete Token: it replaces the cached one, owned
    by the connection that answered (:func:`~ocpikit.protocol.tokens_auth.refreshed_token`)."""
    refreshed = tokens_auth.refreshed_token(found.token, token)
    if refreshed is None or found.key is None or found.partner is None:
        return
    head = dict(refreshed)
    await storage.objects.put(
        found.key,
        orjson.dumps(head),
        last_updated=parse_datetime(str(head["last_updated"])),
        owner=found.partner.id,
    )
