"""Our own objects (Locations, Tariffs, Sessions, CDRs, Tokens) written, patched and deleted
together with their outbox entries: the partners that receive a change are chosen by
:func:`ocpikit.protocol.push.push_targets` and queued in the same transaction as the change
(OCPI 2.2.1 transport_and_format §Pull and Push: a receiver gets every change of the objects
it is interested in), so a change is never stored without being queued, nor queued without
being stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from ocpikit.core.types import parse_datetime
from ocpikit.protocol.parties import RoutingRules
from ocpikit.protocol.ports import (
    Merge,
    ObjectKey,
    Partner,
    PartnerStatus,
    PatchPlan,
    SetFields,
    Storage,
    StoredObject,
    patch_plan,
)
from ocpikit.protocol.profiles import effective_settings, without_stamps
from ocpikit.protocol.push import push_targets, token_party
from ocpikit.protocol.push_patches import PushPatch, changes_between

__all__ = [
    "ImmutableTariff",
    "check_tariff_change",
    "delete_own_object",
    "patch_own_object",
    "put_own_object",
    "session_of",
    "targets",
]


async def targets(
    storage: Storage,
    key: ObjectKey,
    document: Mapping[str, Any],
    rules: RoutingRules | None = None,
    registered: list[Partner] | None = None,
) -> list[str]:
    """The registered connections that receive a change of our object ``key``; a Session is
    pinned to the connection of its first push, and its CDR follows it (the party directory,
    :mod:`ocpikit.protocol.parties`). ``registered``: the registered partners, when the
    caller has read them already."""
    partners = (
        registered
        if registered is not None
        else await storage.partners.all(status=PartnerStatus.REGISTERED)
    )
    if key.kind == "Booking":
        pinned = await storage.parties.pinned(key.kind, key.country_code, key.party_id, key.id)
        return push_targets(partners, key, document, pinned=pinned)
    if key.kind not in ("Session", "CDR") or token_party(document) is None:
        return push_targets(partners, key, document)
    session = session_of(key, document)
    pinned = await storage.parties.pinned(*session) if session is not None else None
    if pinned is not None and push_targets(partners, key, document, pinned=pinned) == [pinned]:
        # the session's connection still takes it: no need to read the whole directory (every
        # PATCH of a running session comes here)
        return [pinned]
    found = push_targets(
        partners,
        key,
        document,
        learned=await storage.parties.learned(),
        rules=rules,
        pinned=pinned,
    )
    if found and session is not None and pinned is None:
        found = [await storage.parties.pin(*session, found[0])]
    return found


def session_of(key: ObjectKey, document: Mapping[str, Any]) -> tuple[str, str, str, str] | None:
    """The Session a Session or CDR belongs to (a CDR names it in ``session_id``, 2.2+)."""
    if key.kind == "Session":
        return ("Session", key.country_code, key.party_id, key.id)
    session_id = document.get("session_id")
    if isinstance(session_id, str) and session_id:
        return ("Session", key.country_code, key.party_id, session_id)
    return None


class ImmutableTariff(ValueError):
    """A change of a Tariff that a connection takes as immutable (the ``tariffs_immutable``
    switch, e.g. Gireve's profile): publish it under a new id instead."""


async def check_tariff_change(
    storage: Storage, key: ObjectKey, document: Mapping[str, Any], receivers: list[str]
) -> None:
    """:class:`ImmutableTariff` when ``document`` changes the content (more than
    ``last_updated``) of a stored Tariff that one of ``receivers`` takes as immutable."""
    if key.kind != "Tariff" or not receivers:
        return
    current = await storage.objects.get(key)
    if current is None or without_stamps(current.document) == without_stamps(dict(document)):
        return
    for partner_id in receivers:
        partner = await storage.partners.get(partner_id)
        if partner is not None and effective_settings(partner.settings).get("tariffs_immutable"):
            raise ImmutableTariff(
                f"Tariff {key.id} is published to {partner_id}, which takes tariffs as "
                "immutable (tariffs_immutable): publish the change under a new tariff id"
            )


async def put_own_object(
    storage: Storage,
    key: ObjectKey,
    document: Mapping[str, Any],
    *,
    last_updated: datetime | None = None,
    rules: RoutingRules | None = None,
) -> StoredObject:
    """Store one of our objects (head form) and queue it for its receivers. ``last_updated``
    defaults to the document's own (a head document always has one)."""
    stamp = last_updated
    if stamp is None:
        raw = document.get("last_updated")
        if not isinstance(raw, str):
            raise ValueError("a head document needs last_updated")
        stamp = parse_datetime(raw)
    receivers = await targets(storage, key, document, rules)
    await check_tariff_change(storage, key, document, receivers)
    return await storage.objects.put(
        key,
        orjson.dumps(dict(document)),
        last_updated=stamp,
        owner=None,
        push_to=receivers,
    )


async def patch_own_object(
    storage: Storage, key: ObjectKey, plan: PatchPlan | Merge, rules: RoutingRules | None = None
) -> StoredObject | None:
    """Patch one of our objects (a plan, or a merge of the current head document) and queue
    its new state for the receivers chosen from the current document; None when unknown.

    A Location's or Session's change goes to each receiver as the smallest PATCH (per EVSE,
    per Connector; a Session's new charging periods appended: :mod:`ocpikit.protocol.
    push_patches`), coalesced with what is still queued for it; as a PUT of the full state
    to a receiver whose ``whole_object_puts`` switch is on, or when no PATCH can say it."""
    current = await storage.objects.get(key)
    if current is None:
        return None
    registered = await storage.partners.all(status=PartnerStatus.REGISTERED)
    receivers = await targets(storage, key, current.document, rules, registered)
    merged: Mapping[str, Any] | None = None
    if key.kind in ("Tariff", "Location", "Session") and receivers:
        plan = patch_plan(plan)
        merged = (
            plan.apply(current.document)
            if isinstance(plan, SetFields)
            else plan.merge(current.document)
        )
        await check_tariff_change(storage, key, merged, receivers)
    push_patch = None
    if merged is not None and key.kind in ("Location", "Session"):
        push_patch = _push_patch(registered, receivers, key, current.document, merged)
    return await storage.objects.patch(key, plan, push_to=receivers, push_patch=push_patch)


def _push_patch(
    registered: list[Partner],
    receivers: list[str],
    key: ObjectKey,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> PushPatch | None:
    """The receivers that get ``before`` → ``after`` as PATCHes, with the changes; None when
    it goes as a PUT to all."""
    changes = changes_between(key.kind, before, after)
    if changes is None:
        return None
    wanted = set(receivers)
    partners = frozenset(
        p.id
        for p in registered
        if p.id in wanted and not effective_settings(p.settings).get("whole_object_puts")
    )
    return PushPatch(changes, partners) if partners else None


async def delete_own_object(storage: Storage, key: ObjectKey) -> bool:
    """Delete one of our objects; only a Tariff has a DELETE at the partners' Receivers
    (OCPI 2.2.1 mod_tariffs §Receiver interface DELETE), so only its deletion is queued."""
    current = await storage.objects.get(key)
    if current is None:
        return False
    push_to = await targets(storage, key, current.document) if key.kind == "Tariff" else []
    return await storage.objects.delete(key, push_to=push_to)
