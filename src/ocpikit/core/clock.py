"""Where "now" comes from (DESIGN §3: "now" comes from an injected clock).

Library code never calls ``datetime.now()``: it asks a :class:`Clock`. Production wires a
:class:`SystemClock`; tests use :class:`FixedClock` (never moves) or :class:`ManualClock`
(moves when told), so timestamps in envelopes, ``last_updated`` values and timeouts are
reproducible. Every clock answers aware UTC datetimes (DIGEST §1.10).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from ocpikit.core.types import parse_datetime

__all__ = ["SYSTEM_CLOCK", "Clock", "FixedClock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now() -> aware UTC datetime``."""

    def now(self) -> datetime: ...


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        return parse_datetime(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()
"""The default clock of the composition root."""


class FixedClock:
    """Always answers the same instant (a naive value or string without offset is UTC)."""

    def __init__(self, at: datetime | str) -> None:
        self._now = _utc(at)

    def now(self) -> datetime:
        return self._now

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._now.isoformat()!r})"


class ManualClock(FixedClock):
    """A clock that moves only when a test says so."""

    def advance(self, delta: timedelta | float = 1.0) -> datetime:
        """Move forward by ``delta`` (a timedelta or seconds); returns the new now."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("a clock does not go backwards; use set() to jump")
        self._now += step
        return self._now

    def set(self, at: datetime | str) -> None:
        """Jump to ``at`` (forwards or backwards)."""
        self._now = _utc(at)
