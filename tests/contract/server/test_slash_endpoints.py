"""The ``slash_endpoints`` switch: a partner that builds object URLs as the 2.2.1 structure
definitions read, ``{locations_endpoint_url}{country_code}/{party_id}/{location_id}`` with no
slash between (DIGEST §3.0 AMBIG; seen running extrawest-ocpi against ocpikit, docs/testing.md
"Tried against"), is given endpoint URLs that end with ``/``; its pushes then land."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from ocpikit.core.versions import V2_2_1, Role
from ocpikit.server.demo import demo_locations

from .conftest import Node, Router, make_node

pytestmark = pytest.mark.anyio


async def _connected(router: Router) -> tuple[Node, str]:
    """ocpikit as eMSP (``us.test``) and a CPO registered with it; the CPO's token to us."""
    us = make_node(router, "us.test", "DE", "MSP", (Role.EMSP,), (V2_2_1,))
    peer = make_node(router, "peer.test", "NL", "CPO", (Role.CPO,), (V2_2_1,))
    registered = await peer.register(us)
    assert registered.outbound_token is not None
    return us, base64.b64encode(registered.outbound_token.encode()).decode()


async def _locations_url(us: Node, token: str) -> str:
    async with us.client(token) as http:
        details = (await http.get("/ocpi/2.2.1")).json()["data"]
    return next(e["url"] for e in details["endpoints"] if e["identifier"] == "locations")


async def test_endpoint_urls_have_no_trailing_slash_by_default(router: Router) -> None:
    us, token = await _connected(router)
    assert not (await _locations_url(us, token)).endswith("/")


async def test_the_switch_ends_every_url_with_a_slash_and_a_concatenated_push_lands(
    router: Router,
) -> None:
    us, token = await _connected(router)
    assert not (await _locations_url(us, token)).endswith("/")  # remembered by the auth cache
    partner = await us.storage.partners.get("NL-CPO")
    assert partner is not None
    await us.storage.partners.save(dataclasses.replace(partner, settings={"slash_endpoints": True}))
    async with us.client(token) as http:
        details = (await http.get("/ocpi/2.2.1")).json()["data"]
        assert all(e["url"].endswith("/") for e in details["endpoints"])
        base = next(e["url"] for e in details["endpoints"] if e["identifier"] == "locations")
        loc = next(iter(demo_locations("NL", "CPO", 1)))
        url = f"{base}NL/CPO/{loc['id']}"  # the peer's literal concatenation
        put = await http.put(url, json=loc)
        assert put.status_code in (200, 201), put.text
        got = await http.get(url)
    assert got.json()["data"]["id"] == loc["id"]
