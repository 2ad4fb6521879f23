"""Tokens between OCPI 2.2.1 and 2.3.0 (DIGEST §3.5, §6.7).

The objects are identical except that 2.3.0 ``TokenType`` is an OpenEnum with ``EMAID``.
Going up nothing changes (no ``UP`` entries). Going down, ``EMAID`` and any unknown
(OpenEnum) value become ``OTHER``, reported as a renamed value; ``AuthorizationInfo`` converts
its embedded Token.
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path

__all__ = ["DOWN", "RULES", "UP", "down_authorization_info", "down_token"]

#: TokenType values that exist in 2.2.1
TOKEN_TYPES_221 = frozenset({"AD_HOC_USER", "APP_USER", "OTHER", "RFID"})

TOKEN_TYPE_DOWN = LossRule(
    id="2.3.0>2.2.1 Token.type",
    object="Token",
    field="type",
    source="2.3.0",
    target="2.2.1",
    kind="renamed-value",
    note="EMAID and unknown OpenEnum values have no 2.2.1 value; sent as OTHER",
)

RULES: list[LossRule] = [TOKEN_TYPE_DOWN]


def down_token(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.3.0 Token → 2.2.1 Token (also used for tokens embedded in commands)."""
    out = dict(data)
    kind = out.get("type")
    if isinstance(kind, str) and kind not in TOKEN_TYPES_221:
        out["type"] = "OTHER"
        ctx.lose(TOKEN_TYPE_DOWN, join_path(path, "type"), f"{kind} -> OTHER")
    return out


def down_authorization_info(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.3.0 AuthorizationInfo → 2.2.1: only the embedded Token changes."""
    out = dict(data)
    if isinstance(out.get("token"), dict):
        out["token"] = down_token(out["token"], ctx, join_path(path, "token"))
    return out


UP: dict[str, Converter] = {}
DOWN: dict[str, Converter] = {
    "Token": down_token,
    "AuthorizationInfo": down_authorization_info,
}
