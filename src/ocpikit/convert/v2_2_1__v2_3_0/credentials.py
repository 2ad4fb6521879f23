"""Credentials between OCPI 2.2.1 and 2.3.0 (DIGEST §2.3, §6.2; 2.3.0 credentials).

Up: 2.3.0 has no ``HUB`` role; a Hub names itself in ``hub_party_id`` (country code + party id)
and lists the parties reachable through it in ``roles``. A 2.2.1 ``HUB`` role therefore becomes
``hub_party_id``; the role entry itself becomes ``OTHER`` (same party and business details) so
that ``roles`` keeps at least one entry. The reachable parties are not in a 2.2.1 Credentials
object (they come from HubClientInfo), so they cannot be added here.

Down: ``hub_party_id`` becomes a single ``HUB`` role again (2.2.1: a Hub reports only itself),
with the business details of the matching role, else the first; the other roles are dropped and
reported. Business details logos go through the Locations converter (open ImageCategory).
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path
from ocpikit.convert.v2_2_1__v2_3_0.locations import down_business_details
from ocpikit.core.types import ci_equal

__all__ = ["DOWN", "RULES", "UP", "down_credentials", "up_credentials"]

R_HUB_UP = LossRule(
    id="2.2.1>2.3.0 Credentials.roles[].role",
    object="Credentials",
    field="roles[].role",
    source="role HUB",
    target="hub_party_id + role OTHER",
    kind="renamed-value",
    note="2.3.0 has no HUB role; the Hub party moves to hub_party_id",
)
R_HUB_MORE = LossRule(
    id="2.2.1>2.3.0 Credentials.hub_party_id",
    object="Credentials",
    field="hub_party_id",
    source="several HUB roles",
    target="one hub_party_id",
    kind="dropped",
    note="hub_party_id names one Hub; further HUB roles become OTHER only",
)
R_HUB_DOWN = LossRule(
    id="2.3.0>2.2.1 Credentials.roles",
    object="Credentials",
    field="roles",
    source="hub_party_id + reachable roles",
    target="one HUB role",
    kind="dropped",
    note="a 2.2.1 Hub reports only itself; reachable parties are for HubClientInfo",
)

RULES: list[LossRule] = [R_HUB_UP, R_HUB_MORE, R_HUB_DOWN]


def up_credentials(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 → 2.3.0 Credentials: HUB role → ``hub_party_id`` (+ role OTHER)."""
    out = dict(data)
    roles = data.get("roles")
    if not isinstance(roles, list):
        return out
    new_roles: list[Any] = []
    base = join_path(path, "roles")
    for i, entry in enumerate(roles):
        if isinstance(entry, dict) and entry.get("role") == "HUB":
            hub = f"{entry.get('country_code', '')}{entry.get('party_id', '')}"
            if "hub_party_id" not in out:
                out["hub_party_id"] = hub
            else:
                ctx.lose(R_HUB_MORE, join_path(base, i), hub)
            ctx.lose(R_HUB_UP, join_path(join_path(base, i), "role"), hub)
            new_roles.append({**entry, "role": "OTHER"})
        else:
            new_roles.append(entry)
    out["roles"] = new_roles
    return out


def _down_role(entry: Any, ctx: Context, path: str) -> Any:
    if isinstance(entry, dict) and isinstance(entry.get("business_details"), dict):
        where = join_path(path, "business_details")
        return {
            **entry,
            "business_details": down_business_details(entry["business_details"], ctx, where),
        }
    return entry


def _who(entry: Any) -> str:
    if isinstance(entry, dict):
        return f"{entry.get('role')} {entry.get('country_code')}/{entry.get('party_id')}"
    return str(entry)


def down_credentials(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.3.0 → 2.2.1 Credentials: ``hub_party_id`` → one HUB role; logos may change."""
    out = {k: v for k, v in data.items() if k != "hub_party_id"}
    base = join_path(path, "roles")
    given = data.get("roles")
    roles: list[Any] = (
        [_down_role(r, ctx, join_path(base, i)) for i, r in enumerate(given)]
        if isinstance(given, list)
        else []
    )
    if isinstance(given, list):
        out["roles"] = roles
    hub = data.get("hub_party_id")
    if not isinstance(hub, str) or len(hub) != 5:
        return out
    cc, pid = hub[:2], hub[2:]
    match = next(
        (
            i
            for i, r in enumerate(roles)
            if isinstance(r, dict)
            and ci_equal(r.get("country_code"), cc)
            and ci_equal(r.get("party_id"), pid)
        ),
        None,
    )
    template = roles[match] if match is not None else (roles[0] if roles else {})
    hub_role: dict[str, Any] = {"role": "HUB", "country_code": cc, "party_id": pid}
    if isinstance(template, dict) and "business_details" in template:
        hub_role["business_details"] = template["business_details"]
    for i, r in enumerate(roles):
        if i != match:
            ctx.lose(R_HUB_DOWN, join_path(base, i), _who(r))
    out["roles"] = [hub_role]
    return out


UP: dict[str, Converter] = {"Credentials": up_credentials}
DOWN: dict[str, Converter] = {"Credentials": down_credentials}
