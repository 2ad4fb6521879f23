"""Does an element's TariffRestrictions match at an instant? (OCPI 2.2.1 / 2.3.0
``mod_tariffs`` §TariffRestrictions.)

A piece of a period is matched at its start: :class:`MatchContext` holds what the restrictions
are compared with there (local wall clock, kWh and duration used before it, the period's
current and power). :func:`first_mismatch` answers ``None`` when every restriction matches,
else the first one that does not, as a short reason for the explanation. Thresholds read
``min <= value < max`` (the ``max_*`` bounds are exclusive); ``start_time``/``end_time``
follow policy ``end_time`` and a window may wrap past midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ocpikit.tariffs.local_time import hhmm
from ocpikit.tariffs.normal import NRestrictions
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.result import Reason

__all__ = [
    "DAY_NAMES",
    "MatchContext",
    "Mismatch",
    "first_mismatch",
    "measured_value",
]

DAY_NAMES = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_MINUTES_PER_DAY = 1440

#: why an element did not match: a fixed text, or a :class:`Reason` formatted when shown
Mismatch = str | Reason


@dataclass(slots=True)
class MatchContext:
    """What restrictions are compared with at the start of a piece of a period. One is built
    for every piece priced, so it is not frozen: it is immutable by convention, no field is
    assigned after it is built (:mod:`~ocpikit.tariffs.fast_records`).

    ``minute``/``day``/``weekday``: the local wall clock (0 = Monday); ``kwh``: energy used
    before the piece; ``duration``: seconds since the reference start (the session, or the
    charging start after a reservation); ``parking``: parking seconds before the piece;
    ``current``/``power``: the period's measured value, ``None`` when not read or absent.
    """

    minute: int
    day: date
    weekday: int
    kwh: Decimal
    duration: int
    parking: Decimal
    current: Decimal | None
    power: Decimal | None


def measured_value(
    dims: dict[str, Decimal], average: str, low: str, high: str, how: str
) -> Decimal | None:
    """The period's value of a measured dimension (policy ``measurement``): ``how`` is
    ``average`` (the average dimension, else the mean of min and max), ``max`` or ``min``;
    falls back to what the period carries."""
    a, mn, mx = dims.get(average), dims.get(low), dims.get(high)
    if how == "max":
        return mx if mx is not None else a if a is not None else mn
    if how == "min":
        return mn if mn is not None else a if a is not None else mx
    if a is not None:
        return a
    if mn is not None and mx is not None:
        return (mn + mx) / 2
    return mn if mn is not None else mx


def _time_reason(minute: int, start: int, end: int) -> str:
    return f"time {hhmm(minute)} outside {hhmm(start)}-{hhmm(end % _MINUTES_PER_DAY)}"


def _below(name: str, value: Decimal, unit: str, low: Decimal) -> str:
    return f"{name} {value} {unit} < min_{name} {low}"


def _not_below(name: str, value: Decimal, unit: str, high: Decimal) -> str:
    return f"{name} {value} {unit} >= max_{name} {high}"


def _outside(
    value: Decimal | None,
    low: Decimal | None,
    high: Decimal | None,
    name: str,
    unit: str,
    policy: Policy,
) -> Mismatch | None:
    """A measured value against ``min_<name>`` / ``max_<name>`` (policy
    ``missing_measurement`` when the period has no value)."""
    if value is None:
        if policy.missing_measurement == "no_match":
            return f"period has no {name} to compare (policy missing_measurement)"
        return None
    if low is not None and value < low:
        return Reason(_below, name, value, unit, low)
    if high is not None and value >= high:
        return Reason(_not_below, name, value, unit, high)
    return None


def first_mismatch(
    r: NRestrictions, ctx: MatchContext, duration: Decimal | int, policy: Policy
) -> Mismatch | None:
    """``None`` when all restrictions ``r`` match ``ctx``, else the first that does not.

    ``duration`` is the duration compared with min/max_duration: ``ctx.duration``, or
    ``ctx.parking`` for a PARKING_TIME component under policy ``duration_basis=parking``.
    Checked in a fixed order (time, date, day, kWh, duration, current, power), so the reason
    shown is stable. One flat function: it runs for every element of every piece priced.
    """
    after_midnight = False
    if r.start_time is not None or r.end_time is not None:
        start = r.start_time if r.start_time is not None else 0
        end = r.end_time if r.end_time is not None else _MINUTES_PER_DAY
        if end == 0:
            end = _MINUTES_PER_DAY  # "00:00" as end: until the end of the day
        minute = ctx.minute
        inclusive = policy.end_time == "inclusive"
        if start < end:
            ok = start <= minute and (minute <= end if inclusive else minute < end)
        elif start > end:  # wraps past midnight
            after_midnight = minute <= end if inclusive else minute < end
            ok = minute >= start or after_midnight
        else:
            ok = True
        if not ok:
            return Reason(_time_reason, minute, start, end)
    if r.start_date is not None and ctx.day < r.start_date:
        return Reason("date {} before start_date {}".format, ctx.day, r.start_date)
    if r.end_date is not None and ctx.day >= r.end_date:
        return Reason("date {} not before end_date {}".format, ctx.day, r.end_date)
    if r.day_of_week is not None:
        weekday = ctx.weekday
        if after_midnight and policy.day_of_week_wrap == "window_start":
            weekday = (weekday - 1) % 7
        if weekday not in r.day_of_week:
            return Reason("day_of_week does not include {}".format, DAY_NAMES[weekday])
    if r.min_kwh is not None and ctx.kwh < r.min_kwh:
        return Reason("{} kWh used < min_kwh {}".format, ctx.kwh, r.min_kwh)
    if r.max_kwh is not None and ctx.kwh >= r.max_kwh:
        return Reason("{} kWh used >= max_kwh {}".format, ctx.kwh, r.max_kwh)
    if r.min_duration is not None and duration < r.min_duration:
        return Reason("duration {:.0f} s < min_duration {}".format, duration, r.min_duration)
    if r.max_duration is not None and duration >= r.max_duration:
        return Reason("duration {:.0f} s >= max_duration {}".format, duration, r.max_duration)
    # current and power read inline (as _outside does): this runs for every element of every
    # piece whose element has a current limit
    low, high = r.min_current, r.max_current
    if low is not None or high is not None:
        current = ctx.current
        if current is None:
            if policy.missing_measurement == "no_match":
                return "period has no current to compare (policy missing_measurement)"
        elif low is not None and current < low:
            return Reason(_below, "current", current, "A", low)
        elif high is not None and current >= high:
            return Reason(_not_below, "current", current, "A", high)
    if r.min_power is not None or r.max_power is not None:
        return _outside(ctx.power, r.min_power, r.max_power, "power", "kW", policy)
    return None
