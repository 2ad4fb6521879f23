"""Credentials between OCPI 2.1.1 and 2.2.1 (DIGEST §2.3, §6.2; 2.1.1 credentials, 2.2.1
credentials §Credentials object).

Up: the flat 2.1.1 party becomes a one-element ``roles`` list. 2.1.1 does not say which role
the party plays, so it comes from ``ctx.role`` (CPO or EMSP); without it ``CPO`` is assumed and
reported.

Down: 2.1.1 carries one party. The role matching ``ctx.role`` (and ``ctx.country_code``/
``ctx.party_id`` when given) is kept, else the first; every other role is dropped and reported
(a 2.1.1 peer needs one connection per party).
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path
from ocpikit.core.types import ci_equal

__all__ = ["DOWN", "RULES", "UP", "down_credentials", "up_credentials"]

R_ROLE = LossRule(
    id="2.1.1>2.2.1 Credentials.roles[].role",
    object="Credentials",
    field="roles[].role",
    source="(implied by the connection)",
    target="role",
    kind="defaulted",
    note="2.1.1 has no role; taken from the context, else CPO",
)
R_ROLES = LossRule(
    id="2.2.1>2.1.1 Credentials.roles",
    object="Credentials",
    field="roles",
    source="several roles",
    target="one party",
    kind="dropped",
    note="2.1.1 Credentials describe one party; the role of this connection is kept",
)

RULES: list[LossRule] = [R_ROLE, R_ROLES]

_PARTY = ("business_details", "party_id", "country_code")


def up_credentials(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 → 2.2.1 Credentials: one CredentialsRole from the flat party fields."""
    role = ctx.role
    if role is None:
        ctx.lose(R_ROLE, join_path(path, "roles[0].role"), "assumed CPO")
        role = "CPO"
    entry: dict[str, Any] = {"role": role}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in _PARTY:
            entry[key] = value
        else:
            out[key] = value
    out["roles"] = [entry]
    return out


def _pick(roles: list[Any], ctx: Context) -> int:
    def score(entry: Any) -> int:
        if not isinstance(entry, dict):
            return -1
        points = 0
        if ctx.role is not None and entry.get("role") == ctx.role:
            points += 2
        if ci_equal(entry.get("country_code"), ctx.country_code) and ci_equal(
            entry.get("party_id"), ctx.party_id
        ):
            points += 1
        return points

    scores = [score(entry) for entry in roles]
    return scores.index(max(scores))


def down_credentials(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 → 2.1.1 Credentials: flatten the role of this connection."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key != "roles":
            out[key] = value
    roles = data.get("roles")
    if isinstance(roles, list) and roles:
        chosen = _pick(roles, ctx)
        entry = roles[chosen]
        if isinstance(entry, dict):
            for key in _PARTY:
                if key in entry:
                    out[key] = entry[key]
        for i, other in enumerate(roles):
            if i != chosen:
                who = (
                    f"{other.get('role')} {other.get('country_code')}/{other.get('party_id')}"
                    if isinstance(other, dict)
                    else str(other)
                )
                ctx.lose(R_ROLES, join_path(join_path(path, "roles"), i), who)
    return out


UP: dict[str, Converter] = {"Credentials": up_credentials}
DOWN: dict[str, Converter] = {"Credentials": down_credentials}
