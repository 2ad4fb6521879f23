"""Pulls that survive an unreliable partner, over real HTTP on loopback (``fault_partner``):
pages retried on 429 (after its ``Retry-After``), 500, timeouts and truncated bodies until every
object is stored; a pull that gives up says why and the next one goes on from the page after
the last one stored; a delta pull re-reads the second it started in (OCPI 2.2.1
``transport_and_format`` §Pagination, §Offline behaviour)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ocpikit.client.http import http_client
from ocpikit.client.partner import PartnerClient
from ocpikit.client.sync import pull_into_storage
from ocpikit.core.errors import PullFailed
from ocpikit.protocol.paging import DELTA_OVERLAP
from ocpikit.protocol.ports import ObjectKey, Partner
from ocpikit.storage.memory import MemoryStorage

from .fault_partner import RETRY_AFTER, FaultPartner, stamped
from .helpers import BASE, FakeClock, locations, partner

pytestmark = pytest.mark.anyio

OBJECTS = 23  # five pages of five, the last one of three
STAMP = "2024-03-01T10:00:00Z"


def _at(fake: FaultPartner, settings: dict[str, Any]) -> Partner:
    """The test partner (a CPO on 2.2.1) with its endpoints at ``fake``."""
    p = partner("2.2.1", settings={"timeout": 1.0, **settings})
    return dataclasses.replace(
        p,
        versions_url=f"{fake.base}/versions",
        endpoints=tuple(
            dataclasses.replace(e, url=e.url.replace(BASE, fake.base)) for e in p.endpoints
        ),
    )


class Waits:
    """The sleep the retries wait with: records each wait and returns at once."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def fake() -> AsyncIterator[FaultPartner]:
    async with FaultPartner(stamped(locations(OBJECTS), STAMP)) as server:
        yield server


async def _stored(storage: MemoryStorage) -> set[str]:
    page = await storage.objects.list_page("Location", limit=100, owner="NL-CPO")
    return {o.key.id for o in page.items}


async def test_every_fault_is_retried_until_every_object_is_stored(
    fake: FaultPartner, caplog: pytest.LogCaptureFixture
) -> None:
    fake.faults = {
        (0, 1): "429",
        (5, 1): "500",
        (5, 2): "short",
        (10, 1): "timeout",
        (15, 1): "cut",
        (20, 1): "429",
        (20, 2): "500",
    }
    waits = Waits()
    storage = MemoryStorage()
    async with http_client() as http:
        client = PartnerClient(_at(fake, {}), http, sleep=waits, rng=random.Random(5))
        report = await pull_into_storage(client, storage, "locations", limit=5)
    assert report.complete and report.created == OBJECTS and report.pages == 5
    assert await _stored(storage) == {i["id"] for i in locations(OBJECTS)}
    # one attempt per fault and one that worked, for every page
    assert [fake.attempts[o] for o in (0, 5, 10, 15, 20)] == [2, 3, 2, 2, 3]
    # the 429s were waited out exactly; every other failure backed off in [base/2, base·2^n]
    assert len(waits.seconds) == 7
    assert waits.seconds[0] == RETRY_AFTER and waits.seconds[5] == RETRY_AFTER
    others = [w for i, w in enumerate(waits.seconds) if i not in (0, 5)]
    assert all(0.25 <= w <= 1.0 for w in others), others
    told = " | ".join(r.getMessage() for r in caplog.records if r.name == "ocpikit.client")
    for what in (
        "page 1 of locations: HTTP 429; attempt 2 of 6 in 2.0 s",
        "page 2 of locations: HTTP 500, OCPI status 3000",
        "page 2 of locations: truncated body (RemoteProtocolError)",
        "page 3 of locations: timeout (ReadTimeout)",
        "page 4 of locations: truncated body (no OCPI envelope), HTTP 200",
    ):
        assert what in told
    assert await storage.partners.get_pull_resume("NL-CPO", "locations") is None


