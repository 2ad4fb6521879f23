"""Bounded requests (``[limits]``): body size (413), request rate per connection (429 with
Retry-After), failed authentications per address (429 before any lookup), and unauthenticated
requests logged without their bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ocpikit.core.auth import authorization_header
from ocpikit.core.versions import Role
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.app import platform_of
from ocpikit.server.settings import Limits

from .conftest import Node, Router, make_node
from .test_modules import _location

pytestmark = pytest.mark.anyio

URL = "/ocpi/2.2.1/emsp/locations/NL/CPO/"


async def _pair(limits: Limits) -> tuple[Node, str]:
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,))
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), limits=limits)
    await emsp.register(cpo)
    partner = await cpo.storage.partners.get("DE-MSP")
    assert partner is not None and partner.outbound_token
    return emsp, partner.outbound_token


async def test_a_body_over_the_limit_is_413_and_not_stored() -> None:
    emsp, token = await _pair(Limits(max_body_bytes=2000))
    big = _location(loc_id="BIG") | {"name": "x" * 3000}
    async with emsp.client(token) as http:
        r = await http.put(URL + "BIG", json=big)
        assert r.status_code == 413
        assert r.json()["status_code"] == 2000
        r = await http.put(URL + "OK", json=_location(loc_id="OK"))
        assert r.status_code == 201

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
            for _ in range(10):
                yield b" " * 500

        r = await http.put(URL + "BIG", content=chunks())
        assert r.status_code == 413
    assert await emsp.storage.objects.get(ObjectKey("Location", "NL", "CPO", "BIG")) is None


async def test_a_connection_over_its_rate_gets_429_with_retry_after() -> None:
    emsp, token = await _pair(Limits(requests_per_second=0.5, burst=3))
    async with emsp.client(token) as http:
        codes = [(await http.get("/ocpi/2.2.1/emsp/tokens")).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        r = await http.get("/ocpi/2.2.1/emsp/tokens")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "2"
    assert r.json()["status_code"] == 2000


async def test_an_address_with_many_failed_authentications_is_refused_before_lookup() -> None:
    emsp, token = await _pair(Limits(failed_auth_per_minute=3))
    async with emsp.client("not-a-token") as bad:
        codes = [(await bad.get("/ocpi/2.2.1/emsp/tokens")).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    async with emsp.client(token) as good:  # the same address, now with a good token
        r = await good.get("/ocpi/2.2.1/emsp/tokens")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 50


async def test_an_unauthenticated_request_is_logged_without_its_body() -> None:
    emsp, _token = await _pair(Limits())
    secretish = b'{"payload": "' + b"z" * 5000 + b'"}'
    async with emsp.client() as http:
        r = await http.put(
            URL + "X",
            content=secretish,
            headers={
                "Authorization": authorization_header("wrong", base64_encode=True),
                "Content-Type": "application/json",
            },
        )
    assert r.status_code == 401
    await platform_of(emsp.app).exchange_log.flush()
    logged = await emsp.storage.exchanges.recent(limit=50)
    mine = [e for e in logged if e.url.endswith("/NL/CPO/X")]
    assert mine and mine[0].status == 401 and mine[0].request_body is None


async def test_requests_without_any_token_do_not_count_as_failed_authentications() -> None:
    emsp, token = await _pair(Limits(failed_auth_per_minute=2))
    async with emsp.client() as probe:
        codes = [(await probe.get("/ocpi/versions")).status_code for _ in range(5)]
    assert codes == [401] * 5
    async with emsp.client(token) as good:
        assert (await good.get("/ocpi/2.2.1/emsp/tokens")).status_code == 200
