"""Stage 4 of pricing: apply step_size (OCPI 2.2.1 / 2.3.0 ``mod_tariffs`` §PriceComponent
step_size; ``mod_cdrs`` §CDR: billing is by step of the total).

step_size rounds session totals, not periods (policy ``step_size``, default ``session``):
ENERGY once (policy ``energy_step_size``); for TIME / PARKING_TIME the parking total when
parking is priced, else the charging total; reservation time is its own group. The extra is
billed at the last line's price with that line's step. ``per_period`` rounds every line on its
own; ``ignore`` rounds nothing. Invariant: only ``Line.billed`` and ``Line.step_note`` change,
and billed is never below the volume.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.result import Line, PeriodResult, StepEffect

__all__ = ["apply_step_size", "ceil_to_step", "round_group"]

_ZERO = Decimal(0)
_HOUR = Decimal(3600)
_KWH = Decimal(1000)
_HUNDREDTH = Decimal("0.01")


def ceil_to_step(quantity: Decimal, step: Decimal, tolerance: Decimal) -> Decimal:
    """``quantity`` rounded up to a multiple of ``step``; a quantity at most ``tolerance``
    above a multiple counts as that multiple. Never below ``quantity``."""
    if step <= 0 or quantity <= 0:
        return quantity
    blocks = ((quantity - tolerance) / step).to_integral_value(rounding=ROUND_CEILING)
    return max(quantity, blocks * step)


def _fmt(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value.quantize(_HUNDREDTH).normalize():f}"


def round_group(
    group: str,
    lines: list[Line],
    mode: str,
    unit: Decimal,
    tolerance: Decimal,
    unit_name: str,
    override: int,
    effects: list[StepEffect],
) -> None:
    """Apply step_size to one group of lines (``unit``: the step's unit per volume unit, Wh per
    kWh or seconds per hour; ``override``: a policy step replacing the tariff's, 0 for none).
    A session-wide rounding is recorded in ``effects``."""
    if not lines or mode == "ignore":
        return
    if mode == "per_period":
        for line in lines:
            step = Decimal(override or line.step_size)
            consumed = line.volume * unit
            billed = ceil_to_step(consumed, step, tolerance)
            if billed != consumed:
                line.billed = billed / unit
                line.step_note = (
                    f"{_fmt(consumed)} -> {_fmt(billed)} {unit_name} (step {step}, per period)"
                )
        return
    last = lines[-1]
    step = Decimal(override or last.step_size)
    consumed = sum((line.volume for line in lines), _ZERO) * unit
    billed = ceil_to_step(consumed, step, tolerance)
    effects.append(
        StepEffect(
            group,
            consumed,
            billed,
            int(step),
            unit_name,
            last.period if billed != consumed else None,
        )
    )
    if billed != consumed:
        extra = (billed - consumed) / unit
        last.billed = last.volume + extra
        last.step_note = (
            f"session {group} {_fmt(consumed)} -> {_fmt(billed)} {unit_name} "
            f"(step {step} of the last component); extra billed here"
        )


def _time_order(line: Line) -> tuple[int, int, bool]:
    return (line.period, line.sub, line.dimension == "PARKING_TIME")


def apply_step_size(
    periods: list[PeriodResult], policy: Policy
) -> tuple[list[Line], list[StepEffect]]:
    """Stage 4: round the lines of ``periods`` in place; returns the priced lines (those with an
    element) in order and the session-wide effects."""
    priced: list[Line] = []
    by_dimension: dict[str, list[Line]] = {
        "ENERGY": [],
        "TIME": [],
        "PARKING_TIME": [],
        "RESERVATION_TIME": [],
    }
    for pr in periods:
        for line in pr.lines:
            if line.element is not None:
                priced.append(line)
                same = by_dimension.get(line.dimension)
                if same is not None:
                    same.append(line)
    effects: list[StepEffect] = []
    energy = by_dimension["ENERGY"]
    time, parking = by_dimension["TIME"], by_dimension["PARKING_TIME"]
    override = policy.time_step_override
    tolerance = policy.time_step_tolerance
    mode = policy.step_size
    round_group(
        "ENERGY",
        energy,
        policy.energy_step_size,
        _KWH,
        policy.energy_step_tolerance,
        "Wh",
        0,
        effects,
    )
    if mode == "session":
        if parking:
            round_group("PARKING_TIME", parking, mode, _HOUR, tolerance, "s", override, effects)
        else:
            round_group("TIME", time, mode, _HOUR, tolerance, "s", override, effects)
    elif mode == "session_total":
        both = sorted(time + parking, key=_time_order)
        round_group("TIME+PARKING_TIME", both, mode, _HOUR, tolerance, "s", override, effects)
    else:
        round_group("TIME", time, mode, _HOUR, tolerance, "s", override, effects)
        round_group("PARKING_TIME", parking, mode, _HOUR, tolerance, "s", override, effects)
    reservation_mode = "session" if mode == "session_total" else mode
    round_group(
        "RESERVATION_TIME",
        by_dimension["RESERVATION_TIME"],
        reservation_mode,
        _HOUR,
        tolerance,
        "s",
        override,
        effects,
    )
    return priced, effects