async def test_retry_after_is_honoured_in_real_time(fake: FaultPartner) -> None:
    fake.faults = {(5, 1): "429"}
    async with http_client() as http:
        client = PartnerClient(_at(fake, {}), http)  # the real asyncio.sleep
        report = await pull_into_storage(client, MemoryStorage(), "locations", limit=5)
    assert report.created == OBJECTS
    [(refused, *_), (retried, *_)] = [entry for entry in fake.log if entry[1] == 5]
    assert retried - refused >= RETRY_AFTER - 0.05


async def test_a_pull_that_gives_up_says_why_and_the_next_goes_on_where_it_stopped(
    fake: FaultPartner,
) -> None:
    fake.down = {10}
    waits = Waits()
    clock = FakeClock()
    storage = MemoryStorage(clock=clock)
    settings = {"pull_retries": 3}
    async with http_client() as http:
        client = PartnerClient(_at(fake, settings), http, clock=clock, sleep=waits)
        with pytest.raises(PullFailed) as info:
            await pull_into_storage(client, storage, "locations", limit=5)
        failed_at = clock.now()
        err = info.value
        assert (err.page, err.attempts, err.partner_http_status, err.ocpi_status) == (
            3,
            4,
            500,
            3000,
        )
        assert err.message.startswith(
            "page 3 of locations failed after 4 attempts: HTTP 500, OCPI status 3000, "
            "after 3 waits of"
        )
        assert len(waits.seconds) == 3
        # the first two pages are kept, and where to go on is recorded
        assert len(await _stored(storage)) == 10
        resume = await storage.partners.get_pull_resume("NL-CPO", "locations")
        assert resume is not None and (resume.offset, resume.pages) == (10, 2)
        assert "offset=10" in resume.url and resume.started_at == failed_at
        assert await storage.partners.get_sync_mark("NL-CPO", "locations") is None

        # the partner is back: the next pull starts at page 3, not at the first page
        fake.down.clear()
        fake.log.clear()
        clock.advance(600)
        report = await pull_into_storage(client, storage, "locations", limit=5)
    assert [entry[1] for entry in fake.log] == [10, 15, 20]
    assert report.complete and report.resumed_at == 10 and report.created == 13
    assert len(await _stored(storage)) == OBJECTS
    # the mark is when the interrupted pull started: nothing changed meanwhile is skipped
    assert await storage.partners.get_sync_mark("NL-CPO", "locations") == failed_at
    assert await storage.partners.get_pull_resume("NL-CPO", "locations") is None


async def test_a_pull_with_another_window_starts_afresh(fake: FaultPartner) -> None:
    fake.down = {10}
    storage = MemoryStorage()
    async with http_client() as http:
        client = PartnerClient(_at(fake, {"pull_retries": 0}), http)
        with pytest.raises(PullFailed, match=r"failed after 1 attempt: HTTP 500"):
            await pull_into_storage(client, storage, "locations", limit=5)
        fake.down.clear()
        fake.log.clear()
        since = datetime(2024, 1, 1, tzinfo=UTC)
        report = await pull_into_storage(client, storage, "locations", since=since, limit=5)
    assert fake.log[0][1] == 0 and fake.log[0][2]["date_from"] == "2024-01-01T00:00:00Z"
    assert report.resumed_at is None and report.created == OBJECTS - 10
    assert report.unchanged == 10  # the first two pages again: same content, not rewritten


async def test_a_recorded_page_that_is_gone_for_good_starts_the_pull_afresh(
    fake: FaultPartner,
) -> None:
    fake.down = {10}
    storage = MemoryStorage()
    async with http_client() as http:
        client = PartnerClient(_at(fake, {"pull_retries": 0}), http)
        with pytest.raises(PullFailed):
            await pull_into_storage(client, storage, "locations", limit=5)
        fake.down.clear()
        fake.faults[(10, 2)] = "gone"  # the recorded URL: 404 (say, its cursor expired)
        fake.log.clear()
        report = await pull_into_storage(client, storage, "locations", limit=5)
    assert [entry[1] for entry in fake.log] == [10, 0, 5, 10, 15, 20]
    assert report.complete and report.resumed_at is None
    assert (report.created, report.unchanged) == (OBJECTS - 10, 10)
    assert await storage.partners.get_pull_resume("NL-CPO", "locations") is None


