"""The client against the real ocpikit server app in-process (httpx ASGI transports): pulls
into storage, incremental resync, reconciliation, and outbox delivery into a real receiver."""

from __future__ import annotations

from datetime import timedelta

import httpx
import orjson
import pytest

from ocpikit.client.delivery import DeliveryWorker
from ocpikit.client.partner import PartnerClient
from ocpikit.client.sync import pull_into_storage, reconcile, resync
from ocpikit.core.types import format_datetime, parse_datetime
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, Role, Version
from ocpikit.operations import put_own_object
from ocpikit.protocol.paging import DELTA_OVERLAP
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.demo import demo_sessions_and_cdrs, load_demo

from ..server.conftest import Node, Router, make_node

pytestmark = pytest.mark.anyio

VERSIONS = (V2_1_1, V2_2_1, V2_3_0)


async def _pair(version: Version, locations: int = 23) -> tuple[Node, Node, Router]:
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,), (version,))
    await load_demo(cpo.storage, [("NL", "CPO", ("CPO",))], locations=locations)
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), (version,))
    await emsp.register(cpo)
    return cpo, emsp, router


async def _client(node: Node, partner_id: str, http: httpx.AsyncClient) -> PartnerClient:
    p = await node.storage.partners.get(partner_id)
    assert p is not None
    return PartnerClient(p, http)


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_pull_into_storage_then_incremental_resync(version: Version) -> None:
    cpo, emsp, router = await _pair(version)
    async with httpx.AsyncClient(transport=router) as http:
        client = await _client(emsp, "NL-CPO", http)
        seen: list[tuple[int, int | None]] = []
        report = await pull_into_storage(
            client, emsp.storage, "locations", limit=5, progress=lambda n, t: seen.append((n, t))
        )
        assert report.complete and report.created == 23 and report.skipped == 0
        assert report.pages == 5 and seen[-1] == (23, 23)
        page = await emsp.storage.objects.list_page("Location", limit=100, owner="NL-CPO")
        assert page.total == 23
        mine = await cpo.storage.objects.list_page("Location", limit=100, owner=None)
        if version != V2_1_1:  # 2.1.1 is lossy (DIGEST §6.3); later versions round-trip
            theirs = {o.key.id: o.document for o in page.items}
            assert all(theirs[o.key.id] == o.document for o in mine.items)

        # nothing changed: the next pull asks date_from = the mark (less the overlap) and
        # stores nothing
        again = await pull_into_storage(client, emsp.storage, "locations")
        assert again.since == report.started_at - DELTA_OVERLAP
        assert again.created == again.updated == 0

        # one location changes at the CPO: a resync brings exactly that one
        changed = dict(mine.items[3].document)
        changed["name"] = "Renamed"
        stamp = parse_datetime(changed["last_updated"]) + timedelta(days=3650)
        changed["last_updated"] = format_datetime(stamp)
        await cpo.storage.objects.put(
            mine.items[3].key, orjson.dumps(changed), last_updated=stamp, owner=None
        )
        reports = await resync(client, emsp.storage, ["locations"])
        assert [(r.seen, r.updated) for r in reports] == [(1, 1)]
        stored = await emsp.storage.objects.get(mine.items[3].key)
        assert stored is not None and stored.document["name"] == "Renamed"


async def test_a_pull_never_overwrites_a_newer_push() -> None:
    _cpo, emsp, router = await _pair(V2_2_1, locations=4)
    async with httpx.AsyncClient(transport=router) as http:
        client = await _client(emsp, "NL-CPO", http)
        await pull_into_storage(client, emsp.storage, "locations")
        page = await emsp.storage.objects.list_page("Location", limit=10, owner="NL-CPO")
        pushed = dict(page.items[0].document)
        pushed["name"] = "pushed while the pull was in flight"
        stamp = page.items[0].last_updated + timedelta(minutes=5)
        pushed["last_updated"] = format_datetime(stamp)
        await emsp.storage.objects.put(
            page.items[0].key, orjson.dumps(pushed), last_updated=stamp, owner="NL-CPO"
        )
        report = await pull_into_storage(client, emsp.storage, "locations", full=True)
    assert report.stale == 1 and report.updated == 0
    stored = await emsp.storage.objects.get(page.items[0].key)
    assert stored is not None and stored.document["name"] == pushed["name"]


