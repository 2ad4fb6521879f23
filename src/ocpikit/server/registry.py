"""Partner registration and removal as the operator triggers them (``ocpikit invite``,
``register``, ``unregister``, ``partners``; the backend API's ``/admin/api/invites`` and
``/admin/api/partners``): the settings read, then the protocol's registration service
(:mod:`ocpikit.protocol.partner_registration`) does the bookkeeping. The HTTP driver is
injected (the composition root passes ``ocpikit.client.registration.drive``)."""

from __future__ import annotations

from typing import Any

from ocpikit.protocol.partner_registration import FlowDriver, PartnerRegistration, unregister
from ocpikit.protocol.ports import Partner, Storage
from ocpikit.server.settings import Settings

__all__ = ["invite", "partner_summary", "register_with", "unregister"]


def _registration(
    settings: Settings, storage: Storage, driver: FlowDriver | None = None
) -> PartnerRegistration:
    return PartnerRegistration(storage, f"{settings.base_url}/ocpi/versions", driver)


async def invite(settings: Settings, storage: Storage, party_key: str | None) -> dict[str, str]:
    """Create a registration token A for a new partner of our party ``party_key``."""
    registration = _registration(settings, storage)
    token = await registration.invite(settings.party(party_key))
    return {"versions_url": registration.versions_url, "token": token}


async def register_with(
    settings: Settings,
    storage: Storage,
    driver: FlowDriver,
    versions_url: str,
    token_a: str,
    party_key: str | None = None,
) -> Partner:
    """We initiate the handshake with the partner at ``versions_url`` holding its token A
    (:meth:`~ocpikit.protocol.partner_registration.PartnerRegistration.register_with`)."""
    party = settings.party(party_key)
    return await _registration(settings, storage, driver).register_with(
        versions_url, token_a, party
    )


def partner_summary(p: Partner) -> dict[str, Any]:
    """The JSON shape of ``ocpikit partners --json`` (no tokens)."""
    return {
        "id": p.id,
        "status": p.status.value,
        "version": p.version,
        "versions_url": p.versions_url,
        "roles": [
            {"role": r.role, "country_code": r.country_code, "party_id": r.party_id}
            for r in p.roles
        ],
        "endpoints": [
            {"identifier": e.identifier, "role": e.role, "url": e.url} for e in p.endpoints
        ],
        "our_party": "-".join(p.local_party) if p.local_party else None,
    }
