from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ocpikit.core.clock import SYSTEM_CLOCK, Clock, FixedClock, ManualClock, SystemClock


def test_system_clock_is_aware_utc_and_current() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= now <= datetime.now(UTC)
    assert isinstance(SYSTEM_CLOCK, Clock)


def test_fixed_clock_never_moves() -> None:
    clock = FixedClock("2015-06-29T20:39:09Z")
    assert clock.now() == datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)
    assert clock.now() == clock.now()
    assert isinstance(clock, Clock)


def test_naive_and_offset_inputs_become_utc() -> None:
    assert FixedClock(datetime(2020, 1, 1, 12)).now() == datetime(2020, 1, 1, 12, tzinfo=UTC)
    plus2 = datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert FixedClock(plus2).now().hour == 10
    assert FixedClock(plus2).now().tzinfo is UTC
    assert FixedClock("2020-01-01T12:00:00").now().tzinfo is UTC


def test_manual_clock_advances_and_jumps() -> None:
    clock = ManualClock("2020-01-01T00:00:00Z")
    assert clock.advance(90) == datetime(2020, 1, 1, 0, 1, 30, tzinfo=UTC)
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2020, 1, 1, 1, 1, 30, tzinfo=UTC)
    clock.set("2019-12-31T23:00:00Z")
    assert clock.now().year == 2019
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
