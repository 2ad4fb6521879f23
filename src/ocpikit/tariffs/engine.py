"""The price engine: a session or CDR, one or more tariffs → a :class:`PriceResult`.

How it prices (DIGEST §4.2–§4.5; 2.2.1 / 2.3.0 ``mod_tariffs`` §TariffElement,
§TariffRestrictions, §PriceComponent; ``mod_cdrs`` §CDR step_size):

1. Each period's restrictions are read at its start, in local time (the location's IANA zone or
   an explicit one, DST included); kWh and duration are what the session used before the period.
2. Per dimension (ENERGY, TIME, PARKING_TIME, FLAT) the first element in list order that has a
   component of that dimension and whose restrictions all match supplies the price. Reservation
   periods (RESERVATION_TIME) look only at elements with a ``reservation`` restriction
   (RESERVATION_EXPIRES first when the reservation expired); charging periods only at the others.
3. step_size rounds session totals, not periods: ENERGY once; for TIME/PARKING_TIME the parking
   total when parking is priced, else the charging total; the extra is billed at the last
   period's price with the last component's step. Reservation time is its own group.
4. FLAT is charged once (the first period where one is active), once more for a reservation.
5. VAT (2.2.1) per component, taxes (2.3.0 ``tax_included``), then min/max price on excl. and
   incl. amounts independently.

Every ambiguous step is a :class:`~ocpikit.tariffs.policy.Policy` setting.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ocpikit.tariffs.normal import (
    NElement,
    NPeriod,
    NRestrictions,
    NSession,
    NTariff,
    PricingInputError,
    SplitInfo,
    normalise_session,
    normalise_tariffs,
)
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.result import (
    COST_BUCKETS,
    ZERO_AMOUNT,
    Amount,
    Line,
    PeriodResult,
    PriceResult,
    Reason,
    StepEffect,
    SubPeriod,
)

__all__ = ["PricingError", "price", "resolve_time_zone"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_HOUR = Decimal(3600)
_KWH = Decimal(1000)
_DEFAULT_POLICY = Policy()


class PricingError(PricingInputError):
    """The session cannot be priced as asked (no tariff, no valid tariff, unknown time zone)."""


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PricingError(f"unknown IANA time zone {name!r}") from None


def resolve_time_zone(
    explicit: str | None, session: NSession, policy: Policy, warnings: list[str]
) -> str:
    """Explicit zone > the location's ``time_zone`` > the fallback policy."""
    if explicit:
        return explicit
    if session.time_zone:
        return session.time_zone
    if policy.time_zone_fallback == "error":
        raise PricingError("no time zone: pass one (--time-zone) or a location with time_zone")
    warnings.append(
        "no time zone given and none on the location: restrictions read in UTC "
        "(policy time_zone_fallback=utc)"
    )
    return "UTC"


@dataclass(slots=True)
class _Ctx:
    """What restrictions are evaluated against, at a period's start."""

    minute: int
    day: Any
    weekday: int
    kwh: Decimal
    duration: int
    parking: Decimal
    current: Decimal | None
    power: Decimal | None


def _measure(dims: dict[str, Decimal], avg: str, lo: str, hi: str, how: str) -> Decimal | None:
    a, mn, mx = dims.get(avg), dims.get(lo), dims.get(hi)
    if how == "max":
        return mx if mx is not None else a if a is not None else mn
    if how == "min":
        return mn if mn is not None else a if a is not None else mx
    if a is not None:
        return a
    if mn is not None and mx is not None:
        return (mn + mx) / 2
    return mn if mn is not None else mx


def _time_reason(m: int, s: int, e: int) -> str:
    return f"time {_hhmm(m)} outside {_hhmm(s)}-{_hhmm(e % 1440)}"


def _fail(r: NRestrictions, ctx: _Ctx, duration: Decimal | int, pol: Policy) -> str | Reason | None:
    """``None`` when all restrictions match, else the first one that does not (a short reason)."""
    st, et = r.start_time, r.end_time
    after_midnight = False
    if st is not None or et is not None:
        s = st if st is not None else 0
        e = et if et is not None else 1440
        if e == 0:
            e = 1440  # "00:00" as end: until the end of the day (mod_tariffs §TariffRestrictions)
        m = ctx.minute
        inclusive = pol.end_time == "inclusive"
        if s < e:
            ok = s <= m and (m <= e if inclusive else m < e)
        elif s > e:  # wraps past midnight
            after_midnight = m <= e if inclusive else m < e
            ok = m >= s or after_midnight
        else:
            ok = True
        if not ok:
            return Reason(_time_reason, m, s, e)
    if r.start_date is not None and ctx.day < r.start_date:
        return Reason("date {} before start_date {}".format, ctx.day, r.start_date)
    if r.end_date is not None and ctx.day >= r.end_date:
        return Reason("date {} not before end_date {}".format, ctx.day, r.end_date)
    if r.day_of_week is not None:
        wd = ctx.weekday
        if after_midnight and pol.day_of_week_wrap == "window_start":
            wd = (wd - 1) % 7
        if wd not in r.day_of_week:
            return Reason("day_of_week does not include {}".format, _DAYS[wd])
    if r.min_kwh is not None and ctx.kwh < r.min_kwh:
        return Reason("{} kWh used < min_kwh {}".format, ctx.kwh, r.min_kwh)
    if r.max_kwh is not None and ctx.kwh >= r.max_kwh:
        return Reason("{} kWh used >= max_kwh {}".format, ctx.kwh, r.max_kwh)
    if r.min_duration is not None and duration < r.min_duration:
        return Reason("duration {:.0f} s < min_duration {}".format, duration, r.min_duration)
    if r.max_duration is not None and duration >= r.max_duration:
        return Reason("duration {:.0f} s >= max_duration {}".format, duration, r.max_duration)
    if r.min_current is not None or r.max_current is not None:
        cur = ctx.current
        if cur is None:
            if pol.missing_measurement == "no_match":
                return "period has no current to compare (policy missing_measurement)"
        else:
            if r.min_current is not None and cur < r.min_current:
                return Reason("current {} A < min_current {}".format, cur, r.min_current)
            if r.max_current is not None and cur >= r.max_current:
                return Reason("current {} A >= max_current {}".format, cur, r.max_current)
    if r.min_power is not None or r.max_power is not None:
        pw = ctx.power
        if pw is None:
            if pol.missing_measurement == "no_match":
                return "period has no power to compare (policy missing_measurement)"
        else:
            if r.min_power is not None and pw < r.min_power:
                return Reason("power {} kW < min_power {}".format, pw, r.min_power)
            if r.max_power is not None and pw >= r.max_power:
                return Reason("power {} kW >= max_power {}".format, pw, r.max_power)
    return None


