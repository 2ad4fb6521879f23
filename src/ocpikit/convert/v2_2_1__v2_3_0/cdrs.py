"""CDRs (and the Price class) between OCPI 2.2.1 and 2.3.0 (DIGEST §6.5, §6.6 summary).

- ``Price``: up, ``excl_vat`` → ``before_taxes`` and, when ``incl_vat`` is given, one tax
  ``{"name": "VAT", "amount": incl_vat - excl_vat}`` (the name the spec's own examples use; the
  percentage is unknown and left out). Down, ``incl_vat`` = ``before_taxes`` + the sum of the tax
  amounts (exact in Decimal); tax names other than VAT, account numbers and percentages are lost
  and reported. No ``taxes`` at all gives no ``incl_vat``.
- ``CdrToken.type`` and ``CdrLocation.connector_standard`` become OpenEnums: up is lossless;
  down, a TokenType 2.2.1 lacks becomes ``OTHER`` (reported). A ConnectorType 2.2.1 lacks has
  no stand-in and is left for validation to reject.
- The embedded Tariffs go through the Tariffs converter (``tax_included``, PriceLimit).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path
from ocpikit.core.types import to_json_number
from ocpikit.models.v2_2_1.tokens import TokenType as TokenType221

__all__ = ["DOWN", "PRICE_FIELDS", "RULES", "UP", "down_price", "up_price"]

_DOWN = "2.3.0>2.2.1"

TAXES_DOWN = LossRule(
    f"{_DOWN} Price.taxes",
    "Price",
    "taxes",
    "taxes",
    "incl_vat",
    "approximated",
    "only the sum of the tax amounts survives as incl_vat; names other than VAT, account "
    "numbers and percentages are lost",
)
TOKEN_TYPE_DOWN = LossRule(
    f"{_DOWN} CdrToken.type",
    "CdrToken",
    "type",
    "type",
    "type",
    "renamed-value",
    "a TokenType 2.2.1 does not know (e.g. EMAID or a custom value) is sent as OTHER",
)

RULES: list[LossRule] = [TAXES_DOWN, TOKEN_TYPE_DOWN]

#: the Price fields of a CDR
PRICE_FIELDS = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)


def _dec(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def up_price(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "excl_vat":
            out["before_taxes"] = value
        elif key == "incl_vat":
            excl, incl = _dec(data.get("excl_vat")), _dec(value)
            if excl is not None and incl is not None:
                out["taxes"] = [{"name": "VAT", "amount": to_json_number(incl - excl)}]
        else:
            out[key] = value
    return out


def down_price(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "before_taxes":
            out["excl_vat"] = value
        elif key == "taxes":
            if value is None:
                continue
            before = _dec(data.get("before_taxes"))
            amounts = [_dec(t.get("amount")) if isinstance(t, dict) else None for t in value]
            if before is not None and all(a is not None for a in amounts):
                out["incl_vat"] = to_json_number(before + sum(a for a in amounts if a is not None))
            lost = [
                t
                for t in value
                if not isinstance(t, dict)
                or t.get("name") != "VAT"
                or t.get("account_number") is not None
                or t.get("percentage") is not None
            ]
            if lost or len(value) > 1:
                ctx.lose(TAXES_DOWN, join_path(path, "taxes"), f"{len(value)} tax line(s)")
        else:
            out[key] = value
    return out


def convert_prices(
    data: dict[str, Any], ctx: Context, path: str, fields: tuple[str, ...], up: bool
) -> dict[str, Any]:
    """``data`` with each Price field in ``fields`` converted."""
    fn = up_price if up else down_price
    out = dict(data)
    for key in fields:
        if isinstance(out.get(key), dict):
            out[key] = fn(out[key], ctx, join_path(path, key))
    return out


def down_cdr_token(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    value = out.get("type")
    if isinstance(value, str) and value not in {t.value for t in TokenType221}:
        ctx.lose(TOKEN_TYPE_DOWN, join_path(path, "type"), f"{value} → OTHER")
        out["type"] = "OTHER"
    return out


def _tariffs(value: Any, ctx: Context, path: str, up: bool) -> Any:
    from ocpikit.convert.v2_2_1__v2_3_0 import tariffs

    if not isinstance(value, list):
        return value
    fn = tariffs.up_tariff if up else tariffs.down_tariff
    return [
        fn(t, ctx, join_path(path, i)) if isinstance(t, dict) else t for i, t in enumerate(value)
    ]


def up_cdr(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = convert_prices(data, ctx, path, PRICE_FIELDS, True)
    if "tariffs" in out:
        out["tariffs"] = _tariffs(out["tariffs"], ctx, join_path(path, "tariffs"), True)
    return out


def down_cdr(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = convert_prices(data, ctx, path, PRICE_FIELDS, False)
    if isinstance(out.get("cdr_token"), dict):
        out["cdr_token"] = down_cdr_token(out["cdr_token"], ctx, join_path(path, "cdr_token"))
    if "tariffs" in out:
        out["tariffs"] = _tariffs(out["tariffs"], ctx, join_path(path, "tariffs"), False)
    return out


UP: dict[str, Converter] = {"CDR": up_cdr, "Price": up_price}
DOWN: dict[str, Converter] = {"CDR": down_cdr, "Price": down_price, "CdrToken": down_cdr_token}
