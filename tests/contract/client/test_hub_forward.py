"""The hub's forwarding over HTTP (ocpikit.client.hub_forward): a receiver that does not
answer in time is a 4002, one that cannot be reached a 4003, an error envelope is relayed as it
came, and the probe tells a party that answers from one that does not (OCPI 2.2.1 status_codes
§4xxx)."""

from __future__ import annotations

import httpx
import pytest

from ocpikit.client.hub_forward import HttpHubForwarder
from ocpikit.core.errors import HubConnectionProblem, HubTimeout
from ocpikit.core.headers import PartyRef
from ocpikit.core.versions import InterfaceRole
from ocpikit.protocol.hub_routing import Forward

from .helpers import envelope, mock, partner

pytestmark = pytest.mark.anyio


def forward() -> Forward:
    return Forward(
        partner("2.2.1", role="CPO", pid="NL-CPO"),
        "locations",
        InterfaceRole.SENDER,
        "GET",
        ("NL", "CPO", "LOC1"),
        to_party=PartyRef("NL", "CPO"),
    )


async def test_a_receiver_that_does_not_answer_in_time_is_a_4002() -> None:
    def slow(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=req)

    async with mock(slow) as http:
        with pytest.raises(HubTimeout) as caught:
            await HttpHubForwarder(http, timeout=0.5).forward(forward())
    assert caught.value.status_code == 4002


async def test_a_receiver_that_cannot_be_reached_is_a_4003() -> None:
    def refused(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=req)

    async with mock(refused) as http:
        with pytest.raises(HubConnectionProblem) as caught:
            await HttpHubForwarder(http).forward(forward())
        assert caught.value.status_code == 4003
        assert await HttpHubForwarder(http).probe(forward().partner) is False


async def test_an_error_envelope_is_relayed_as_it_came_and_the_party_counts_as_there() -> None:
    def unknown(req: httpx.Request) -> httpx.Response:
        return httpx.Response(404, content=envelope(None, 2003, with_data=False))

    async with mock(unknown) as http:
        got = await HttpHubForwarder(http).forward(forward())
        assert (got.http_status, got.status_code) == (404, 2003)
        assert await HttpHubForwarder(http).probe(forward().partner) is True


async def test_passed_headers_go_on_and_never_replace_the_ocpi_ones() -> None:
    import dataclasses

    seen: list[httpx.Headers] = []

    def receiver(req: httpx.Request) -> httpx.Response:
        seen.append(req.headers)
        return httpx.Response(200, content=envelope({"id": "LOC1"}))

    passed = {"OCN-Signature": "eyJzaWc", "ocpi-to-party-id": "EVIL", "Authorization": "x"}
    async with mock(receiver) as http:
        await HttpHubForwarder(http).forward(dataclasses.replace(forward(), headers=passed))
    [headers] = seen
    assert headers["ocn-signature"] == "eyJzaWc"
    assert headers.get_list("ocpi-to-party-id") == ["CPO"]
    assert headers.get_list("authorization") != ["x"]
