"""Partners as the operator manages them: invite one, register with one, list them with their
sync state, unregister one. The bookkeeping of a registration is the protocol's registration
service (:mod:`ocpikit.protocol.partner_registration`); the HTTP driver of a handshake is
injected (the composition root passes ``ocpikit.client.registration``'s).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ocpikit.core.types import format_datetime
from ocpikit.protocol.addressing import KIND_OF_MODULE
from ocpikit.protocol.parties import is_hub
from ocpikit.protocol.partner_registration import FlowDriver, OurParty, PartnerRegistration
from ocpikit.protocol.partner_registration import unregister as forget_partner
from ocpikit.protocol.ports import ANY_OWNER, CredentialsToken, Partner, Storage, token_digest
from ocpikit.protocol.profiles import PROFILES, effective_switches, profile_of

__all__ = [
    "INVITE_TTL",
    "SYNCED_MODULES",
    "UnknownProfile",
    "hub_clients",
    "invite",
    "invite_summary",
    "invites",
    "parse_duration",
    "partner_overview",
    "partner_summary",
    "partner_switches",
    "register_with",
    "revoke_invite",
    "rotate",
    "set_partner_switches",
    "sync_status",
    "unregister",
]

#: the Sender modules a partner is pulled from, in pull order (locations before sessions)
SYNCED_MODULES = ("locations", "tariffs", "sessions", "cdrs", "tokens")


#: how long a token A works unless the operator says otherwise
INVITE_TTL = timedelta(days=7)


async def invite(
    storage: Storage,
    versions_url: str,
    party: OurParty,
    *,
    now: datetime,
    ttl: timedelta | None = INVITE_TTL,
    expected_party: str | None = None,
    replace: str | None = None,
) -> dict[str, Any]:
    """A fresh token A for a new partner of our ``party``: ``{"versions_url", "token", "id",
    "expires_at"}``. It works once, until ``now + ttl`` (``None``: no expiry), only for
    ``expected_party`` when given, and with ``replace`` re-registers that partner."""
    expires_at = now + ttl if ttl is not None else None
    token = await PartnerRegistration(storage, versions_url, None).invite(
        party, expires_at=expires_at, expected_party=expected_party, replace=replace
    )
    return {
        "versions_url": versions_url,
        "token": token,
        "id": token_digest(token)[:12],
        "expires_at": format_datetime(expires_at) if expires_at else None,
    }


def invite_summary(record: CredentialsToken) -> dict[str, Any]:
    """A token A as ``ocpikit invite --list`` shows it (never the token itself)."""
    return {
        "id": record.id,
        "hint": "..." + record.hint,
        "our_party": "-".join(record.local_party) if record.local_party else None,
        "for": record.expected_party,
        "replaces": record.partner_id,
        "created_at": format_datetime(record.created_at),
        "expires_at": format_datetime(record.expires_at) if record.expires_at else None,
    }


async def invites(storage: Storage) -> list[dict[str, Any]]:
    """The tokens A that still work (:func:`invite_summary` each)."""
    return [invite_summary(record) for record in await storage.tokens.invites()]


async def revoke_invite(storage: Storage, token_id: str) -> int:
    """Revoke the tokens A whose id starts with ``token_id``; how many."""
    return await storage.tokens.revoke_invite(token_id)


async def register_with(
    storage: Storage,
    versions_url: str,
    driver: FlowDriver,
    their_versions_url: str,
    token_a: str,
    party: OurParty,
    settings: Mapping[str, Any] | None = None,
) -> Partner:
    """We start the handshake with the partner at ``their_versions_url`` holding its token A
    (``versions_url``: ours, which our Credentials carry); ``settings``: the connection's
    switches, e.g. ``{"profile": "gireve"}`` (:mod:`ocpikit.protocol.profiles`)."""
    registration = PartnerRegistration(storage, versions_url, driver)
    return await registration.register_with(their_versions_url, token_a, party, settings)


async def rotate(
    storage: Storage, versions_url: str, driver: FlowDriver, partner_id: str, party: OurParty
) -> Partner:
    """Renew a registered connection's tokens both ways with a credentials PUT
    (:meth:`~ocpikit.protocol.partner_registration.PartnerRegistration.rotate`)."""
    registration = PartnerRegistration(storage, versions_url, driver)
    return await registration.rotate(partner_id, party)


async def unregister(storage: Storage, partner_id: str) -> bool:
    """Forget a partner: its row, its tokens (they stop working at once), its outbox."""
    return await forget_partner(storage, partner_id)


def partner_summary(partner: Partner) -> dict[str, Any]:
    """A partner as JSON, without tokens (``ocpikit partners --json``)."""
    return {
        "id": partner.id,
        "status": partner.status.value,
        "version": partner.version,
        "versions_url": partner.versions_url,
        "roles": [
            {"role": r.role, "country_code": r.country_code, "party_id": r.party_id}
            for r in partner.roles
        ],
        "endpoints": [
            {"identifier": e.identifier, "role": e.role, "url": e.url} for e in partner.endpoints
        ],
        "our_party": "-".join(partner.local_party) if partner.local_party else None,
    }


async def sync_status(storage: Storage, partner_id: str) -> dict[str, dict[str, Any]]:
    """Per pulled module: the start of the last complete pull (``last_sync``, RFC 3339 or
    None) and how many of the partner's objects of that module we hold; modules never pulled
    and holding nothing are left out."""
    out: dict[str, dict[str, Any]] = {}
    for module in SYNCED_MODULES:
        mark = await storage.partners.get_sync_mark(partner_id, module)
        page = await storage.objects.list_page(KIND_OF_MODULE[module], limit=1, owner=partner_id)
        if mark is None and page.total == 0:
            continue
        out[module] = {
            "last_sync": format_datetime(mark) if mark else None,
            "objects": int(page.total),  # PostgreSQL sums counts as NUMERIC
        }
    return out


async def partner_overview(storage: Storage) -> list[dict[str, Any]]:
    """Every partner as :func:`partner_summary` with its ``sync`` (:func:`sync_status`)."""
    rows = []
    for partner in await storage.partners.all():
        row = partner_summary(partner)
        row["sync"] = await sync_status(storage, partner.id)
        rows.append(row)
    return rows


async def hub_clients(storage: Storage) -> list[dict[str, Any]]:
    """What hubs pushed through HubClientInfo (OCPI 2.2.1 mod_hub_client_info): the connection
    status of each party, with ``hub``: the partner (hub) that pushed it."""
    page = await storage.objects.list_page("ClientInfo", limit=1000, owner=ANY_OWNER)
    return [{"hub": item.owner, **item.document} for item in page.items]


def parse_duration(text: str) -> timedelta | None:
    """``7d``, ``12h``, ``30m``, ``90s`` or a number of seconds; ``never``: None."""
    value = text.strip().lower()
    if value in ("never", "none", "0"):
        return None
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    number, unit = (value[:-1], value[-1]) if value[-1:] in units else (value, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise ValueError(f"{text!r} is not a duration such as 7d, 12h or 30m") from None
    if seconds <= 0:
        raise ValueError(f"{text!r} must be positive")
    return timedelta(seconds=seconds)


class UnknownProfile(ValueError):
    """A profile name that :data:`~ocpikit.protocol.profiles.PROFILES` does not know."""


async def set_partner_switches(
    storage: Storage,
    partner_id: str,
    *,
    profile: str | None = None,
    switches: Mapping[str, Any] | None = None,
) -> Partner | None:
    """Give a connection a hub profile and/or individual switches (a ``None`` value removes a
    switch, so the profile's or the default value applies again); None when unknown."""
    if profile is not None and profile not in PROFILES:
        raise UnknownProfile(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    partner = await storage.partners.get(partner_id)
    if partner is None:
        return None
    settings = dict(partner.settings)
    if profile is not None:
        settings["profile"] = profile
    for name, value in (switches or {}).items():
        if value is None:
            settings.pop(name, None)
        else:
            settings[name] = value
    return await storage.partners.save(dataclasses.replace(partner, settings=settings))


def partner_switches(partner: Partner) -> dict[str, Any]:
    """A connection with its profile and every switch's effective value and source
    (``ocpikit partners show``)."""
    return {
        **partner_summary(partner),
        "profile": profile_of(partner.settings),
        "hub": is_hub(partner),
        "switches": [
            {"name": s.name, "value": s.value, "source": s.source, "doc": s.doc}
            for s in effective_switches(partner.settings)
        ],
    }
