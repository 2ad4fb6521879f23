"""Stage 2a of pricing: the instants of a session where restrictions can switch.

Restrictions "switch on and off during the session" (OCPI 2.2.1 / 2.3.0 ``mod_tariffs``
§TariffRestrictions), so a period is priced in pieces cut where an element's time of day, day,
date or duration restriction can change its answer. Those instants are computed once per
session and group of elements (:class:`SessionBoundaries`), on the local wall clock: a boundary
inside a skipped DST hour takes effect at the jump, a repeated hour is passed twice.

Invariant: :attr:`SessionBoundaries.instants` is sorted and lies strictly inside the span it
was computed for; ``causes[i]`` says why ``instants[i]`` is a boundary.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ocpikit.tariffs.fast_records import fast_frozen
from ocpikit.tariffs.local_time import (
    MICROSECOND,
    OffsetSegment,
    format_offset,
    hhmm,
    offset_segments,
    utc_offset,
)
from ocpikit.tariffs.normal import SplitInfo

__all__ = [
    "BoundaryIndex",
    "Cause",
    "ClockCause",
    "SessionBoundaries",
    "clock_boundaries",
    "session_boundaries",
]

_DAY_US = 86_400_000_000
_MINUTE_US = 60_000_000


@fast_frozen
@dataclass(frozen=True, slots=True)
class ClockCause:
    """A boundary on the local wall clock: ``minute`` of the day, reached ``day`` days after
    the start of a constant-offset segment whose wall clock starts at ``wall``. Formatted only
    when a period is actually cut there (:meth:`text`)."""

    minute: int
    wall: datetime
    day: int

    def text(self) -> str:
        if self.minute == 0:
            return f"local midnight ({(self.wall + timedelta(days=self.day)).date()})"
        return f"local time {hhmm(self.minute)}"


#: why a period is cut at a boundary
Cause = str | ClockCause


def cause_text(cause: Cause) -> str:
    """The explanation of a boundary."""
    return cause if isinstance(cause, str) else cause.text()


@fast_frozen
@dataclass(frozen=True, slots=True)
class SessionBoundaries:
    """Sorted instants where restrictions can switch, each with its cause."""

    instants: list[datetime]
    causes: list[Cause]

    def inside(self, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
        """The boundaries strictly inside ``(start, end)``, explained."""
        lo = bisect_right(self.instants, start)
        hi = bisect_left(self.instants, end, lo)
        return [(self.instants[k], cause_text(self.causes[k])) for k in range(lo, hi)]

    def any_inside(self, start: datetime, end: datetime) -> bool:
        """Whether a boundary lies strictly inside ``(start, end)``."""
        at = bisect_right(self.instants, start)
        return at < len(self.instants) and self.instants[at] < end


def clock_boundaries(
    segments: list[OffsetSegment], tz: ZoneInfo, info: SplitInfo, inclusive_end: bool
) -> list[tuple[datetime, Cause]]:
    """Instants strictly inside the span of ``segments`` where the local wall clock reaches a
    minute of the day at which ``info``'s restrictions can switch, and the DST changes (the
    starts of the segments after the first)."""
    out: list[tuple[datetime, Cause]] = []
    for n, seg in enumerate(segments):
        a, b = seg.start, seg.end
        if n:
            out.append((a, f"UTC offset changes to {format_offset(utc_offset(a, tz))} (DST)"))
        wall = a + seg.offset  # the local wall clock (as a UTC-labelled datetime) at a
        # microseconds since local midnight at a, and at b (constant offset in the segment)
        t0 = (wall.hour * 3600 + wall.minute * 60 + wall.second) * 1_000_000 + wall.microsecond
        t1 = t0 + (b - a) // MICROSECOND
        for day in range(t1 // _DAY_US + 1):
            for m in info.clock((wall.weekday() + day) % 7, inclusive_end):
                t = day * _DAY_US + m * _MINUTE_US
                if t0 < t < t1:
                    out.append((a + MICROSECOND * (t - t0), ClockCause(m, wall, day)))
    return out


def _instant(boundary: tuple[datetime, Cause]) -> datetime:
    return boundary[0]


def session_boundaries(
    segments: list[OffsetSegment],
    info: SplitInfo,
    tz: ZoneInfo,
    ref: datetime,
    inclusive_end: bool,
) -> SessionBoundaries:
    """Every instant inside the span of ``segments`` where a time-of-day, day, date or
    duration restriction of ``info`` can switch; durations count from ``ref``."""
    start, end = segments[0].start, segments[-1].end
    found = clock_boundaries(segments, tz, info, inclusive_end) if info.has_clock else []
    for threshold in info.durations:
        instant = ref + timedelta(seconds=threshold)
        if start < instant < end:
            found.append((instant, f"session duration reaches {threshold} s"))
    if len(found) > 1:
        found.sort(key=_instant)
    return SessionBoundaries([b[0] for b in found], [b[1] for b in found])


@dataclass(slots=True)
class BoundaryIndex:
    """The boundaries of one price call, computed on first use per :class:`SplitInfo` and
    reference start (reservation periods count durations from the session start, charging
    periods from ``charging_start``) and kept for the rest of the call (``found``; the
    zone's constant-offset ``segments`` over the span, computed on first use)."""

    tz: ZoneInfo
    span_start: datetime
    span_end: datetime
    session_start: datetime
    charging_start: datetime
    inclusive_end: bool
    segments: list[OffsetSegment]
    found: dict[tuple[int, bool], SessionBoundaries]

    def of(self, info: SplitInfo, reservation: bool) -> SessionBoundaries:
        """The session boundaries of ``info`` (equal infos are shared instances, so identity
        keys them)."""
        key = (id(info), reservation)
        found = self.found.get(key)
        if found is None:
            if not self.segments:
                self.segments.extend(offset_segments(self.span_start, self.span_end, self.tz))
            ref = self.session_start if reservation else self.charging_start
            found = self.found[key] = session_boundaries(
                self.segments, info, self.tz, ref, self.inclusive_end
            )
        return found
