"""Sessions between OCPI 2.2.1 and 2.3.0 (DIGEST §6.4).

The Sessions text is the same in both versions; only ``total_cost`` (Price shape) and the
OpenEnum ``cdr_token.type`` differ, handled as for CDRs (:mod:`.cdrs`).
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path
from ocpikit.convert.v2_2_1__v2_3_0 import cdrs as _cdrs

__all__ = ["DOWN", "RULES", "UP"]

RULES: list[LossRule] = []


def up_session(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    return _cdrs.convert_prices(data, ctx, path, ("total_cost",), True)


def down_session(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = _cdrs.convert_prices(data, ctx, path, ("total_cost",), False)
    if isinstance(out.get("cdr_token"), dict):
        out["cdr_token"] = _cdrs.down_cdr_token(out["cdr_token"], ctx, join_path(path, "cdr_token"))
    return out


UP: dict[str, Converter] = {"Session": up_session}
DOWN: dict[str, Converter] = {"Session": down_session}