_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


#: what a line priced by an element's component says: (dimension, cost field, element index,
#: component index, price, vat, step_size)
_LineFields = tuple[str, str, int | None, int | None, Decimal, Decimal | None, int]
#: one candidate of a selection: the element, its restrictions (``None``: none), its index and
#: the fields of the line it prices (``None`` when it has no component of the dimension)
_Cand = tuple[NElement, NRestrictions | None, int, _LineFields | None]
_DIMS = ("ENERGY", "TIME", "PARKING_TIME", "FLAT")
_UNSET: Any = object()


@dataclass(slots=True)
class _Group:
    """A tariff's elements for one kind of period (``charging``, ``reservation`` or ``expired``
    reservation, mod_tariffs §TariffElement / §ReservationRestrictionType) prepared for selection:
    per dimension the elements :func:`_select` looks at, in list order (those with a component of
    the dimension; all of them for whole-element selection), and the fields of the lines they
    price. Built once per tariff and policy (``NTariff.engine_cache``), reused by every session."""

    reservation: bool
    cands: dict[str, tuple[_Cand, ...]]
    #: per dimension, the line fields when no element prices it
    missing: dict[str, _LineFields]
    split: SplitInfo | None


def _group(tariff: NTariff, group: str, pol: Policy) -> _Group:
    whole = pol.element_selection == "whole_element"
    key = ("group", group, whole, pol.flat_parking)
    found: _Group | None = tariff.engine_cache.get(key)
    if found is not None:
        return found
    els, split = {
        "charging": (tariff.charging, tariff.split_charging),
        "reservation": (tariff.reservation, tariff.split_reservation),
    }.get(group, (tariff.expired, tariff.split_expired))
    res = group != "charging"

    def fields(el: NElement, dim: str) -> _LineFields | None:
        comp = el.by_type.get(dim)
        if comp is None:
            return None
        name = "RESERVATION_TIME" if res and dim != "FLAT" else dim
        bucket = _bucket(dim, res, el, pol)
        return (name, bucket, el.index, comp.index, comp.price, comp.vat, comp.step_size)

    cands = {
        dim: tuple(
            (el, None if el.restrictions.empty else el.restrictions, el.index, fields(el, dim))
            for el in els
            if whole or dim in el.by_type
        )
        for dim in _DIMS
    }
    missing: dict[str, _LineFields] = {
        dim: (
            "RESERVATION_TIME" if res else dim,
            _bucket(dim, res, None, pol),
            None,
            None,
            _ZERO,
            None,
            0,
        )
        for dim in _DIMS
    }
    found = tariff.engine_cache[key] = _Group(res, cands, missing, split)
    return found


def _select(
    cands: tuple[_Cand, ...],
    dim: str,
    ctx: _Ctx,
    pol: Policy,
    cache: dict[int, str | Reason | None],
    use_parking: bool,
    whole: bool,
) -> tuple[_Cand | None, list[tuple[int, str | Reason]]]:
    """The element supplying dimension ``dim`` (per-dimension or whole-element selection):
    the first candidate whose restrictions all match (mod_tariffs §TariffElement). ``cache``
    holds each element's outcome for the piece being priced (keyed by index; ``~index`` when
    durations are read as parking time)."""
    skipped: list[tuple[int, str | Reason]] = []
    for cand in cands:
        _, r, index, fields = cand
        if r is None:
            reason: str | Reason | None = None
        else:
            key = ~index if use_parking else index
            reason = cache.get(key, _UNSET)
            if reason is _UNSET:
                reason = cache[key] = _fail(
                    r, ctx, ctx.parking if use_parking else ctx.duration, pol
                )
        if reason is None:
            if whole and fields is None:
                skipped.append((index, f"first matching element has no {dim} component"))
                return None, skipped
            return cand, skipped
        skipped.append((index, reason))
    return None, skipped


