"""The give-way rule of background work in the server's event loop: it waits while requests
are answered, goes on at once when none is, and never waits longer than its patience."""

from __future__ import annotations

import time

import pytest

from ocpikit.operations.pace import Pace, RequestActivity

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_an_idle_server_is_not_waited_for() -> None:
    pace = Pace(work=0.0, activity=RequestActivity())
    t0 = time.perf_counter()
    for _ in range(20):
        await pace.give_way()
    assert time.perf_counter() - t0 < 0.05


async def test_a_request_being_answered_is_waited_for_up_to_the_patience() -> None:
    activity = RequestActivity()
    activity.enter()
    pace = Pace(work=0.0, rest=0.01, patience=0.1, activity=activity)
    t0 = time.perf_counter()
    await pace.give_way()
    waited = time.perf_counter() - t0
    assert 0.09 <= waited < 0.5  # waited, then took its slice anyway


async def test_the_work_goes_on_once_the_requests_end() -> None:
    import asyncio

    activity = RequestActivity()
    activity.enter()
    pace = Pace(work=0.0, gap=0.02, rest=0.005, patience=10.0, activity=activity)

    async def answer() -> None:
        await asyncio.sleep(0.05)
        activity.leave()

    task = asyncio.create_task(answer())
    t0 = time.perf_counter()
    await pace.give_way()
    waited = time.perf_counter() - t0
    await task
    assert 0.05 + 0.02 <= waited < 1.0  # the answer, then the gap after it
    assert activity.in_flight == 0


async def test_within_its_slice_the_work_does_not_yield() -> None:
    activity = RequestActivity()
    activity.enter()
    pace = Pace(work=10.0, patience=10.0, activity=activity)
    pace._since = time.perf_counter()
    t0 = time.perf_counter()
    await pace.give_way()
    assert time.perf_counter() - t0 < 0.01
