"""``[exchange_log] sample_reads``: the log keeps one successful read in N per partner and
module (the first one), every failure and every write; the metrics count every request."""

from __future__ import annotations

import pytest

from ocpikit.operations.exchange_log import LogPolicy
from ocpikit.server.app import platform_of

from .conftest import SESSION, Node
from .test_async_modules import _tokens

pytestmark = pytest.mark.anyio


def _requests_counted(node: Node, module: str, status: str) -> float:
    text = platform_of(node.app).metrics.registry
    total = 0.0
    for metric in text.collect():
        for sample in metric.samples:
            labels = sample.labels
            if (
                sample.name == "ocpikit_requests_total"
                and labels.get("direction") == "in"
                and labels.get("module") == module
                and labels.get("status") == status
            ):
                total += sample.value
    return total


async def test_one_read_in_n_is_kept_and_every_failure_and_write(cpo: Node, emsp: Node) -> None:
    to_cpo, to_emsp = await _tokens(cpo, emsp)
    for node in (cpo, emsp):
        log = platform_of(node.app).exchange_log
        await log.flush()
        log.policy = LogPolicy(sample_reads=3)
    before = len(await cpo.storage.exchanges.recent(limit=1000))
    counted_before = _requests_counted(cpo, "locations", "200")
    async with cpo.client(to_cpo) as http:
        for n in range(7):
            r = await http.get(f"/ocpi/2.2.1/cpo/locations?limit=2&offset={n}")
            assert r.status_code == 200, r.text
        for _ in range(2):
            r = await http.get("/ocpi/versions")
            assert r.status_code == 200, r.text
        for _ in range(2):
            r = await http.get("/ocpi/2.2.1/cpo/locations/NOPE")
            assert r.status_code == 404, r.text
    async with emsp.client(to_emsp) as http:
        for n in range(4):
            r = await http.put(
                f"/ocpi/2.2.1/emsp/sessions/NL/CPO/S{n}", json={**SESSION, "id": f"S{n}"}
            )
            assert r.status_code in (200, 201), r.text
    for node in (cpo, emsp):
        await platform_of(node.app).exchange_log.flush()
    logged = (await cpo.storage.exchanges.recent(limit=1000))[: -before or None]
    pages = [e for e in logged if "/cpo/locations?" in e.url]
    # reads 1, 4 and 7 of the seven pages: the first one in every three
    assert sorted(e.url.rsplit("=", 1)[-1] for e in pages) == ["0", "3", "6"]
    # the versions reads are counted apart (another module): the first of two is kept
    assert len([e for e in logged if e.url.endswith("/ocpi/versions")]) == 1
    # a failed read is always kept, whole
    missing = [e for e in logged if e.url.endswith("/NOPE")]
    assert len(missing) == 2 and all(e.status == 404 and e.response_headers for e in missing)
    # every write is kept
    puts = [e for e in await emsp.storage.exchanges.recent(limit=1000) if e.method == "PUT"]
    assert {e.url.rsplit("/", 1)[-1] for e in puts} >= {"S0", "S1", "S2", "S3"}
    # the metrics count every read, kept or not
    assert _requests_counted(cpo, "locations", "200") - counted_before == 7
