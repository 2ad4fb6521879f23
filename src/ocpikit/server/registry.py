"""Partner registration and removal as the operator triggers them (``ocpikit invite``,
``register``, ``unregister``, ``partners``): storage bookkeeping around the protocol flows.
The HTTP driver is injected (the composition root passes ``ocpikit.client.registration.drive``)."""

from __future__ import annotations

import uuid
from typing import Any

from ocpikit.core.versions import Role
from ocpikit.protocol.ports import Exchange, Partner, PartnerStatus, Storage, TokenKind
from ocpikit.protocol.registration import RegisterFlow
from ocpikit.server.app import FlowDriver, new_token, our_credentials
from ocpikit.server.app import Platform as _Platform
from ocpikit.server.settings import Settings

__all__ = ["invite", "partner_summary", "register_with", "unregister"]


async def invite(settings: Settings, storage: Storage, party_key: str | None) -> dict[str, str]:
    """Create a registration token A for a new partner of our party ``party_key``."""
    party = settings.party(party_key)
    token = new_token()
    await storage.tokens.issue(token, TokenKind.A, local_party=(party.country_code, party.party_id))
    return {"versions_url": f"{settings.base_url}/ocpi/versions", "token": token}


async def register_with(
    settings: Settings,
    storage: Storage,
    driver: FlowDriver,
    versions_url: str,
    token_a: str,
    party_key: str | None = None,
) -> Partner:
    """We initiate the handshake (DIGEST §2.2): a pending partner holding our token B exists
    before the POST, because the partner calls our versions/details with B while answering."""
    party = settings.party(party_key)
    platform = _Platform(settings, storage, log_exchanges=False)
    token_b = new_token()
    pending_id = "pending-" + uuid.uuid4().hex[:12]
    await storage.partners.save(
        Partner(
            id=pending_id,
            status=PartnerStatus.PENDING,
            versions_url=versions_url,
            local_party=(party.country_code, party.party_id),
        ),
        issue=[(token_b, TokenKind.C)],
    )
    flow = RegisterFlow(
        versions_url,
        token_a,
        party.versions,
        lambda v: our_credentials(platform, v, token_b, [party]),
        default_role=Role.EMSP if Role.CPO in party.roles else Role.CPO,
    )
    log: list[Exchange] = []
    try:
        handshake = await driver(flow.flow(), record=log.append)
    except BaseException:
        await storage.partners.delete(pending_id)
        raise
    finally:
        if log:
            await storage.exchanges.record(log)
    first = handshake.parties[0]
    partner_id = f"{first.country_code}-{first.party_id}".upper()
    await storage.partners.delete(pending_id)
    old = await storage.partners.get(partner_id)
    if old is not None:
        await storage.partners.delete(partner_id)
    partner = Partner(
        id=partner_id,
        status=PartnerStatus.REGISTERED,
        roles=handshake.parties,
        version=handshake.version.text,
        versions_url=handshake.versions_url,
        endpoints=tuple(handshake.endpoints),
        outbound_token=handshake.token,
        local_party=(party.country_code, party.party_id),
    )
    return await storage.partners.save(partner, issue=[(token_b, TokenKind.C)])


async def unregister(storage: Storage, partner_id: str) -> bool:
    """Forget a partner locally (its tokens stop working at once)."""
    return await storage.partners.delete(partner_id)


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
