"""The backend API's operational endpoints, each doing what its CLI command does: register,
invites, one partner, its switches and sync state, unregister, the outbox, a pull."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ocpikit.client.http import http_client
from ocpikit.client.pull_port import pull_port
from ocpikit.operations import put_own_object
from ocpikit.operations.flow_ports import FlowPorts
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.admin import flow_routes
from ocpikit.server.app import create_app, platform_of

from .conftest import SESSION, Node

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer admin-secret"}


async def test_register_through_the_api_then_read_switch_sync_and_unregister(
    cpo: Node, emsp: Node
) -> None:
    token = (await cpo.invite())["token"]
    async with emsp.client() as http:
        r = await http.post(
            "/admin/api/registrations", json={"versions_url": cpo.versions_url}, headers=ADMIN
        )
        assert r.status_code == 400 and "token" in r.json()["error"]
        r = await http.post(
            "/admin/api/registrations",
            json={"versions_url": cpo.versions_url, "token": token, "profile": "gireve"},
            headers=ADMIN,
        )
        assert r.status_code == 201, r.text
        assert r.json()["id"] == "NL-CPO" and r.json()["status"] == "REGISTERED"
        one = (await http.get("/admin/api/partners/NL-CPO", headers=ADMIN)).json()
        assert one["profile"] == "gireve" and "sync" in one and one["switches"]
        r = await http.patch(
            "/admin/api/partners/NL-CPO/switches",
            json={"switches": {"pull_retries": 7}},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        retries = next(s for s in r.json()["switches"] if s["name"] == "pull_retries")
        assert retries["value"] == 7 and retries["source"] != "default"
        r = await http.patch(
            "/admin/api/partners/NL-CPO/switches", json={"profile": "nope"}, headers=ADMIN
        )
        assert r.status_code == 400 and "profile" in r.json()["error"]
        assert (await http.get("/admin/api/partners/NL-CPO/sync", headers=ADMIN)).json() == {}
        assert (await http.get("/admin/api/partners/XX-NONE", headers=ADMIN)).status_code == 404
        r = await http.delete("/admin/api/partners/NL-CPO", headers=ADMIN)
        assert r.status_code == 204
        assert await emsp.storage.partners.get("NL-CPO") is None
    # the registration's own calls are in the traffic log, out, as credentials and versions
    rows = await emsp.storage.exchanges.recent(limit=50)
    assert {e.module for e in rows if e.direction.value == "out"} >= {"versions", "credentials"}


async def test_invites_are_listed_without_tokens_and_revoked(cpo: Node) -> None:
    async with cpo.client() as http:
        created = (await http.post("/admin/api/invites", headers=ADMIN)).json()
        listed = (await http.get("/admin/api/invites", headers=ADMIN)).json()
        assert [i["id"] for i in listed] == [created["id"]]
        assert created["token"] not in str(listed)
        r = await http.delete(f"/admin/api/invites/{created['id']}", headers=ADMIN)
        assert r.status_code == 204
        assert (await http.get("/admin/api/invites", headers=ADMIN)).json() == []
        r = await http.delete(f"/admin/api/invites/{created['id']}", headers=ADMIN)
        assert r.status_code == 404


async def test_outbox_lists_and_replays_dead_letters(cpo: Node, emsp: Node) -> None:
    await emsp.register(cpo)
    await put_own_object(cpo.storage, ObjectKey("Session", "NL", "CPO", "S1"), SESSION)
    [entry] = await cpo.storage.outbox.claim("w", limit=5, lease=timedelta(seconds=30))
    assert await cpo.storage.outbox.bury(entry, reason="partner said 2001")
    async with cpo.client() as http:
        page = (await http.get("/admin/api/outbox?state=dead", headers=ADMIN)).json()
        assert page["counts"]["dead"] == 1
        [row] = page["entries"]
        assert row["dead_reason"] == "partner said 2001" and row["object"] == "NL/CPO/S1"
        r = await http.get("/admin/api/outbox?state=lost", headers=ADMIN)
        assert r.status_code == 400 and "state" in r.json()["error"]
        r = await http.post(f"/admin/api/outbox/replay?entry={row['id']}", headers=ADMIN)
        assert r.json() == {"replayed": 1}
        page = (await http.get("/admin/api/outbox", headers=ADMIN)).json()
        assert page["counts"]["dead"] == 0 and page["counts"]["pending"] == 1


async def test_a_pull_through_the_api_is_stored_and_logged_out(cpo: Node, emsp: Node) -> None:
    await emsp.register(cpo)
    calls = http_client(transport=emsp.router)
    ports = FlowPorts(emsp.storage, reach=None, base_url=emsp.settings.base_url)  # type: ignore[arg-type]
    app = create_app(
        emsp.settings,
        emsp.storage,
        extra_routes=flow_routes(ports, pull=pull_port(emsp.storage, calls)),
    )
    calls.traffic = platform_of(app).exchange_log.record
    emsp.router.add("emsp-admin.test", app)
    async with calls, emsp.client() as http:
        url = "http://emsp-admin.test/admin/api/partners/NL-CPO/pull"
        r = await http.post(url, json={"module": "teapots"}, headers=ADMIN)
        assert r.status_code == 400 and r.json()["error"].startswith("module: ")
        r = await http.post(url, json={"since": "yesterday"}, headers=ADMIN)
        assert r.status_code == 400 and "since" in r.json()["error"]
        r = await http.post(url, json={"module": "locations"}, headers=ADMIN)
        assert r.status_code == 200, r.text
        [report] = r.json()
        assert report["module"] == "locations" and report["created"] == 25
        sync = (
            await http.get("http://emsp-admin.test/admin/api/partners/NL-CPO/sync", headers=ADMIN)
        ).json()
        assert sync["locations"]["objects"] == 25 and sync["locations"]["last_sync"]
    await platform_of(app).exchange_log.flush()
    pulled = await emsp.storage.exchanges.recent(limit=100)
    assert any(
        e.direction.value == "out" and e.module == "locations" and e.method == "GET" for e in pulled
    )
