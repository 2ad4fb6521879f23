"""The party directory as the operator sees it: every remote party, the connections that reach
it and which one carries its traffic (:mod:`ocpikit.protocol.parties`; ``ocpikit parties`` and
``GET /admin/api/parties``)."""

from __future__ import annotations

from typing import Any

from ocpikit.core.types import format_datetime
from ocpikit.protocol.parties import RoutingRules, choose_route, directory
from ocpikit.protocol.ports import Storage

__all__ = ["party_directory"]


async def party_directory(
    storage: Storage, rules: RoutingRules | None = None
) -> list[dict[str, Any]]:
    """One row per (party, role, connection): ``party`` (``CC-PID``), ``country_code``,
    ``party_id``, ``role``, ``partner`` (the connection), ``path`` (``direct`` | ``hub``),
    ``status`` (HubClientInfo's, or null), ``learned`` (``credentials`` | ``hubclientinfo`` |
    ``traffic``), ``updated_at`` and ``chosen`` (this connection carries the
    party's traffic in that role)."""
    entries = directory(await storage.partners.all(), await storage.parties.learned())
    rows: list[dict[str, Any]] = []
    for e in entries:
        best = choose_route(entries, e.country_code, e.party_id, role=e.role, rules=rules)
        rows.append(
            {
                "party": e.key,
                "country_code": e.country_code,
                "party_id": e.party_id,
                "role": e.role,
                "partner": e.partner_id,
                "path": e.path.value,
                "status": e.status,
                "learned": e.learned.value,
                "updated_at": format_datetime(e.updated_at) if e.updated_at else None,
                "chosen": best is not None and best.partner_id == e.partner_id,
            }
        )
    return rows