#: a piece of a period: start, end, its volumes, the kWh and parking seconds used before it and
#: why it starts there (a plain tuple: one is built for every period priced)
_Piece = tuple[datetime, datetime, dict[str, Decimal], Decimal, Decimal, str]


_MICRO = timedelta(microseconds=1)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)
_HALF_DAY = timedelta(hours=12)


def _offset(t: datetime, tz: ZoneInfo) -> timedelta:
    off = t.astimezone(tz).utcoffset()
    return off if off is not None else timedelta(0)


def _offset_segments(
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    off_start: timedelta | None = None,
    off_end: timedelta | None = None,
) -> list[tuple[datetime, datetime, timedelta]]:
    """``[start, end)`` cut at the zone's UTC-offset changes (DST): constant-offset segments.
    ``off_start``/``off_end``: the offsets at both ends when the caller knows them."""
    off = _offset(start, tz) if off_start is None else off_start
    if end - start <= _DAY and (_offset(end, tz) if off_end is None else off_end) == off:
        return [(start, end, off)]
    segs: list[tuple[datetime, datetime, timedelta]] = []
    seg_start = t = start
    while t < end:
        nt = min(t + _HALF_DAY, end)
        if _offset(nt, tz) == off:
            t = nt
            continue
        lo, hi = t, nt  # the offset changes in (lo, hi]: find the first instant of the new one
        while hi - lo > _MICRO:
            mid = lo + (hi - lo) / 2
            if _offset(mid, tz) == off:
                lo = mid
            else:
                hi = mid
        segs.append((seg_start, hi, off))
        seg_start = t = hi
        off = _offset(hi, tz)
    segs.append((seg_start, end, off))
    return segs


