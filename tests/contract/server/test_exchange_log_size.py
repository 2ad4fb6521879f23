"""A bounded traffic log: with the default ``[exchange_log] bodies = "failures"`` a page of 100
locations and a Session PUT each cost at most 512 bytes of log (the bench's target), while a
refused request keeps its body for whoever reads the log."""

from __future__ import annotations

import pytest

from ocpikit.protocol.exchanges import stored_size
from ocpikit.server.app import platform_of

from .conftest import SESSION, Node
from .test_async_modules import _tokens

pytestmark = pytest.mark.anyio


async def test_pages_and_puts_cost_a_few_hundred_bytes(cpo: Node, emsp: Node) -> None:
    to_cpo, to_emsp = await _tokens(cpo, emsp)
    async with cpo.client(to_cpo) as http:
        r = await http.get("/ocpi/2.2.1/cpo/locations?limit=100")
        assert r.status_code == 200 and len(r.content) > 10_000
    async with emsp.client(to_emsp) as http:
        r = await http.put("/ocpi/2.2.1/emsp/sessions/NL/CPO/S1", json=SESSION)
        assert r.status_code in (200, 201), r.text
        r = await http.put("/ocpi/2.2.1/emsp/sessions/NL/CPO/S2", json={"id": "S2"})
        assert r.status_code == 400, r.text
    for node in (cpo, emsp):
        await platform_of(node.app).exchange_log.flush()
    [page] = [e for e in await cpo.storage.exchanges.recent(limit=50) if "/cpo/locations" in e.url]
    assert stored_size(page) <= 512, stored_size(page)
    rows = {e.url.rsplit("/", 1)[-1]: e for e in await emsp.storage.exchanges.recent(limit=50)}
    assert stored_size(rows["S1"]) <= 512, stored_size(rows["S1"])
    refused = rows["S2"]  # a failure keeps what was sent and answered
    assert refused.request_body == b'{"id":"S2"}' and refused.request_headers
