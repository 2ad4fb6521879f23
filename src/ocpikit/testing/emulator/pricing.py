"""The price of a charge at the emulated CPO, from its own Tariff (the CDR's ``total_cost`` and
``total_*_cost``), written here rather than with ocpikit's tariff engine: the eMSP under test
prices the CDR with that engine and must agree with an independent reading.

The reading (2.2.1 mod_tariffs §Tariff Object, §TariffElement, §PriceComponent,
§TariffRestrictions), enough for the tariffs the emulator serves:

- a FLAT component is charged once, from the first element with one whose restrictions hold at
  the start;
- each ENERGY (kWh), TIME (h) and PARKING_TIME (h) volume of a charging period is priced by the
  first element that has a component of that type and whose restrictions hold at the period's
  start (``min_duration`` inclusive / ``max_duration`` exclusive on the seconds since the start,
  ``min_kwh`` / ``max_kwh`` likewise on the energy charged before the period);
- a component's volume is rounded up to its ``step_size`` (Wh, seconds) over the whole charge,
  then multiplied by its ``price``; amounts are excl. VAT and kept to 4 decimals.

A tariff with a restriction this reading does not know (times of day, days of week, power,
current, reservation) raises :class:`UnsupportedTariff` rather than give a wrong price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["Costs", "UnsupportedTariff", "price"]

_PLACES = Decimal("0.0001")
_KNOWN = {"min_duration", "max_duration", "min_kwh", "max_kwh"}
#: period dimension → (component type, the step's unit in the dimension's unit)
_PRICED = {
    "ENERGY": ("ENERGY", Decimal(1000)),  # step_size in Wh, volume in kWh
    "TIME": ("TIME", Decimal(3600)),  # step_size in seconds, volume in hours
    "PARKING_TIME": ("PARKING_TIME", Decimal(3600)),
}


class UnsupportedTariff(ValueError):
    """The tariff uses something this reading does not price (the message says what)."""


@dataclass(frozen=True)
class Costs:
    """What a charge costs, excl. VAT, per cost field of the CDR."""

    fixed: Decimal
    energy: Decimal
    time: Decimal
    parking: Decimal

    @property
    def total(self) -> Decimal:
        return self.fixed + self.energy + self.time + self.parking


def _number(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UnsupportedTariff(f"{what}: not a number")
    return Decimal(str(value))


def _holds(restrictions: Mapping[str, Any] | None, seconds: Decimal, kwh: Decimal) -> bool:
    if not restrictions:
        return True
    unknown = set(restrictions) - _KNOWN
    if unknown:
        raise UnsupportedTariff(f"restrictions {', '.join(sorted(unknown))} are not priced here")
    checks = (
        ("min_duration", seconds, True),
        ("max_duration", seconds, False),
        ("min_kwh", kwh, True),
        ("max_kwh", kwh, False),
    )
    for key, value, at_least in checks:
        if restrictions.get(key) is None:
            continue
        bound = _number(restrictions[key], key)
        if (at_least and value < bound) or (not at_least and value >= bound):
            return False
    return True


def _component(
    elements: Sequence[Mapping[str, Any]], kind: str, seconds: Decimal, kwh: Decimal
) -> tuple[int, Mapping[str, Any]] | None:
    """The first element with a ``kind`` component whose restrictions hold, and the
    component."""
    for i, element in enumerate(elements):
        found = next((c for c in element.get("price_components") or [] if c["type"] == kind), None)
        if found is not None and _holds(element.get("restrictions"), seconds, kwh):
            return i, found
    return None


def _amount(value: Decimal) -> Decimal:
    return value.quantize(_PLACES, rounding=ROUND_HALF_UP)


def price(
    tariff: Mapping[str, Any], periods: Sequence[Mapping[str, Any]], start: datetime
) -> Costs:
    """The costs of the charging ``periods`` of a charge that began at ``start`` under
    ``tariff`` (a wire Tariff of any version; periods as in a 2.2.1 CDR)."""
    elements = list(tariff.get("elements") or [])
    zero = Decimal(0)
    fixed = zero
    flat = _component(elements, "FLAT", zero, zero)
    if flat is not None:
        fixed = _number(flat[1]["price"], "price")
    groups: dict[tuple[int, str], tuple[Mapping[str, Any], Decimal]] = {}
    kwh_before = zero
    for period in periods:
        at = datetime.fromisoformat(str(period["start_date_time"]).replace("Z", "+00:00"))
        seconds = Decimal(str((at - start).total_seconds()))
        energy = zero
        for dim in period.get("dimensions") or []:
            volume = _number(dim["volume"], "volume")
            if dim["type"] == "ENERGY":
                energy += volume
            if dim["type"] not in _PRICED:
                continue
            kind = _PRICED[dim["type"]][0]
            chosen = _component(elements, kind, seconds, kwh_before)
            if chosen is None:
                continue
            key = (chosen[0], kind)
            groups[key] = (chosen[1], groups.get(key, (chosen[1], zero))[1] + volume)
        kwh_before += energy
    parts = {"ENERGY": zero, "TIME": zero, "PARKING_TIME": zero}
    for (_i, kind), (component, volume) in groups.items():
        unit = next(u for k, u in _PRICED.values() if k == kind)
        step = max(_number(component.get("step_size") or 1, "step_size"), Decimal(1))
        billed = Decimal(math.ceil(volume * unit / step)) * step / unit
        parts[kind] += billed * _number(component["price"], "price")
    return Costs(
        _amount(fixed),
        _amount(parts["ENERGY"]),
        _amount(parts["TIME"]),
        _amount(parts["PARKING_TIME"]),
    )
