"""The partner client calls only the partner's registered hosts: a ``Link`` or a
``response_url`` pointing elsewhere is refused before anything is sent, unless the partner's
``extra_hosts`` switch names the host."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from ocpikit.client.partner import PartnerClient
from ocpikit.protocol.url_policy import UrlRefused

from .helpers import locations, ok, partner

pytestmark = pytest.mark.anyio


async def test_a_link_to_another_host_is_refused() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        link = '<http://169.254.169.254/latest/meta-data>; rel="next"'
        return ok(locations(1), headers={"Link": link, "X-Total-Count": "10"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        client = PartnerClient(partner("2.2.1"), http)
        with pytest.raises(UrlRefused, match="registered hosts"):
            async for _page in client.pages("locations"):
                pass
    assert all("169.254" not in url for url in seen) and len(seen) == 1


async def test_a_response_url_elsewhere_is_refused_unless_switched_on() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return ok()

    result = {"result": "ACCEPTED"}
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        strict = PartnerClient(partner("2.2.1", role="EMSP"), http)
        with pytest.raises(UrlRefused):
            await strict.post_result("https://results.other.example/r/1", result)
        assert seen == []
        trusting = PartnerClient(
            dataclasses.replace(
                partner("2.2.1", role="EMSP"), settings={"extra_hosts": ["results.other.example"]}
            ),
            http,
        )
        await trusting.post_result("https://results.other.example/r/1", result)
    assert seen == ["https://results.other.example/r/1"]
