"""Commands between OCPI 2.2.1 and 2.3.0 (DIGEST §3.6, §6.8).

The command objects are identical; only the embedded Token differs (2.3.0 ``TokenType`` is an
OpenEnum with ``EMAID``), so going down ``StartSession`` and ``ReserveNow`` convert their
``token`` (see :mod:`.tokens`). ``CommandType`` is an OpenEnum in 2.3.0 but only appears in
URLs; a 2.2.1 receiver answers an unknown command with NOT_SUPPORTED.
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path

from .tokens import down_token

__all__ = ["DOWN", "RULES", "UP"]

RULES: list[LossRule] = []  # the Token rules live in .tokens


def _down_with_token(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    if isinstance(out.get("token"), dict):
        out["token"] = down_token(out["token"], ctx, join_path(path, "token"))
    return out


UP: dict[str, Converter] = {}
DOWN: dict[str, Converter] = {
    "ReserveNow": _down_with_token,
    "StartSession": _down_with_token,
}
