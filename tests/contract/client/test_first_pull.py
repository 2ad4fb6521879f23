"""The first pull after a registration (``ocpikit.client.first_pull``), against the real server
app in process: a partner that was never pulled is pulled once, a failing one is retried later,
one pulled before (or present at start) is left to the resyncs."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ocpikit.client.first_pull import FirstPull
from ocpikit.client.partner import PartnerClient
from ocpikit.core.versions import V2_2_1, Role
from ocpikit.protocol.ports import Partner
from ocpikit.server.demo import load_demo

from ..server.conftest import Node, Router, make_node

pytestmark = pytest.mark.anyio


async def _pair() -> tuple[Node, Node, Router]:
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,), (V2_2_1,))
    await load_demo(cpo.storage, [("NL", "CPO", ("CPO",))], locations=7)
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), (V2_2_1,))
    await emsp.register(cpo)
    return cpo, emsp, router


async def _locations(node: Node) -> int:
    page = await node.storage.objects.list_page("Location", limit=1, owner="NL-CPO")
    return page.total


async def test_a_new_partner_is_pulled_once() -> None:
    _cpo, emsp, router = await _pair()
    async with httpx.AsyncClient(transport=router) as http:
        first = FirstPull(emsp.storage, lambda p: PartnerClient(p, http))
        pulled = await first.sweep()
        assert set(pulled) == {"NL-CPO"}
        modules = {r.module: r for r in pulled["NL-CPO"]}
        assert set(modules) == {"locations", "tariffs", "sessions", "cdrs"}
        assert all(r.complete for r in modules.values())
        assert modules["locations"].created == 7 and await _locations(emsp) == 7
        assert await emsp.storage.partners.get_sync_mark("NL-CPO", "locations") is not None
        assert await first.sweep() == {}  # once


async def test_a_partner_pulled_before_is_left_to_the_resyncs() -> None:
    _cpo, emsp, router = await _pair()
    async with httpx.AsyncClient(transport=router) as http:
        await FirstPull(emsp.storage, lambda p: PartnerClient(p, http)).sweep()
        # another process (a restart) finds the marks and pulls nothing
        assert await FirstPull(emsp.storage, lambda p: PartnerClient(p, http)).sweep() == {}


async def test_partners_present_at_start_are_skipped_when_asked() -> None:
    _cpo, emsp, router = await _pair()
    async with httpx.AsyncClient(transport=router) as http:
        first = FirstPull(emsp.storage, lambda p: PartnerClient(p, http), skip_present=True)
        assert await first.sweep() == {}
        assert await _locations(emsp) == 0


async def test_a_failing_partner_is_retried_sooner_first_then_every_retry_delay() -> None:
    _cpo, emsp, router = await _pair()
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the pages' retries wait without waiting
        waits.append(seconds)

    down = httpx.MockTransport(lambda request: httpx.Response(503))
    async with (
        httpx.AsyncClient(transport=down) as broken,
        httpx.AsyncClient(transport=router) as http,
    ):
        clients = {"http": broken}

        def make(p: Partner) -> PartnerClient:
            return PartnerClient(p, clients["http"], sleep=sleep)

        first = FirstPull(emsp.storage, make, retry=60, first_retry=2, monotonic=lambda: now[0])
        failed = await first.sweep()
        assert failed["NL-CPO"] and not any(r.complete for r in failed["NL-CPO"])
        # each module's first page was tried 1 + 5 times before the pull gave up
        assert len(waits) == 5 * len(failed["NL-CPO"])
        assert "failed after 6 attempts: HTTP 503" in (failed["NL-CPO"][0].error or "")
        # tried again after 2 s, then 6 s, 18 s, 54 s, then every 60 s
        for wait in (2, 6, 18, 54, 60, 60):
            now[0] += wait - 0.5
            assert await first.sweep() == {}  # not yet
            now[0] += 0.5
            assert not any(r.complete for r in (await first.sweep())["NL-CPO"])
        clients["http"] = http
        now[0] += 60
        again = await first.sweep()
        assert all(r.complete for r in again["NL-CPO"]) and await _locations(emsp) == 7
        now[0] += 600
        assert await first.sweep() == {}  # pulled: left to the resyncs


async def test_stopping_cancels_a_pull_under_way() -> None:
    _cpo, emsp, _router = await _pair()
    entered = asyncio.Event()

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            entered.set()
            await asyncio.sleep(60)
            raise AssertionError("not reached")

    async with httpx.AsyncClient(transport=Slow()) as slow:
        first = FirstPull(emsp.storage, lambda p: PartnerClient(p, slow))
        stop = asyncio.Event()
        task = asyncio.create_task(first.run(stop))
        await asyncio.wait_for(entered.wait(), 5)
        stop.set()
        await asyncio.wait_for(task, 2)  # well within the background's stop grace
    assert await emsp.storage.partners.get_sync_mark("NL-CPO", "locations") is None