def _clock_boundaries(
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    info: SplitInfo,
    inclusive_end: bool,
    off_start: timedelta | None = None,
    off_end: timedelta | None = None,
    segments: list[tuple[datetime, datetime, timedelta]] | None = None,
) -> list[tuple[datetime, _Cause]]:
    """Instants strictly inside ``(start, end)`` where the local wall clock reaches one of the
    minutes of the day at which ``info``'s restrictions can switch, and the DST changes (where the wall clock jumps: a boundary in a
    skipped hour takes effect at the jump, a repeated hour is passed twice)."""
    out: list[tuple[datetime, _Cause]] = []
    if segments is None:
        segments = _offset_segments(start, end, tz, off_start, off_end)
    for a, b, off in segments:
        if a != start:
            out.append((a, f"UTC offset changes to {_fmt_offset(_offset(a, tz))} (DST)"))
        wall = a + off  # the local wall clock (as a UTC-labelled datetime) during the segment
        # microseconds since local midnight at a, and at b (constant offset in the segment)
        t0 = (wall.hour * 3600 + wall.minute * 60 + wall.second) * 1_000_000 + wall.microsecond
        t1 = t0 + (b - a) // _MICRO
        for day in range(t1 // _DAY_US + 1):
            for m in info.clock((wall.weekday() + day) % 7, inclusive_end):
                t = day * _DAY_US + m * _MINUTE_US
                if t0 < t < t1:
                    out.append((a + _MICRO * (t - t0), (m, wall, day)))
    return out


#: why a period is cut at a boundary: the text, or ``(minute of the day, local wall clock at
#: the start of the constant-offset segment, days after it)`` formatted only when a period is
#: actually cut there (:func:`_cause_text`)
_Cause = str | tuple[int, datetime, int]


def _cause_text(cause: _Cause) -> str:
    if isinstance(cause, str):
        return cause
    m, wall, day = cause
    if m == 0:
        return f"local midnight ({(wall + timedelta(days=day)).date()})"
    return f"local time {_hhmm(m)}"


_DAY_US = 86_400_000_000
_MINUTE_US = 60_000_000


def _fmt_offset(off: timedelta) -> str:
    minutes = int(off.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _session_cuts(
    start: datetime,
    end: datetime,
    info: SplitInfo,
    tz: ZoneInfo,
    ref: datetime,
    inclusive_end: bool,
    segments: list[tuple[datetime, datetime, timedelta]] | None = None,
) -> tuple[list[datetime], list[_Cause]]:
    """Every instant in ``(start, end)`` where a time-of-day, day, date or duration restriction
    of ``info`` can switch (sorted), with the reason; computed once per session."""
    found = (
        _clock_boundaries(start, end, tz, info, inclusive_end, segments=segments)
        if info.has_clock
        else []
    )
    for threshold in info.durations:
        instant = ref + timedelta(seconds=threshold)
        if start < instant < end:
            found.append((instant, f"session duration reaches {threshold} s"))
    if len(found) > 1:
        found.sort(key=_first)
    return [c[0] for c in found], [c[1] for c in found]


def _first(c: tuple[datetime, _Cause]) -> datetime:
    return c[0]


def _pieces(
    p: NPeriod,
    vols: dict[str, Decimal],
    info: SplitInfo,
    clock: list[tuple[datetime, str]],
    kwh0: Decimal,
    parking0: Decimal,
    pol: Policy,
) -> list[_Piece]:
    """Cut period ``p`` where a restriction of ``info`` can switch (policy ``period_split``).

    ``clock``: the instants inside the period where a time-of-day, day, date (local wall clock,
    DST-aware) or duration restriction can switch. kWh thresholds are interpolated assuming
    constant power (policy ``kwh_split``); with ``duration_basis=parking`` the parking-time
    thresholds too. Volumes are spread over the period in proportion to time; energy and
    parking are exact at their own thresholds. Pieces whose elements turn out the same are
    merged by the caller.
    """
    start, end = p.start, p.end
    total_us = (end - start) // _MICRO
    if total_us <= 0:
        return [(start, end, vols, kwh0, parking0, "period start")]
    # boundary: (fraction of the period, instant, cause, exact kWh used, exact parking seconds)
    cuts: list[tuple[Decimal, datetime, str, Decimal | None, Decimal | None]] = []
    if clock:
        total = Decimal(total_us)
        for instant, why in clock:
            cuts.append((Decimal((instant - start) // _MICRO) / total, instant, why, None, None))
    energy = vols.get("ENERGY", _ZERO)
    if info.kwh and energy > 0 and pol.kwh_split == "interpolate":
        for k in info.kwh:
            if kwh0 < k < kwh0 + energy:
                f = (k - kwh0) / energy
                instant = start + _MICRO * int(f * total_us)
                why = f"{k} kWh reached (interpolated, constant power)"
                cuts.append((f, instant, why, k, None))
    parked = vols.get("PARKING_TIME", _ZERO) * _HOUR
    if info.durations and parked > 0 and pol.duration_basis == "parking":
        for threshold in info.durations:
            limit = Decimal(threshold)
            if parking0 < limit < parking0 + parked:
                f = (limit - parking0) / parked
                instant = start + _MICRO * int(f * total_us)
                why = f"parking time reaches {threshold} s"
                cuts.append((f, instant, why, None, limit))
    if not cuts:
        return [(start, end, vols, kwh0, parking0, "period start")]
    cuts.sort(key=lambda c: c[0])
    # cumulative volumes at each boundary (exact at kWh / parking thresholds)
    points: list[tuple[Decimal, datetime, str, Decimal, Decimal]] = [
        (_ZERO, start, "period start", kwh0, parking0)
    ]
    for frac, instant, why, k_at, park in cuts:
        if frac <= points[-1][0] or instant <= points[-1][1] or instant >= end:
            continue
        points.append(
            (
                frac,
                instant,
                why,
                k_at if k_at is not None else kwh0 + energy * frac,
                park if park is not None else parking0 + parked * frac,
            )
        )
    pieces: list[_Piece] = []
    done: dict[str, Decimal] = dict.fromkeys(vols, _ZERO)
    for i, (_f, instant, why, kwh_at, park_at) in enumerate(points):
        last = i + 1 == len(points)
        piece_vols: dict[str, Decimal] = {}
        for dim, vol in vols.items():
            if last:
                upto = vol
            elif dim == "ENERGY":
                upto = points[i + 1][3] - kwh0
            elif dim == "PARKING_TIME":
                upto = (points[i + 1][4] - parking0) / _HOUR
            else:
                upto = vol * points[i + 1][0]
            piece_vols[dim] = upto - done[dim]
            done[dim] = upto
        piece_end = end if last else points[i + 1][1]
        pieces.append((instant, piece_end, piece_vols, kwh_at, park_at, why))
    return pieces


def _split(
    p: NPeriod,
    vols: dict[str, Decimal],
    plan: tuple[SplitInfo | None, tuple[list[datetime], list[_Cause]]],
    kwh0: Decimal,
    parking0: Decimal,
    pol: Policy,
) -> list[_Piece] | None:
    """The pieces of ``p`` (:func:`_pieces`) at the session boundaries ``plan`` of the elements
    that can price it; ``None`` when none falls inside it and no kWh / parking threshold can."""
    info, (instants, causes) = plan
    if info is None:
        return None
    lo = bisect_right(instants, p.start)
    hi = bisect_left(instants, p.end, lo)
    if lo < hi or info.kwh or (pol.duration_basis == "parking" and info.durations):
        clock = [(instants[k], _cause_text(causes[k])) for k in range(lo, hi)]
        return _pieces(p, vols, info, clock, kwh0, parking0, pol)
    return None


def _ceil_to(quantity: Decimal, step: Decimal, tolerance: Decimal) -> Decimal:
    if step <= 0 or quantity <= 0:
        return quantity
    blocks = ((quantity - tolerance) / step).to_integral_value(rounding=ROUND_CEILING)
    return max(quantity, blocks * step)


def _amount(base: Decimal, vat: Decimal | None, tariff: NTariff, pol: Policy) -> Amount:
    """Excl./incl. amounts of ``base`` = price × billed quantity under the tariff's tax regime."""
    tax = tariff.tax_included
    if tax == "YES":
        if vat is not None:
            return Amount(base / (_ONE + vat / _HUNDRED), base)
        return Amount(base, base)  # A20: before_taxes = price (policy tax_included_without_vat)
    if tax == "N/A":
        return Amount(base, base)
    if vat is not None:
        return Amount(base, base * (_ONE + vat / _HUNDRED))
    mode = pol.missing_vat
    if mode == "auto":
        unknown = tax == "NO" or tariff.origin == "2.1.1"
        if tariff.origin == "2.2.1":
            unknown = False
        mode = "unknown" if unknown else "no_vat"
    return Amount(base, base if mode == "no_vat" else None)


def _bucket(dim: str, reservation: bool, el: NElement | None, pol: Policy) -> str:
    if reservation:
        return "total_reservation_cost"
    if dim == "ENERGY":
        return "total_energy_cost"
    if dim == "TIME":
        return "total_time_cost"
    if dim == "PARKING_TIME":
        return "total_parking_cost"
    if el is not None and pol.flat_parking == "parking_only_element" and el.parking_only:
        return "total_parking_cost"
    return "total_fixed_cost"


def _pick_tariffs(
    session: NSession, tariffs: list[NTariff], pol: Policy, warnings: list[str]
) -> tuple[NTariff, dict[str, NTariff]]:
    if not tariffs:
        raise PricingError("no tariff: pass one (--tariff) or a CDR that embeds its tariffs")
    by_id: dict[str, NTariff] = {}
    for t in tariffs:
        by_id.setdefault(t.id.upper(), t)
    start = session.start
    first_tid = next((p.tariff_id for p in session.periods if p.tariff_id), None)
    main: NTariff | None = None
    if first_tid is not None and first_tid.upper() in by_id:
        main = by_id[first_tid.upper()]
    if main is None:
        main = next((t for t in tariffs if t.valid_at(start)), None)
    if main is None or not main.valid_at(start):
        candidate = main or tariffs[0]
        msg = (
            f"tariff {candidate.id} is not valid at the session start "
            f"{start.isoformat()} (start/end_date_time)"
        )
        if pol.tariff_validity == "strict":
            raise PricingError(msg + "; policy tariff_validity=ignore prices it anyway")
        warnings.append(msg + " (priced anyway: policy tariff_validity=ignore)")
        main = candidate
    if session.currency and main.currency and session.currency.upper() != main.currency.upper():
        warnings.append(f"currency {session.currency} differs from tariff currency {main.currency}")
    return main, by_id


def price(
    session: Any,
    tariffs: Any = None,
    *,
    time_zone: str | None = None,
    policy: Policy | None = None,
    origin: str | None = None,
) -> PriceResult:
    """Price ``session`` (a head CDR/Session, or its JSON form) against ``tariffs``.

    ``tariffs`` may be one tariff or a list (head models or JSON); when omitted the CDR's
    embedded tariffs are used. ``origin`` names the OCPI version the inputs were converted from
    (it decides what an omitted ``vat`` means, policy ``missing_vat=auto``).
    """
    pol = policy or _DEFAULT_POLICY
    warnings: list[str] = []
    s = normalise_session(session)
    given = normalise_tariffs(tariffs, origin) if tariffs is not None else []
    if not given:
        given = normalise_tariffs(s.tariffs, origin)
    main, by_id = _pick_tariffs(s, given, pol, warnings)
    tz_name = resolve_time_zone(time_zone, s, pol, warnings)
    tz = _zone(tz_name)

    # --- classify periods and derive volumes --------------------------------------------
    charging_start: datetime | None = None
    plans: list[tuple[NPeriod, bool, dict[str, Decimal]]] = []
    for p in s.periods:
        dims = p.dims
        is_res = "RESERVATION_TIME" in dims and not (
            "ENERGY" in dims or "TIME" in dims or "PARKING_TIME" in dims
        )
        vols: dict[str, Decimal] = {}
        if is_res:
            vols["TIME"] = dims["RESERVATION_TIME"]
        else:
            if charging_start is None:
                charging_start = p.start
            energy = dims.get("ENERGY")
            t = dims.get("TIME")
            pk = dims.get("PARKING_TIME")
            if t is None and pk is None and pol.missing_time == "infer":
                hours = p.seconds / _HOUR
                if energy is not None and energy > 0:
                    t = hours
                else:
                    pk = hours
            if pol.parking_definition == "no_energy" and t and not energy:
                pk = (pk or _ZERO) + t
                t = None
            if energy:
                vols["ENERGY"] = energy
            if t:
                vols["TIME"] = t
            if pk:
                vols["PARKING_TIME"] = pk
        plans.append((p, is_res, vols))
    if charging_start is None or not any(r for _, r, _ in plans):
        # durations count from the session start; after a reservation, from charging start
        charging_start = s.start
    has_charging = any(not r and v for _, r, v in plans)
    has_reservation = any(r for _, r, _ in plans)
    expired = {
        "auto": has_reservation and not has_charging,
        "never": False,
        "always": has_reservation,
    }[pol.reservation_expired]

    # --- select elements per period (and piece of a period) and dimension ----------------
    periods: list[PeriodResult] = []
    kwh_so_far = _ZERO
    parking_so_far = _ZERO
    flat_seen: set[tuple[str, int]] = set()
    flat_done = [False, False]  # charging, reservation
    flat_mode = pol.flat
    split = pol.period_split == "restrictions"
    whole = pol.element_selection == "whole_element"
    inclusive_end = pol.end_time == "inclusive"
    parking_basis = pol.duration_basis == "parking"
    how = pol.measurement
    plan_cuts: dict[
        tuple[int, tuple[str, ...] | None],
        tuple[SplitInfo | None, tuple[list[datetime], list[_Cause]]],
    ] = {}
    # boundaries over the whole session per SplitInfo and reference instant (2 id + is_res)
    info_cuts: dict[int, tuple[list[datetime], list[_Cause]]] = {}
    span_start = min((p.start for p, _, _ in plans), default=s.start)
    span_end = max((p.end for p, _, _ in plans), default=s.end)
    segments: list[tuple[datetime, datetime, timedelta]] = []

    def cuts_of(info: SplitInfo, is_res: bool) -> tuple[list[datetime], list[_Cause]]:
        """The session-wide boundaries of ``info`` (durations from the reservation or charging
        start), computed once per price call."""
        key = id(info) * 2 + is_res
        found = info_cuts.get(key)
        if found is None:
            if not segments:
                segments.extend(_offset_segments(span_start, span_end, tz))
            ref = s.start if is_res else charging_start
            assert ref is not None
            found = info_cuts[key] = _session_cuts(
                span_start, span_end, info, tz, ref, inclusive_end, segments
            )
        return found

    last_tariff: NTariff | None = None
    last_res = False
    g = _Group(False, {}, {}, None)
    group = "charging"
    tariff_of: dict[str, NTariff] = {}
    base_instants: list[datetime] | None = None  # the boundaries of every element of the group
    base_always = False  # kWh or parking thresholds: every period is examined
    for p, is_res, vols in plans:
        p_start, p_end, p_index = p.start, p.end, p.index
        tid = p.tariff_id
        if tid:
            tariff = tariff_of.get(tid) or tariff_of.setdefault(tid, by_id.get(tid.upper(), main))
        else:
            tariff = main
        if tariff is not last_tariff or is_res is not last_res:
            last_tariff, last_res = tariff, is_res
            group = ("expired" if expired else "reservation") if is_res else "charging"
            g = _group(tariff, group, pol)
            base = g.split
            base_instants = None
            if split and base is not None:
                base_instants = cuts_of(base, is_res)[0]
                base_always = bool(base.kwh or (parking_basis and base.durations))
        ref = s.start if is_res else charging_start
        cands = g.cands
        dims = p.dims
        current = (
            _measure(dims, "CURRENT", "MIN_CURRENT", "MAX_CURRENT", how)
            if tariff.measures_current
            else None
        )
        power = (
            _measure(dims, "POWER", "MIN_POWER", "MAX_POWER", how)
            if tariff.measures_power
            else None
        )
        local = p_start.astimezone(tz)
        pieces: list[_Piece] | None = None
        # quick test with every element of the group: no boundary inside the period, no kWh or
        # parking threshold: nothing to split
        if base_instants is not None and p_start < p_end:
            if not base_always:
                at = bisect_right(base_instants, p_start)
                examine = at < len(base_instants) and base_instants[at] < p_end
            else:
                examine = True
            if examine:
                if whole:
                    wanted: tuple[str, ...] | None = None
                elif flat_mode != "once" or not flat_done[is_res]:
                    wanted = (*vols, "FLAT")
                else:
                    wanted = tuple(vols)
                plan_key = (id(g), wanted)
                plan = plan_cuts.get(plan_key)
                if plan is None:
                    # only elements that can price this period's dimensions (and a FLAT still
                    # due); their boundaries over the whole session are computed once per set
                    info = tariff.split_for(group, None if wanted is None else frozenset(wanted))
                    plan = plan_cuts[plan_key] = (
                        info,
                        ([], []) if info is None else cuts_of(info, is_res),
                    )
                pieces = _split(p, vols, plan, kwh_so_far, parking_so_far, pol)
        pr = PeriodResult(
            p_index,
            "reservation" if is_res else "charging",
            p_start,
            p_end,
            local,
            tariff.id,
            [],
            [],
        )
        subs = pr.subs
        if pieces is None:
            pieces = [(p_start, p_end, vols, kwh_so_far, parking_so_far, "period start")]
        period_flat = False
        sub_lines: list[list[Line]] = []
        last_sig: tuple[int | None, ...] | None = None
        for piece_start, piece_end, piece_vols, piece_kwh, piece_parking, cause in pieces:
            plocal = local if piece_start == p_start else piece_start.astimezone(tz)
            ctx = _Ctx(
                plocal.hour * 60 + plocal.minute,
                plocal.date(),
                plocal.weekday(),
                piece_kwh,
                (piece_start - ref) // _SECOND,
                piece_parking,
                current,
                power,
            )
            cache: dict[int, str | Reason | None] = {}
            chosen: list[tuple[str, Decimal, _Cand | None, list[tuple[int, str | Reason]]]] = []
            sig: tuple[int | None, ...] = ()
            for dim, vol in piece_vols.items():
                dim_cands = cands[dim]
                if dim_cands:
                    use_parking = parking_basis and dim == "PARKING_TIME"
                    cand, skipped = _select(dim_cands, dim, ctx, pol, cache, use_parking, whole)
                else:
                    cand, skipped = None, []
                chosen.append((dim, vol, cand, skipped))
                sig += (None if cand is None else cand[2],)
            # FLAT: charged where it becomes active (a piece with a FLAT starts a sub-period)
            flat_pick: tuple[_LineFields, list[tuple[int, str | Reason]]] | None = None
            if flat_mode == "per_period":
                want_flat = not period_flat
            else:
                want_flat = flat_mode == "once_per_element" or not flat_done[is_res]
            if want_flat:
                cand, skipped = _select(cands["FLAT"], "FLAT", ctx, pol, cache, False, whole)
                if cand is not None and cand[3] is not None:
                    key = cand[2] + (1000 if is_res else 0)
                    if flat_mode != "once_per_element" or (tariff.id, key) not in flat_seen:
                        flat_seen.add((tariff.id, key))
                        flat_done[is_res] = True
                        period_flat = True
                        flat_pick = (cand[3], skipped)
            if sig == last_sig and subs and flat_pick is None:
                # same elements as the previous piece: one sub-period (no needless split)
                subs[-1].end = piece_end
                for line, (_, vol, _, _) in zip(
                    (ln for ln in sub_lines[-1] if ln.dimension != "FLAT"), chosen, strict=True
                ):
                    line.volume += vol
                    line.billed = line.volume
            else:
                last_sig = sig
                sub = len(subs)
                subs.append(SubPeriod(sub, piece_start, piece_end, plocal, cause))
                lines_here: list[Line] = []
                for dim, vol, cand, skipped in chosen:
                    name, bucket, el_index, comp_index, price_, vat, step = (
                        g.missing[dim] if cand is None or cand[3] is None else cand[3]
                    )
                    lines_here.append(
                        Line(
                            p_index,
                            name,
                            bucket,
                            vol,
                            vol,
                            tariff.id,
                            el_index,
                            comp_index,
                            price_,
                            vat,
                            step,
                            skipped,
                            ZERO_AMOUNT,
                            "",
                            sub,
                        )
                    )
                sub_lines.append(lines_here)
            if flat_pick is not None:
                (name, bucket, el_index, comp_index, price_, vat, step), skipped = flat_pick
                sub_lines[-1].insert(
                    0,
                    Line(
                        p_index,
                        name,
                        bucket,
                        _ONE,
                        _ONE,
                        tariff.id,
                        el_index,
                        comp_index,
                        price_,
                        vat,
                        step,
                        skipped,
                        ZERO_AMOUNT,
                        "",
                        len(subs) - 1,
                    ),
                )
        pr.lines = sub_lines[0] if len(sub_lines) == 1 else [ln for g in sub_lines for ln in g]
        if not is_res:
            energy = vols.get("ENERGY")
            if energy is not None:
                kwh_so_far += energy
            parked = vols.get("PARKING_TIME")
            if parked is not None:
                parking_so_far += parked * _HOUR
        periods.append(pr)

    # --- step_size --------------------------------------------------------------------------
    effects: list[StepEffect] = []
    priced: list[Line] = []
    energy_l: list[Line] = []
    time_l: list[Line] = []
    park_l: list[Line] = []
    res_l: list[Line] = []
    by_dimension = {
        "ENERGY": energy_l,
        "TIME": time_l,
        "PARKING_TIME": park_l,
        "RESERVATION_TIME": res_l,
    }
    for pr in periods:
        for line in pr.lines:
            if line.element is not None:
                priced.append(line)
                same = by_dimension.get(line.dimension)
                if same is not None:
                    same.append(line)
    override = pol.time_step_override
    _round_group(
        "ENERGY", energy_l, pol.energy_step_size, _KWH, pol.energy_step_tolerance, "Wh", 0, effects
    )
    t_tol = pol.time_step_tolerance
    mode = pol.step_size
    if mode == "session":
        if park_l:
            _round_group("PARKING_TIME", park_l, mode, _HOUR, t_tol, "s", override, effects)
        else:
            _round_group("TIME", time_l, mode, _HOUR, t_tol, "s", override, effects)
    elif mode == "session_total":
        both = sorted(
            time_l + park_l, key=lambda ln: (ln.period, ln.sub, ln.dimension == "PARKING_TIME")
        )
        _round_group("TIME+PARKING_TIME", both, mode, _HOUR, t_tol, "s", override, effects)
    else:
        _round_group("TIME", time_l, mode, _HOUR, t_tol, "s", override, effects)
        _round_group("PARKING_TIME", park_l, mode, _HOUR, t_tol, "s", override, effects)
    _round_group(
        "RESERVATION_TIME",
        res_l,
        "session" if mode == "session_total" else mode,
        _HOUR,
        t_tol,
        "s",
        override,
        effects,
    )

    # --- costs --------------------------------------------------------------------------------
    # per cost field: excl. and incl. sums (incl. None once one line's is unknown), summed in
    # line order from zero exactly as Amount addition would
    sums: dict[str, list[Any]] = {}  # cost field -> [excl, incl or None]
    taxes: dict[Decimal | None, Decimal] = {}
    factors: dict[Decimal, Decimal] = {}
    main_id = main.id
    for line in priced:
        line_tariff = main if line.tariff_id == main_id else by_id.get(line.tariff_id.upper(), main)
        quantity_cost = line.price * line.billed
        vat = line.vat
        incl: Decimal | None
        if vat is not None and line_tariff.tax_included not in ("YES", "N/A"):
            # the common case of _amount: excl. VAT price plus VAT (2.2.1 PriceComponent.vat)
            factor = factors.get(vat)
            if factor is None:
                factor = factors[vat] = _ONE + vat / _HUNDRED
            excl, incl = quantity_cost, quantity_cost * factor
            line.cost = Amount(excl, incl)
        else:
            cost = line.cost = _amount(quantity_cost, vat, line_tariff, pol)
            excl, incl = cost.excl, cost.incl
        acc = sums.get(line.bucket)
        if acc is None:
            sums[line.bucket] = [_ZERO + excl, None if incl is None else _ZERO + incl]
        else:
            acc[0] += excl
            acc[1] = None if acc[1] is None or incl is None else acc[1] + incl
        if incl is not None:
            tax = incl - excl
            if tax != 0:
                taxes[vat] = taxes.get(vat, _ZERO) + tax
    costs = {name: Amount(excl_sum, incl_sum) for name, (excl_sum, incl_sum) in sums.items()}
    relevant = frozenset(costs)
    total_excl: Decimal = _ZERO
    total_incl: Decimal | None = _ZERO
    for name in COST_BUCKETS:
        part = costs.get(name, ZERO_AMOUNT)
        total_excl = total_excl + part.excl
        total_incl = None if total_incl is None or part.incl is None else total_incl + part.incl
    raw_total = Amount(total_excl, total_incl)
    total, adjustments = _clamp(raw_total, main, pol)
    if pol.min_max_adjustment == "fixed" and total != raw_total:
        delta_excl = total.excl - raw_total.excl
        delta_incl = (
            None if total.incl is None or raw_total.incl is None else total.incl - raw_total.incl
        )
        costs["total_fixed_cost"] = costs.get("total_fixed_cost", ZERO_AMOUNT) + Amount(
            delta_excl, delta_incl
        )

    # (adding a missing volume's zero to a sum that starts at zero changes nothing: skipped)
    computed_energy = computed_parking = _ZERO
    for p in s.periods:
        pdims = p.dims
        energy = pdims.get("ENERGY")
        if energy is not None and "RESERVATION_TIME" not in pdims:
            computed_energy += energy
        parked = pdims.get("PARKING_TIME")
        if parked is not None:
            computed_parking += parked
    computed_time = Decimal((s.end - s.start) // _MICRO) / 1_000_000 / _HOUR
    return PriceResult(
        currency=main.currency or (s.currency or ""),
        tariff_ids=list(dict.fromkeys([main.id, *(p.tariff_id for p in periods)])),
        time_zone=tz_name,
        costs=costs,
        total_cost=total,
        uncapped_total=raw_total,
        total_energy=s.total_energy if s.total_energy is not None else computed_energy,
        total_time=s.total_time if s.total_time is not None else computed_time,
        total_parking_time=(
            s.total_parking_time if s.total_parking_time is not None else computed_parking
        ),
        computed_energy=computed_energy,
        computed_time=computed_time,
        computed_parking_time=computed_parking,
        periods=periods,
        step_effects=effects,
        adjustments=adjustments,
        taxes=taxes,
        policy=_changed(pol),
        warnings=warnings,
        decimals=pol.decimals,
        relevant=relevant,
    )


def _round_group(
    group: str,
    lines: list[Line],
    mode: str,
    unit: Decimal,
    tolerance: Decimal,
    unit_name: str,
    override: int,
    effects: list[StepEffect],
) -> None:
    """Apply step_size to one group of lines (DIGEST §4.3 rules 1-6)."""
    if not lines or mode == "ignore":
        return
    if mode == "per_period":
        for line in lines:
            step = Decimal(override or line.step_size)
            consumed = line.volume * unit
            billed = _ceil_to(consumed, step, tolerance)
            if billed != consumed:
                line.billed = billed / unit
                line.step_note = (
                    f"{_fmt(consumed)} -> {_fmt(billed)} {unit_name} (step {step}, per period)"
                )
        return
    last = lines[-1]
    step = Decimal(override or last.step_size)
    consumed = sum((line.volume for line in lines), _ZERO) * unit
    billed = _ceil_to(consumed, step, tolerance)
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


#: id(policy) -> (policy, its changed settings): hashing a Policy (every setting) per call costs
#: more than the lookup it serves
_CHANGED: dict[int, tuple[Policy, dict[str, Any]]] = {}


def _changed(pol: Policy) -> dict[str, Any]:
    hit = _CHANGED.get(id(pol))
    if hit is not None and hit[0] is pol:
        return hit[1]
    value = _changed_by_value(pol)
    if len(_CHANGED) > 64:
        _CHANGED.clear()
    _CHANGED[id(pol)] = (pol, value)
    return value


@lru_cache(maxsize=32)
def _changed_by_value(pol: Policy) -> dict[str, Any]:
    return pol.changed()


def _fmt(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value.quantize(Decimal('0.01')).normalize():f}"


def _clamp(total: Amount, tariff: NTariff, pol: Policy) -> tuple[Amount, list[str]]:
    """min_price / max_price on excl. and incl. amounts independently (DIGEST §4.4)."""
    notes: list[str] = []
    excl, incl = total.excl, total.incl
    if pol.min_price == "apply":
        if tariff.min_excl is not None and excl < tariff.min_excl:
            notes.append(f"min_price: excl {excl} raised to {tariff.min_excl}")
            excl = tariff.min_excl
        if tariff.min_incl is not None and incl is not None and incl < tariff.min_incl:
            notes.append(f"min_price: incl {incl} raised to {tariff.min_incl}")
            incl = tariff.min_incl
    if pol.max_price == "apply":
        if tariff.max_excl is not None and excl > tariff.max_excl:
            notes.append(f"max_price: excl {excl} capped at {tariff.max_excl}")
            excl = tariff.max_excl
        if tariff.max_incl is not None and incl is not None and incl > tariff.max_incl:
            notes.append(f"max_price: incl {incl} capped at {tariff.max_incl}")
            incl = tariff.max_incl
    return Amount(excl, incl), notes
