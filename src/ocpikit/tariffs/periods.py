"""Stage 1 of pricing: classify the session's periods and derive the volumes to price.

A period carrying only RESERVATION_TIME is a reservation period (OCPI 2.2.1 / 2.3.0
``mod_cdrs`` §CdrDimensionType, ``mod_tariffs`` §ReservationRestrictionType); its reserved
hours are priced as TIME. Any other period is a charging period whose ENERGY (kWh), TIME and
PARKING_TIME (h) are priced; policies ``missing_time`` and ``parking_definition`` decide a
period without time dimensions and what counts as parking. Zero volumes are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ocpikit.tariffs.fast_records import fast_frozen
from ocpikit.tariffs.normal import NPeriod, NSession
from ocpikit.tariffs.policy import Policy

__all__ = ["PERIOD_START", "ClassifiedPeriod", "PeriodPlan", "classify_periods"]

_ZERO = Decimal(0)
_HOUR = Decimal(3600)
#: why the first piece of a period starts where it does
PERIOD_START = "period start"


@dataclass(slots=True)
class ClassifiedPeriod:
    """A period, whether it is a reservation period, its volumes to price per dimension
    (``TIME`` holds the reserved hours of a reservation period), and the kWh and parking
    seconds used by the charging periods before it (restrictions compare them).

    One is built for every period priced, so it is not frozen: it is immutable by convention,
    no field is assigned after it is built (:mod:`~ocpikit.tariffs.fast_records`).
    """

    period: NPeriod
    reservation: bool
    volumes: dict[str, Decimal]
    kwh_before: Decimal
    parking_before: Decimal


@fast_frozen
@dataclass(frozen=True, slots=True)
class PeriodPlan:
    """The classified periods of a session and what follows from them.

    ``charging_start``: where min/max_duration count from for charging periods (the first
    charging period's start after a reservation, else the session start); ``expired``: whether
    reservation periods are priced as an expired reservation (policy ``reservation_expired``);
    ``span_start``/``span_end``: the instants the periods cover (the session's when none).
    """

    periods: tuple[ClassifiedPeriod, ...]
    charging_start: datetime
    expired: bool
    span_start: datetime
    span_end: datetime


def classify_periods(session: NSession, policy: Policy) -> PeriodPlan:
    """Stage 1: the :class:`PeriodPlan` of ``session``."""
    charging_start: datetime | None = None
    classified: list[ClassifiedPeriod] = []
    infer = policy.missing_time == "infer"
    no_energy_is_parking = policy.parking_definition == "no_energy"
    kwh = parking_seconds = _ZERO
    has_reservation = has_charging = False
    periods = session.periods
    # the span: the first of the earliest starts, the first of the latest ends (compared
    # inline: a min()/max() call per period costs more than the comparison)
    span_start = periods[0].start if periods else session.start
    span_end = periods[0].end if periods else session.end
    for p in periods:
        if p.start < span_start:  # noqa: PLR1730
            span_start = p.start
        if p.end > span_end:  # noqa: PLR1730
            span_end = p.end
        dims = p.dims
        if "RESERVATION_TIME" in dims and not (
            "ENERGY" in dims or "TIME" in dims or "PARKING_TIME" in dims
        ):
            volumes = {"TIME": dims["RESERVATION_TIME"]}
            classified.append(ClassifiedPeriod(p, True, volumes, kwh, parking_seconds))
            has_reservation = True
            continue
        if charging_start is None:
            charging_start = p.start
        energy = dims.get("ENERGY")
        time = dims.get("TIME")
        parking = dims.get("PARKING_TIME")
        if time is None and parking is None and infer:
            hours = p.seconds / _HOUR
            if energy is not None and energy > 0:
                time = hours
            else:
                parking = hours
        if no_energy_is_parking and time and not energy:
            parking = (parking or _ZERO) + time
            time = None
        volumes = {}
        if energy:
            volumes["ENERGY"] = energy
        if time:
            volumes["TIME"] = time
        if parking:
            volumes["PARKING_TIME"] = parking
        classified.append(ClassifiedPeriod(p, False, volumes, kwh, parking_seconds))
        if volumes:
            has_charging = True
        if energy:
            kwh += energy
        if parking:
            parking_seconds += parking * _HOUR
    if charging_start is None or not has_reservation:
        # durations count from the session start; after a reservation, from charging start
        charging_start = session.start
    expired = {
        "auto": has_reservation and not has_charging,
        "never": False,
        "always": has_reservation,
    }[policy.reservation_expired]
    return PeriodPlan(tuple(classified), charging_start, expired, span_start, span_end)
