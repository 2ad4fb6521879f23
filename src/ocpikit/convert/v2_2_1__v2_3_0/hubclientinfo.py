"""HubClientInfo between OCPI 2.2.1 and 2.3.0 (2.2.1/2.3.0 mod_hub_client_info).

The module is unchanged except that 2.3.0's Role has no ``HUB``: a ClientInfo about a Hub
(another Hub connected to this one) gets role ``OTHER`` going up, reported. Going down every
2.3.0 role exists in 2.2.1, so nothing is lost.
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path

__all__ = ["DOWN", "RULES", "UP", "up_client_info"]

R_HUB = LossRule(
    id="2.2.1>2.3.0 ClientInfo.role",
    object="ClientInfo",
    field="role",
    source="role HUB",
    target="role OTHER",
    kind="renamed-value",
    note="2.3.0 has no HUB role",
)

RULES: list[LossRule] = [R_HUB]


def up_client_info(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 → 2.3.0 ClientInfo: role HUB → OTHER."""
    out = dict(data)
    if out.get("role") == "HUB":
        ctx.lose(R_HUB, join_path(path, "role"), f"{out.get('country_code')}/{out.get('party_id')}")
        out["role"] = "OTHER"
    return out


UP: dict[str, Converter] = {"ClientInfo": up_client_info}
DOWN: dict[str, Converter] = {}
