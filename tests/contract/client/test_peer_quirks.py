"""The partner client against the deviations of a real third-party OCPI server, seen when
ocpikit ran against it (docs/testing.md, "Tried against"), each reproduced here with our own
data over httpx.MockTransport:

- a ``Link`` header that is not a usable URL (``https`` on an ``http`` server, an enum's repr in
  the path, ``date_from=None``): the ``ignore_link`` switch pages by offset instead;
- an answer that is one object sent as a list of one (``data: [{CommandResponse}]``): the
  ``single_object_lists`` switch reads its element;
- a real-time authorization of an unknown token answered HTTP 404 without an OCPI envelope:
  the token is unknown (OCPI 2.2.1 mod_tokens §POST), whatever the body says.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from ocpikit.client.partner import PartnerClient
from ocpikit.core.errors import (
    OcpiError,
    PartnerError,
    PullFailed,
    RemoteProtocolError,
    UnknownToken,
)

from .helpers import BASE, locations, mock, ok, partner

pytestmark = pytest.mark.anyio

LIST_URL = f"{BASE}/2.2.1/locations"


def _broken_link_server(objects: list[dict[str, Any]], seen: list[str]) -> Any:
    """A Sender that pages by offset/limit and names its next page with a Link that does not
    lead anywhere (the scheme, path and query of the peer's)."""

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(str(req.url))
        if not str(req.url).startswith(LIST_URL):
            return httpx.Response(404, content=b'{"detail": "Not Found"}')
        query = parse_qs(urlsplit(str(req.url)).query)
        offset = int(query.get("offset", ["0"])[0])
        limit = int(query.get("limit", ["2"])[0])
        page = objects[offset : offset + limit]
        headers = {"X-Total-Count": str(len(objects)), "X-Limit": str(limit)}
        if offset + limit < len(objects):
            headers["Link"] = (
                "<https://partner.test/ocpi/cpo/VersionNumber.v_2_2_1/ModuleID.locations/"
                f'?date_from=None&date_to=None&offset={offset + limit}&limit={limit}>; rel="next"'
            )
        return ok(page, headers=headers)

    return handler


async def _pull(settings: dict[str, Any], seen: list[str]) -> list[str]:
    objects = locations(5)
    async with mock(_broken_link_server(objects, seen)) as http:
        client = PartnerClient(partner("2.2.1", settings=settings), http)
        ids: list[str] = []
        async for page in client.pages("locations"):
            ids += [item.key.id for item in page.items]
        return ids


async def test_a_broken_link_fails_the_pull_without_the_switch() -> None:
    seen: list[str] = []
    with pytest.raises((PullFailed, PartnerError, RemoteProtocolError)):
        await _pull({"pull_retries": 0}, seen)
    assert "VersionNumber" in seen[-1]  # the Link was followed as the partner gave it


async def test_ignore_link_pages_by_offset_and_gets_every_object(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []
    with caplog.at_level(logging.WARNING, "ocpikit.client"):
        ids = await _pull({"ignore_link": True}, seen)
    assert ids == [loc["id"] for loc in locations(5)]
    assert all(url.startswith(LIST_URL) for url in seen)
    assert len(seen) == 3
    assert "switch ignore_link" in caplog.text


# --- one object as a list of one -------------------------------------------------------------
def _token() -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": "AABBCCDD",
        "type": "RFID",
        "contract_id": "DE-MSP-C00000001-X",
        "issuer": "us",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2024-03-01T00:00:00Z",
    }


async def _command(settings: dict[str, Any]) -> dict[str, Any]:
    def handler(req: httpx.Request) -> httpx.Response:
        return ok([{"result": "ACCEPTED", "timeout": 30, "message": []}])

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1", settings=settings), http)
        return await client.send_command(
            "START_SESSION",
            {"response_url": "https://us.test/cmd/1", "token": _token(), "location_id": "LOC1"},
        )


async def test_a_command_response_in_a_list_is_refused_without_the_switch() -> None:
    with pytest.raises(RemoteProtocolError):
        await _command({})


async def test_single_object_lists_reads_the_command_response() -> None:
    assert (await _command({"single_object_lists": True}))["result"] == "ACCEPTED"


async def test_single_object_lists_reads_an_authorization_info_and_a_location() -> None:
    loc = locations(1)[0]

    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path.endswith("/authorize"):
            return ok([{"allowed": "ALLOWED", "token": _token()}])
        return ok([loc])

    async with mock(handler) as http:
        emsp = PartnerClient(
            partner("2.2.1", role="EMSP", settings={"single_object_lists": True}), http
        )
        info = await emsp.authorize("AABBCCDD", location={"location_id": "LOC1"})
        cpo = PartnerClient(partner("2.2.1", settings={"single_object_lists": True}), http)
        got = await cpo.get_sender_object("locations", loc["id"])
    assert info["allowed"] == "ALLOWED"
    assert got["id"] == loc["id"]


async def test_a_list_of_two_stays_refused_with_the_switch() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        answer = {"result": "ACCEPTED", "timeout": 30}
        return ok([answer, answer])

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1", settings={"single_object_lists": True}), http)
        with pytest.raises(RemoteProtocolError):
            await client.send_command(
                "STOP_SESSION", {"response_url": "https://us.test/cmd/2", "session_id": "S1"}
            )


# --- an unknown token answered with a bare 404 ------------------------------------------------
async def test_a_bare_404_to_an_authorization_is_an_unknown_token() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(404, content=orjson.dumps({"detail": "Not found"}))

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1", role="EMSP"), http)
        with pytest.raises(UnknownToken) as info:
            await client.authorize("0102", location={"location_id": "LOC1"})
    assert isinstance(info.value, PartnerError)
    assert info.value.partner_http_status == 404


async def test_a_bare_500_to_an_authorization_is_not_an_unknown_token() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(500, content=b"oops")

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1", role="EMSP", settings={"timeout": 1}), http)
        with pytest.raises(OcpiError) as info:
            await client.authorize("0102")
    assert not isinstance(info.value, UnknownToken)