async def test_every_sender_module_is_pulled_by_resync() -> None:
    _cpo, emsp, router = await _pair(V2_2_1, locations=5)
    async with httpx.AsyncClient(transport=router) as http:
        client = await _client(emsp, "NL-CPO", http)
        reports = await resync(client, emsp.storage)
    got = {r.module: r.created for r in reports}
    assert got == {"locations": 5, "tariffs": 3, "sessions": 40, "cdrs": 40}
    assert all(r.complete for r in reports)


async def test_reconciliation_reports_what_differs() -> None:
    _cpo, emsp, router = await _pair(V2_3_0, locations=6)
    async with httpx.AsyncClient(transport=router) as http:
        client = await _client(emsp, "NL-CPO", http)
        await pull_into_storage(client, emsp.storage, "locations")
        page = await emsp.storage.objects.list_page("Location", limit=10, owner="NL-CPO")
        tampered = dict(page.items[0].document)
        tampered["name"] = "tampered here"
        await emsp.storage.objects.put(
            page.items[0].key,
            orjson.dumps(tampered),
            last_updated=page.items[0].last_updated,
            owner="NL-CPO",
        )
        await emsp.storage.objects.delete(page.items[1].key)
        ghost = ObjectKey("Location", "NL", "CPO", "GHOST")
        await emsp.storage.objects.put(
            ghost,
            orjson.dumps({**tampered, "id": "GHOST"}),
            last_updated=page.items[0].last_updated,
            owner="NL-CPO",
        )
        result = await reconcile(client, emsp.storage, "locations")
        assert result.report.different == [page.items[0].key]
        assert result.fields[page.items[0].key] == ["name"]
        assert result.report.missing_here == [page.items[1].key]
        assert result.report.missing_there == [ghost]
        assert result.report.same == 4

        fixed = await reconcile(client, emsp.storage, "locations", apply=True)
        assert fixed.applied == 2
        after = await reconcile(client, emsp.storage, "locations")
        assert after.report.missing_here == [] and after.report.different == []


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_outbox_delivery_into_a_real_receiver(version: Version) -> None:
    cpo, emsp, router = await _pair(version, locations=3)
    sessions, cdrs = demo_sessions_and_cdrs("NL", "CPO", 5)
    keys = []
    for s in sessions:
        active = {**s, "status": "ACTIVE", "end_date_time": None}
        active.pop("end_date_time")
        key = ObjectKey("Session", "NL", "CPO", s["id"])
        await put_own_object(cpo.storage, key, active)
        await put_own_object(cpo.storage, key, s)  # coalesced: only the final state goes out
        keys.append(key)
    for c in cdrs:
        await put_own_object(cpo.storage, ObjectKey("CDR", "NL", "CPO", c["id"]), c)
    assert len(await cpo.storage.outbox.entries()) == 10
    async with httpx.AsyncClient(transport=router) as http:
        outcomes = await DeliveryWorker(cpo.storage, http).run_once()
    assert [o.result for o in outcomes] == ["sent"] * 10, outcomes
    assert await cpo.storage.outbox.entries() == []
    for key in keys:
        stored = await emsp.storage.objects.get(key)
        assert stored is not None and stored.owner == "NL-CPO"
        assert stored.document["status"] == "COMPLETED"
        ours = await cpo.storage.objects.get(key)
        assert ours is not None
        if version == V2_3_0:
            assert stored.document == ours.document
        elif version == V2_2_1:  # 2.2.1 has no tax percentage (declared loss, DIGEST §6.4)
            lossy = {"total_cost"}
            assert {k: v for k, v in stored.document.items() if k not in lossy} == {
                k: v for k, v in ours.document.items() if k not in lossy
            }
    got = await emsp.storage.objects.list_page("CDR", limit=10, owner="NL-CPO")
    assert got.total == 5
