"""What operations watch: outbound exchanges in the traffic log (``GET /admin/api/exchanges``),
``/metrics`` (Prometheus text, counters that move with traffic), ``/health`` and ``/ready``."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ocpikit.client.http import http_client
from ocpikit.client.partner import PartnerClient
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.app import create_app, platform_of
from ocpikit.storage.memory import MemoryStorage

from .conftest import SESSION, Node

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer admin-secret"}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels (the parser is the check)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _total(samples: dict[Any, float], name: str, **labels: str) -> float:
    return sum(
        v
        for (n, ls), v in samples.items()
        if n == name and all(dict(ls).get(k) == w for k, w in labels.items())
    )


async def _scrape(node: Node) -> dict[Any, float]:
    async with node.client() as http:
        r = await http.get("/metrics", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return _samples(r.text)


async def _pushing_client(cpo: Node, partner_id: str) -> tuple[PartnerClient, Any]:
    """The CPO's client to ``partner_id`` over the in-process router, its calls logged like
    ``ocpikit serve`` logs them."""
    partner = await cpo.storage.partners.get(partner_id)
    assert partner is not None
    http = http_client(transport=cpo.router)
    http.traffic = platform_of(cpo.app).exchange_log.record
    return PartnerClient(partner, http), http


async def _exchanges(node: Node, query: str) -> dict[str, Any]:
    await platform_of(node.app).exchange_log.flush()
    async with node.client() as http:
        r = await http.get(f"/admin/api/exchanges?{query}", headers=ADMIN)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_push_and_a_pull_are_logged_out_redacted_with_subject(
    cpo: Node, emsp: Node
) -> None:
    await emsp.register(cpo)
    client, http = await _pushing_client(cpo, "DE-MSP")
    token = client.partner.outbound_token
    async with http:
        key = ObjectKey("Session", "NL", "CPO", "S1")
        assert await client.put_object("Session", key, SESSION) in (200, 201)
        pages = [page async for page in client.pages("tokens")]
        assert pages
    out = await _exchanges(cpo, "direction=out&partner=DE-MSP")
    rows = out["exchanges"]
    assert {r["direction"] for r in rows} == {"out"}
    put = next(r for r in rows if r["method"] == "PUT")
    assert put["module"] == "sessions" and put["object_id"] == "S1"
    assert put["status"] in (200, 201) and put["ocpi_status"] == 1000
    assert put["request_id"] and put["correlation_id"]
    assert '"id":"S1"' in put["request_body"].replace(" ", "")
    pull = next(r for r in rows if r["method"] == "GET")
    assert pull["module"] == "tokens" and pull["status"] == 200
    # the same exchange seen from the other side: the eMSP logged it in
    inbound = await _exchanges(emsp, "direction=in&module=sessions&object_id=S1")
    assert [r["request_id"] for r in inbound["exchanges"]] == [put["request_id"]]
    # never the token, in any form
    assert token and token not in str(out)
    # a successful exchange keeps no headers at all ([exchange_log] bodies = "failures"); a
    # failed one keeps them redacted (the next test)
    assert put["request_headers"] == [] and put["response_headers"] == []
    # filters narrow it down
    only = await _exchanges(cpo, "direction=out&module=sessions&object_id=S1&status=2xx")
    assert [r["id"] for r in only["exchanges"]] == [put["id"]]
    assert (await _exchanges(cpo, "direction=out&status=error"))["exchanges"] == []
    assert (await _exchanges(cpo, "direction=out&since=2999-01-01T00:00:00Z"))["exchanges"] == []


async def test_a_failed_call_is_logged_out_as_an_error(cpo: Node, emsp: Node) -> None:
    await emsp.register(cpo)
    client, http = await _pushing_client(cpo, "DE-MSP")
    gone = dataclasses.replace(
        client.partner,
        endpoints=tuple(
            dataclasses.replace(e, url=e.url.replace("emsp.test", "gone.test"))
            for e in client.partner.endpoints
        ),
    )
    async with http:
        with pytest.raises(Exception, match="reach the partner"):
            await PartnerClient(gone, http).put_object(
                "Session", ObjectKey("Session", "NL", "CPO", "S1"), SESSION
            )
    rows = (await _exchanges(cpo, "direction=out&status=error"))["exchanges"]
    assert len(rows) == 1 and rows[0]["status"] is None and "ConnectError" in rows[0]["error"]
    scrape = await _scrape(cpo)
    assert scrape[("ocpikit_partner_reachable", (("partner", "DE-MSP"),))] == 0


async def test_pages_of_the_traffic_log(cpo: Node, emsp: Node) -> None:
    await emsp.register(cpo)
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None
    async with cpo.client(partner.outbound_token) as http:
        for _ in range(5):
            assert (await http.get("/ocpi/versions")).status_code == 200
    first = await _exchanges(cpo, "direction=in&partner=DE-MSP&limit=3")
    assert len(first["exchanges"]) == 3 and first["next_before"] == first["exchanges"][-1]["id"]
    rest = await _exchanges(cpo, f"direction=in&partner=DE-MSP&before={first['next_before']}")
    ids = [r["id"] for r in first["exchanges"] + rest["exchanges"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids)) >= 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("direction=sideways", "direction"),
        ("since=yesterday", "since"),
        ("status=teapot", "status"),
        ("limit=many", "limit"),
        ("before=x", "before"),
    ],
)
async def test_bad_traffic_filters_are_2001_naming_the_field(
    cpo: Node, query: str, field: str
) -> None:
    async with cpo.client() as http:
        r = await http.get(f"/admin/api/exchanges?{query}", headers=ADMIN)
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    assert field in r.json()["error"]


async def test_metrics_parse_and_move_with_traffic(cpo: Node, emsp: Node) -> None:
    await emsp.register(cpo)
    before = await _scrape(cpo)
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None
    async with cpo.client(partner.outbound_token) as http:
        for _ in range(3):
            assert (await http.get("/ocpi/2.3.0/cpo/locations")).status_code == 200
    client, http = await _pushing_client(cpo, "DE-MSP")
    async with http:
        await client.put_object("Session", ObjectKey("Session", "NL", "CPO", "S1"), SESSION)
    after = await _scrape(cpo)
    # the eMSP registered: the CPO's calls back came in under a pending partner's id
    partners = {dict(labels).get("partner") for _, labels in await _scrape(emsp)}
    assert "pending" in partners  # the registration's calls, under one label
    assert not any(str(p).startswith("pending-") for p in partners)
    counter = "ocpikit_requests_total"
    inbound = dict(direction="in", module="locations", role="cpo", status="200", partner="DE-MSP")
    assert _total(after, counter, **inbound) - _total(before, counter, **inbound) == 3
    out = dict(direction="out", module="sessions", partner="DE-MSP")
    assert _total(after, counter, **out) - _total(before, counter, **out) == 1
    latency = "ocpikit_request_duration_seconds_count"
    assert _total(after, latency, direction="in", module="locations") >= 3
    assert after[("ocpikit_partner_reachable", (("partner", "DE-MSP"),))] == 1
    assert after[("ocpikit_partner_status", (("partner", "DE-MSP"), ("status", "REGISTERED")))]


async def test_queue_and_lag_gauges_are_read_at_scrape_time(cpo: Node, emsp: Node) -> None:
    await emsp.register(cpo)
    from ocpikit.operations import put_own_object

    for n in range(3):
        await put_own_object(
            cpo.storage, ObjectKey("Session", "NL", "CPO", f"S{n}"), {**SESSION, "id": f"S{n}"}
        )
    clock_now = platform_of(cpo.app).clock.now()
    await cpo.storage.partners.set_sync_mark("DE-MSP", "tokens", clock_now)
    scrape = await _scrape(cpo)
    assert scrape[("ocpikit_outbox_entries", (("partner", "DE-MSP"), ("state", "pending")))] == 3
    assert scrape[("ocpikit_outbox_oldest_age_seconds", (("partner", "DE-MSP"),))] >= 0
    lag = scrape[("ocpikit_pull_lag_seconds", (("module", "tokens"), ("partner", "DE-MSP")))]
    assert 0 <= lag < 60


async def test_metrics_need_the_admin_token_unless_public(cpo: Node) -> None:
    async with cpo.client() as http:
        assert (await http.get("/metrics")).status_code == 401
        assert (
            await http.get("/metrics", headers={"Authorization": "Bearer no"})
        ).status_code == 401
    public = dataclasses.replace(cpo.settings, metrics_public=True)
    cpo.router.add("public.test", create_app(public, cpo.storage))
    async with cpo.client() as http:
        r = await http.get("http://public.test/metrics")
    assert r.status_code == 200
    assert any(f.name == "ocpikit_requests" for f in text_string_to_metric_families(r.text))


async def test_health_and_ready(cpo: Node, tmp_path: Any) -> None:
    async with cpo.client() as http:
        assert (await http.get("/health")).json() == {"status": "ok"}
        r = await http.get("/ready")
    assert r.status_code == 200 and r.json() == {"status": "ready"}
    from ocpikit.storage.sql import SqlStorage, upgrade

    url = f"sqlite:///{tmp_path / 'ready.db'}"
    storage = SqlStorage.from_url(url)
    try:
        cpo.router.add("sql.test", create_app(cpo.settings, storage))
        async with cpo.client() as http:
            r = await http.get("http://sql.test/ready")
            assert r.status_code == 503 and "migration" in r.json()["problems"][0]
            upgrade(url)
            r = await http.get("http://sql.test/ready")
            assert r.status_code == 200, r.text
    finally:
        await storage.aclose()


async def test_memory_storage_is_always_ready() -> None:
    assert await MemoryStorage().readiness() == []


async def test_the_dashboard_and_the_docs_name_only_metrics_that_exist(
    cpo: Node, emsp: Node
) -> None:
    import re
    from pathlib import Path

    from ocpikit.operations import put_own_object

    await emsp.register(cpo)
    await put_own_object(cpo.storage, ObjectKey("Session", "NL", "CPO", "S1"), SESSION)
    await cpo.storage.partners.set_sync_mark("DE-MSP", "tokens", platform_of(cpo.app).clock.now())
    client, http = await _pushing_client(cpo, "DE-MSP")
    async with http:
        await client.put_object("Session", ObjectKey("Session", "NL", "CPO", "S1"), SESSION)
    names = {name for name, _ in await _scrape(cpo)}
    docs = Path(__file__).resolve().parents[3] / "docs"
    for doc in ("grafana-dashboard.json", "operations.md"):
        named = set(re.findall(r"\bocpikit_[a-z_]+", (docs / doc).read_text()))
        assert named, doc
        families = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in names}
        assert named <= names | families, (doc, named - names)


async def test_an_unreachable_database_is_not_ready() -> None:
    from ocpikit.storage.sql import SqlStorage

    storage = SqlStorage.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_size=1)
    try:
        [problem] = await storage.readiness()
    finally:
        await storage.aclose()
    assert problem.startswith("database unreachable: ")
