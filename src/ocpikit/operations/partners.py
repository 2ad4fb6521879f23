"""Partners as the operator manages them: invite one, register with one, list them with their
sync state, unregister one. The bookkeeping of a registration is the protocol's registration
service (:mod:`ocpikit.protocol.partner_registration`); the HTTP driver of a handshake is
injected (the composition root passes ``ocpikit.client.registration``'s).
"""

from __future__ import annotations

from typing import Any

from ocpikit.core.types import format_datetime
from ocpikit.protocol.addressing import KIND_OF_MODULE
from ocpikit.protocol.partner_registration import FlowDriver, OurParty, PartnerRegistration
from ocpikit.protocol.partner_registration import unregister as forget_partner
from ocpikit.protocol.ports import Partner, Storage

__all__ = [
    "SYNCED_MODULES",
    "invite",
    "partner_overview",
    "partner_summary",
    "register_with",
    "sync_status",
    "unregister",
]

#: the Sender modules a partner is pulled from, in pull order (locations before sessions)
SYNCED_MODULES = ("locations", "tariffs", "sessions", "cdrs", "tokens")


async def invite(storage: Storage, versions_url: str, party: OurParty) -> dict[str, str]:
    """A fresh token A for a new partner of our ``party``: ``{"versions_url", "token"}``."""
    token = await PartnerRegistration(storage, versions_url, None).invite(party)
    return {"versions_url": versions_url, "token": token}


async def register_with(
    storage: Storage,
    versions_url: str,
    driver: FlowDriver,
    their_versions_url: str,
    token_a: str,
    party: OurParty,
) -> Partner:
    """We start the handshake with the partner at ``their_versions_url`` holding its token A
    (``versions_url``: ours, which our Credentials carry)."""
    registration = PartnerRegistration(storage, versions_url, driver)
    return await registration.register_with(their_versions_url, token_a, party)


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
            "objects": page.total,
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
