"""Local wall-clock time for restrictions: the time zone a session is read in and its UTC
offsets.

Restrictions on time of day, day of week and date are read on the location's local wall clock
(OCPI 2.2.1 / 2.3.0 ``mod_tariffs`` §TariffRestrictions; the zone is ``Location.time_zone``,
``mod_locations`` §Location). Invariant: an :func:`offset_segments` result covers ``[start,
end)`` exactly, in order, each segment with one constant UTC offset; a DST change starts a new
segment at its first instant (microsecond precision).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ocpikit.tariffs.errors import PricingError
from ocpikit.tariffs.fast_records import fast_frozen
from ocpikit.tariffs.normal import NSession
from ocpikit.tariffs.policy import Policy

__all__ = [
    "OffsetSegment",
    "format_offset",
    "hhmm",
    "offset_segments",
    "resolve_time_zone",
    "utc_offset",
    "zone",
]

MICROSECOND = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_HALF_DAY = timedelta(hours=12)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; :class:`PricingError` when it does not exist."""
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


def utc_offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    """The UTC offset of ``tz`` at ``instant``."""
    off = instant.astimezone(tz).utcoffset()
    return off if off is not None else timedelta(0)


def format_offset(off: timedelta) -> str:
    """``+01:00`` / ``-05:00``."""
    minutes = int(off.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def hhmm(minute_of_day: int) -> str:
    """A minute of the day as ``hh:mm``."""
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


@fast_frozen
@dataclass(frozen=True, slots=True)
class OffsetSegment:
    """``[start, end)`` during which the zone's UTC offset is ``offset``."""

    start: datetime
    end: datetime
    offset: timedelta


def offset_segments(start: datetime, end: datetime, tz: ZoneInfo) -> list[OffsetSegment]:
    """``[start, end)`` cut at the zone's UTC-offset changes (DST): constant-offset segments.

    Probes every half day (no zone changes its offset twice in twelve hours) and bisects to the
    microsecond where the offset differs.
    """
    off = utc_offset(start, tz)
    if end - start <= _DAY and utc_offset(end, tz) == off:
        return [OffsetSegment(start, end, off)]
    segments: list[OffsetSegment] = []
    seg_start = t = start
    while t < end:
        nt = min(t + _HALF_DAY, end)
        if utc_offset(nt, tz) == off:
            t = nt
            continue
        lo, hi = t, nt  # the offset changes in (lo, hi]: find the first instant of the new one
        while hi - lo > MICROSECOND:
            mid = lo + (hi - lo) / 2
            if utc_offset(mid, tz) == off:
                lo = mid
            else:
                hi = mid
        segments.append(OffsetSegment(seg_start, hi, off))
        seg_start = t = hi
        off = utc_offset(hi, tz)
    segments.append(OffsetSegment(seg_start, end, off))
    return segments