async def test_a_delta_pull_sees_an_update_made_in_the_second_the_last_pull_started(
    fake: FaultPartner,
) -> None:
    clock = FakeClock()
    clock.t = datetime(2024, 3, 1, 12, 0, 0, 700_000, tzinfo=UTC)
    storage = MemoryStorage(clock=clock)
    objects = locations(OBJECTS)
    fake.items = stamped(objects[:20], "2024-03-01T11:00:00Z")
    fake.items += stamped(objects[20:], "2024-03-01T11:59:59Z")
    async with http_client() as http:
        client = PartnerClient(_at(fake, {}), http, clock=clock)
        first = await pull_into_storage(client, storage, "locations", limit=5)
        assert first.created == OBJECTS
        # after our pull started (12:00:00.700) the partner changes one Location, stamping it
        # in whole seconds: 12:00:00, before our start
        changed = {**fake.items[4], "name": "changed in the same second"}
        fake.items[4] = {**changed, "last_updated": "2024-03-01T12:00:00Z"}
        clock.advance(60)
        fake.log.clear()
        second = await pull_into_storage(client, storage, "locations", limit=5)
    assert second.since == first.started_at - DELTA_OVERLAP
    assert fake.log[0][2]["date_from"] == "2024-03-01T11:59:58.700Z"
    # the overlap brings the three Locations stamped 11:59:59 again: deduplicated
    assert (second.seen, second.updated, second.unchanged, second.created) == (4, 1, 3, 0)
    stored = await storage.objects.get(ObjectKey("Location", "NL", "CPO", changed["id"]))
    assert stored is not None and stored.document["name"] == "changed in the same second"


async def test_the_partners_switches_win_over_the_platforms_defaults() -> None:
    from ocpikit.client.background import background_config
    from ocpikit.protocol.pull_retry import RetryPolicy

    platform = background_config({"outbox": {"pull_retries": 7, "pull_max_wait": 3}})
    assert platform.pull_defaults == RetryPolicy(retries=7, max_wait=3.0)
    assert background_config({}).pull_defaults == RetryPolicy()
    with pytest.raises(ValueError, match=r"outbox\.pull_retries"):
        background_config({"outbox": {"pull_retries": "many"}})
    async with http_client() as http:
        own = PartnerClient(
            partner(settings={"pull_retries": 1}), http, pull_defaults=platform.pull_defaults
        )
        assert own.driver.pull_retry == RetryPolicy(retries=1, max_wait=3.0)
        bad = {"pull_retries": -1, "pull_max_wait": "long"}
        fallback = PartnerClient(partner(settings=bad), http, pull_defaults=platform.pull_defaults)
        assert fallback.driver.pull_retry == RetryPolicy(retries=7, max_wait=3.0)
        never = PartnerClient(partner(settings={"pull_retries": 0, "pull_max_wait": 0}), http)
        assert never.driver.pull_retry == RetryPolicy(retries=0, max_wait=0.0)


async def test_a_case_sensitive_hubs_ids_differing_only_in_case_are_not_merged() -> None:
    """With ``case_sensitive_ids`` (e-clearing.net), the hub's ``loc-3`` and ``LOC-3`` are two
    objects: the second is refused (logged, counted), never merged into the first."""
    items = stamped(locations(4), STAMP)
    twin = {**items[3], "id": items[3]["id"].swapcase(), "name": "the other one"}
    async with FaultPartner([*items, twin]) as fake:
        storage = MemoryStorage()
        async with http_client() as http:
            client = PartnerClient(_at(fake, {"case_sensitive_ids": True}), http)
            report = await pull_into_storage(client, storage, "locations", limit=5)
        # (refused once per reading: the walk reads the last page again, missing one object)
        assert report.created == 4 and report.refused >= 1
        stored = await storage.objects.get(ObjectKey("Location", "NL", "CPO", items[3]["id"]))
        assert stored is not None and stored.document["id"] == items[3]["id"]
        assert stored.document.get("name") != "the other one"
        # without the switch the twin overwrites (CiString ids, OCPI types §CiString)
        storage = MemoryStorage()
        async with http_client() as http:
            client = PartnerClient(_at(fake, {}), http)
            report = await pull_into_storage(client, storage, "locations", limit=5)
        assert report.created == 4 and report.updated == 1
