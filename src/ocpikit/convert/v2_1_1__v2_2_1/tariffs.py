"""Tariffs between OCPI 2.1.1 and 2.2.1 (DIGEST §6.6, §4.1, §4.4).

Up (2.1.1 → 2.2.1): the owner comes from the context (placeholder ``XX``/``XXX`` otherwise);
2.1.1 has no VAT information, so the absent ``vat`` of every PriceComponent now reads "no VAT
applicable", which may be false. The EnergyMix goes through the Locations converter.

Down (2.2.1 → 2.1.1): ``type``, ``min_price``/``max_price``, the validity window and ``vat``
are dropped; elements that a 2.1.1 peer would misread (reservation elements, and elements
restricted by current, which 2.1.1 cannot express) are dropped whole, because keeping them
without their restriction would apply their prices at the wrong times.
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path

__all__ = ["DOWN", "RULES", "UP", "owner_rules", "set_owner"]

_UP = "2.1.1>2.2.1"
_DOWN = "2.2.1>2.1.1"


def owner_rules(obj: str) -> LossRule:
    """The rule reported when a 2.1.1 object going up gets a placeholder owner."""
    return LossRule(
        id=f"{_UP} {obj}.country_code/party_id",
        object=obj,
        field="country_code, party_id",
        source="(URL or credentials)",
        target="country_code, party_id",
        kind="defaulted",
        note="2.1.1 objects carry no owner; taken from the context, else XX/XXX placeholders",
    )


def set_owner(out: dict[str, Any], ctx: Context, path: str, rule: LossRule) -> None:
    """Put the owner first in ``out`` (from ``ctx``, or placeholders with a reported loss)."""
    missing = [
        name
        for name, value in (("country_code", ctx.country_code), ("party_id", ctx.party_id))
        if value is None
    ]
    cc = ctx.country_code if ctx.country_code is not None else "XX"
    pid = ctx.party_id if ctx.party_id is not None else "XXX"
    if missing:
        ctx.lose(rule, path, f"unknown {' and '.join(missing)}: placeholder used")
    rest = dict(out)
    out.clear()
    out.update({"country_code": cc, "party_id": pid}, **rest)


OWNER = owner_rules("Tariff")
VAT_UNKNOWN = LossRule(
    f"{_UP} PriceComponent.vat",
    "PriceComponent",
    "vat",
    "(none)",
    "vat",
    "defaulted",
    "2.1.1 prices exclude VAT and carry no rate; an absent vat means 'no VAT applicable' in 2.2.1",
)
TYPE = LossRule(
    f"{_DOWN} Tariff.type",
    "Tariff",
    "type",
    "type",
    "(none)",
    "dropped",
    "2.1.1 tariffs apply to every session; a profile or ad-hoc tariff loses its scope",
)
MIN_MAX = LossRule(
    f"{_DOWN} Tariff.min_price/max_price",
    "Tariff",
    "min_price, max_price",
    "min_price, max_price",
    "(none)",
    "dropped",
    "2.1.1 cannot express price limits; prefer tariff_alt_text",
)
WINDOW = LossRule(
    f"{_DOWN} Tariff.start_date_time/end_date_time",
    "Tariff",
    "start_date_time, end_date_time",
    "start_date_time, end_date_time",
    "(none)",
    "dropped",
    "2.1.1 has no validity window; send PUT/DELETE at the right time instead",
)
VAT = LossRule(
    f"{_DOWN} PriceComponent.vat",
    "PriceComponent",
    "vat",
    "vat",
    "(none)",
    "dropped",
    "2.1.1 has no VAT rate",
)
CURRENT = LossRule(
    f"{_DOWN} TariffRestrictions.min_current/max_current",
    "TariffRestrictions",
    "min_current, max_current",
    "min_current, max_current",
    "(none)",
    "dropped",
    "2.1.1 has no current restrictions (A→kW needs voltage and phases); the element is dropped",
)
RESERVATION = LossRule(
    f"{_DOWN} TariffRestrictions.reservation",
    "TariffRestrictions",
    "reservation",
    "reservation",
    "(none)",
    "dropped",
    "2.1.1 has no reservations; reservation elements are dropped",
)

RULES: list[LossRule] = [OWNER, VAT_UNKNOWN, TYPE, MIN_MAX, WINDOW, VAT, CURRENT, RESERVATION]


def _energy_mix(data: dict[str, Any], ctx: Context, path: str, up: bool) -> dict[str, Any]:
    from ocpikit.convert.v2_1_1__v2_2_1 import locations

    fn = (locations.UP if up else locations.DOWN).get("EnergyMix")
    return fn(data, ctx, path) if fn is not None else dict(data)


# --- up ---------------------------------------------------------------------------------------


def up_price_component(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    ctx.lose(VAT_UNKNOWN, join_path(path, "vat"))
    return dict(data)


def up_tariff(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    set_owner(out, ctx, path, OWNER)
    ctx.lose(VAT_UNKNOWN, join_path(path, "elements"), "no PriceComponent has a VAT rate")
    if isinstance(out.get("energy_mix"), dict):
        out["energy_mix"] = _energy_mix(out["energy_mix"], ctx, join_path(path, "energy_mix"), True)
    return out


# --- down -------------------------------------------------------------------------------------


def down_price_component(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    if "vat" in out:
        vat = out.pop("vat")
        if vat is not None:
            ctx.lose(VAT, join_path(path, "vat"), f"vat {vat}%")
    return out


def down_tariff_restrictions(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    for name in ("min_current", "max_current"):
        if name in out and out.pop(name) is not None:
            ctx.lose(CURRENT, join_path(path, name))
    if "reservation" in out and out.pop("reservation") is not None:
        ctx.lose(RESERVATION, join_path(path, "reservation"))
    return out


def down_tariff_element(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    components = out.get("price_components")
    if isinstance(components, list):
        out["price_components"] = [
            down_price_component(c, ctx, join_path(join_path(path, "price_components"), i))
            if isinstance(c, dict)
            else c
            for i, c in enumerate(components)
        ]
    if isinstance(out.get("restrictions"), dict):
        out["restrictions"] = down_tariff_restrictions(
            out["restrictions"], ctx, join_path(path, "restrictions")
        )
    return out


def _inexpressible(element: Any) -> str | None:
    """Why a 2.2.1 element has no faithful 2.1.1 form (``None`` when it has one)."""
    if not isinstance(element, dict) or not isinstance(element.get("restrictions"), dict):
        return None
    restrictions = element["restrictions"]
    if restrictions.get("reservation") is not None:
        return "reservation"
    if restrictions.get("min_current") is not None or restrictions.get("max_current") is not None:
        return "current"
    return None


def down_tariff(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    out.pop("country_code", None)
    out.pop("party_id", None)
    if out.pop("type", None) is not None:
        ctx.lose(TYPE, join_path(path, "type"), str(data["type"]))
    for name in ("min_price", "max_price"):
        if out.pop(name, None) is not None:
            ctx.lose(MIN_MAX, join_path(path, name))
    for name in ("start_date_time", "end_date_time"):
        if out.pop(name, None) is not None:
            ctx.lose(WINDOW, join_path(path, name))
    elements = out.get("elements")
    if isinstance(elements, list):
        kept: list[Any] = []
        for i, element in enumerate(elements):
            where = join_path(join_path(path, "elements"), i)
            why = _inexpressible(element)
            if why is not None:
                rule = RESERVATION if why == "reservation" else CURRENT
                ctx.lose(rule, where, "element dropped")
                continue
            kept.append(down_tariff_element(element, ctx, where))
        out["elements"] = kept
    if isinstance(out.get("energy_mix"), dict):
        out["energy_mix"] = _energy_mix(
            out["energy_mix"], ctx, join_path(path, "energy_mix"), False
        )
    return out


UP: dict[str, Converter] = {"Tariff": up_tariff, "PriceComponent": up_price_component}
DOWN: dict[str, Converter] = {
    "Tariff": down_tariff,
    "TariffElement": down_tariff_element,
    "PriceComponent": down_price_component,
    "TariffRestrictions": down_tariff_restrictions,
}
