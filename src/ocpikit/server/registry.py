"""Partner registration and removal as the operator triggers them (``ocpikit invite``,
``register``, ``unregister``, ``partners``; the backend API's ``/admin/api/invites`` and
``/admin/api/partners``): the settings read (which of our parties, our versions URL), then the
use case of :mod:`ocpikit.operations.partners`. The HTTP driver is injected (the composition
root passes ``ocpikit.client.registration``'s)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpikit.operations import partners as operations
from ocpikit.operations.partners import partner_summary, unregister
from ocpikit.protocol.partner_registration import FlowDriver
from ocpikit.protocol.ports import Partner, Storage
from ocpikit.server.settings import Settings

__all__ = ["invite", "partner_summary", "register_with", "rotate", "unregister"]


def _versions_url(settings: Settings) -> str:
    return f"{settings.base_url}/ocpi/versions"


async def invite(
    settings: Settings,
    storage: Storage,
    party_key: str | None,
    *,
    now: datetime | None = None,
    ttl: timedelta | None = operations.INVITE_TTL,
    expected_party: str | None = None,
    replace: str | None = None,
) -> dict[str, Any]:
    """Create a registration token A for a new partner of our party ``party_key``
    (:func:`ocpikit.operations.partners.invite`)."""
    return await operations.invite(
        storage,
        _versions_url(settings),
        settings.party(party_key),
        now=now or datetime.now(UTC),
        ttl=ttl,
        expected_party=expected_party,
        replace=replace,
    )


async def register_with(
    settings: Settings,
    storage: Storage,
    driver: FlowDriver,
    versions_url: str,
    token_a: str,
    party_key: str | None = None,
    partner_settings: Mapping[str, Any] | None = None,
) -> Partner:
    """We initiate the handshake with the partner at ``versions_url`` holding its token A;
    ``partner_settings``: the new connection's switches (a hub ``profile``)."""
    return await operations.register_with(
        storage,
        _versions_url(settings),
        driver,
        versions_url,
        token_a,
        settings.party(party_key),
        partner_settings,
    )


async def rotate(
    settings: Settings, storage: Storage, driver: FlowDriver, partner_id: str
) -> Partner:
    """Renew a registered connection's tokens both ways (a credentials PUT), for the party of
    ours it registered with."""
    partner = await storage.partners.get(partner_id)
    local = partner.local_party if partner is not None else None
    party = settings.party(f"{local[0]}-{local[1]}" if local else None)
    return await operations.rotate(storage, _versions_url(settings), driver, partner_id, party)
