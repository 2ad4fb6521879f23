"""Tariffs between OCPI 2.2.1 and 2.3.0 (DIGEST §6.6, §4.4, A20).

Up (2.2.1 → 2.3.0): ``min_price``/``max_price`` Price → PriceLimit (``excl_vat`` →
``before_taxes``, ``incl_vat`` → ``after_taxes``; lossless) and ``tax_included`` = ``NO``,
because 2.2.1 prices exclude VAT by definition. Nothing is lost.

Down (2.3.0 → 2.2.1):

- PriceLimit → Price (lossless);
- ``preauthorize_amount`` is dropped;
- ``tax_included``: ``NO`` → nothing to do; ``N/A`` → no tax applies, so any ``vat`` is
  removed; ``YES`` → each price is brought back to excluding VAT by dividing by
  ``1 + vat/100`` (rounded to 4 decimals, reported as approximated), and a component without
  ``vat`` keeps its tax-inclusive price (reported: 2.2.1 would read it as excluding VAT).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path
from ocpikit.core.types import to_json_number

__all__ = ["DOWN", "RULES", "UP", "down_tariff", "up_tariff"]

_DOWN = "2.3.0>2.2.1"

PREAUTHORIZE = LossRule(
    f"{_DOWN} Tariff.preauthorize_amount",
    "Tariff",
    "preauthorize_amount",
    "preauthorize_amount",
    "(none)",
    "dropped",
    "2.2.1 has no payment terminals",
)
TAX_INCLUDED = LossRule(
    f"{_DOWN} Tariff.tax_included",
    "Tariff",
    "tax_included",
    "tax_included",
    "(none)",
    "dropped",
    "2.2.1 prices exclude VAT; N/A drops vat, YES divides prices by 1+vat/100",
)
PRICE_INCL = LossRule(
    f"{_DOWN} PriceComponent.price",
    "PriceComponent",
    "price",
    "price (tax included)",
    "price (excl. VAT)",
    "approximated",
    "a tax-inclusive price divided by 1+vat/100 (4 decimals); without vat it stays inclusive",
)
VAT_NA = LossRule(
    f"{_DOWN} PriceComponent.vat",
    "PriceComponent",
    "vat",
    "vat",
    "(none)",
    "dropped",
    "tax_included N/A: no tax applies, so a vat rate is removed",
)

RULES: list[LossRule] = [PREAUTHORIZE, TAX_INCLUDED, PRICE_INCL, VAT_NA]

_FOUR = Decimal("0.0001")
_LIMIT_UP: dict[str, str] = {"excl_vat": "before_taxes", "incl_vat": "after_taxes"}
_LIMIT_DOWN: dict[str, str] = {v: k for k, v in _LIMIT_UP.items()}


def _limit_up(price: Any) -> Any:
    if not isinstance(price, dict):
        return price
    return {_LIMIT_UP.get(key, key): value for key, value in price.items()}


def _limit_down(limit: Any) -> Any:
    if not isinstance(limit, dict):
        return limit
    return {_LIMIT_DOWN.get(key, key): value for key, value in limit.items()}


def _energy_mix(value: Any, ctx: Context, path: str, up: bool) -> Any:
    from ocpikit.convert.v2_2_1__v2_3_0 import locations

    fn = (locations.UP if up else locations.DOWN).get("EnergyMix")
    return fn(value, ctx, path) if fn is not None and isinstance(value, dict) else value


def up_tariff(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("min_price", "max_price"):
            out[key] = _limit_up(value)
        elif key == "energy_mix":
            out[key] = _energy_mix(value, ctx, join_path(path, key), True)
        elif key == "last_updated" and "tax_included" not in data:
            out["tax_included"] = "NO"
            out[key] = value
        else:
            out[key] = value
    out.setdefault("tax_included", "NO")
    return out


def _exclusive(price: Any, vat: Any) -> Any:
    try:
        p, v = Decimal(str(price)), Decimal(str(vat))
        return to_json_number((p / (1 + v / 100)).quantize(_FOUR, rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError):
        return price


def _components_down(elements: Any, tax_included: Any, ctx: Context, path: str) -> Any:
    if not isinstance(elements, list) or tax_included not in ("YES", "N/A"):
        return elements
    out_elements = []
    for i, element in enumerate(elements):
        if not isinstance(element, dict) or not isinstance(element.get("price_components"), list):
            out_elements.append(element)
            continue
        element_path = join_path(join_path(path, i), "price_components")
        components = []
        for j, component in enumerate(element["price_components"]):
            where = join_path(element_path, j)
            if not isinstance(component, dict):
                components.append(component)
                continue
            c = dict(component)
            vat = c.get("vat")
            if tax_included == "N/A":
                if vat is not None:
                    ctx.lose(VAT_NA, join_path(where, "vat"), f"vat {vat}%")
                c.pop("vat", None)
            elif vat is not None:
                c["price"] = _exclusive(c.get("price"), vat)
                ctx.lose(
                    PRICE_INCL,
                    join_path(where, "price"),
                    f"{component.get('price')} → {c['price']}",
                )
            else:
                ctx.lose(PRICE_INCL, join_path(where, "price"), "no vat: price stays tax-inclusive")
            components.append(c)
        out_elements.append({**element, "price_components": components})
    return out_elements


def down_tariff(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    tax_included = data.get("tax_included")
    out: dict[str, Any] = {}
    for key, value in data.items():
        where = join_path(path, key)
        if key in ("min_price", "max_price"):
            out[key] = _limit_down(value)
        elif key == "preauthorize_amount":
            if value is not None:
                ctx.lose(PREAUTHORIZE, where, str(value))
        elif key == "tax_included":
            if value not in (None, "NO"):
                ctx.lose(TAX_INCLUDED, where, str(value))
        elif key == "elements":
            out[key] = _components_down(value, tax_included, ctx, where)
        elif key == "energy_mix":
            out[key] = _energy_mix(value, ctx, where, False)
        else:
            out[key] = value
    return out


UP: dict[str, Converter] = {"Tariff": up_tariff}
DOWN: dict[str, Converter] = {"Tariff": down_tariff}
