"""The partner client against recorded and misbehaving partners (httpx.MockTransport)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from ocpikit.client.partner import (
    PartnerBusy,
    PartnerClient,
    PartnerHttpError,
    parse_retry_after,
)
from ocpikit.core.errors import (
    InvalidOrMissingParameters,
    PartnerError,
    RemoteProtocolError,
    TransportError,
    UnknownToken,
)

from .helpers import BASE, TOKEN, envelope, locations, mock, ok, partner

pytestmark = pytest.mark.anyio

B64 = "Token " + base64.b64encode(TOKEN.encode()).decode()
RAW = "Token " + TOKEN


# --- auth -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("version", "expected"), [("2.1.1", RAW), ("2.2.1", B64), ("2.3.0", B64)])
async def test_authorization_follows_the_version(version: str, expected: str) -> None:
    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req.headers["authorization"])
        return ok([])

    async with mock(handler) as http:
        client = PartnerClient(partner(version), http)
        [p async for p in client.pages("locations")]
    assert seen == [expected]


async def test_a_401_is_retried_with_the_other_encoding_and_the_choice_is_remembered() -> None:
    seen: list[str] = []
    learned: list[tuple[str, bool]] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req.headers["authorization"])
        if req.headers["authorization"] != RAW:  # a 2.2 partner that wants the raw token
            return httpx.Response(401, content=envelope(None, 2000, with_data=False))
        return ok([])

    async def remember(pid: str, encode: bool) -> None:
        learned.append((pid, encode))

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1"), http, on_auth_learned=remember)
        [p async for p in client.pages("locations")]
        [p async for p in client.pages("tariffs")]
    assert seen == [B64, RAW, RAW]  # second call starts with what worked
    assert learned == [("NL-CPO", False)]
    assert client.encode_auth is False


async def test_the_encode_auth_switch_wins_over_the_version_default() -> None:
    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req.headers["authorization"])
        return httpx.Response(401, content=b"")

    async with mock(handler) as http:
        client = PartnerClient(
            partner("2.2.1", settings={"encode_auth": False, "auth_retry": False}), http
        )
        with pytest.raises(PartnerHttpError) as info:
            await client.get_sender_object("locations", "LOC1")
    assert seen == [RAW]
    assert info.value.partner_http_status == 401


# --- headers ----------------------------------------------------------------------------------
async def test_request_ids_and_routing_headers_on_2_2_functional_modules() -> None:
    requests: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        requests.append(req)
        return ok({"result": "ACCEPTED", "timeout": 30})

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1"), http)
        await client.send_command(
            "START_SESSION",
            {"response_url": "https://us.test/cmd/1", "token": _token(), "location_id": "LOC1"},
            correlation_id="corr-1",
        )
    h = requests[0].headers
    assert h["x-correlation-id"] == "corr-1"
    assert h["x-request-id"] and h["x-request-id"] != "corr-1"
    assert (h["ocpi-from-country-code"], h["ocpi-from-party-id"]) == ("DE", "MSP")
    assert (h["ocpi-to-country-code"], h["ocpi-to-party-id"]) == ("NL", "CPO")
    assert h["content-type"] == "application/json"
    assert str(requests[0].url) == f"{BASE}/2.2.1/commands/START_SESSION"


async def test_2_1_1_has_no_ids_nor_routing_and_reads_a_bare_command_result() -> None:
    requests: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        requests.append(req)
        return ok("ACCEPTED")  # the original 2.1.1 tables: a bare CommandResponseType

    async with mock(handler) as http:
        client = PartnerClient(partner("2.1.1"), http)
        answer = await client.send_command(
            "STOP_SESSION", {"response_url": "https://us.test/cmd/2", "session_id": "S1"}
        )
    assert answer["result"] == "ACCEPTED"
    names = {k.lower() for k in requests[0].headers}
    assert not names & {"x-request-id", "x-correlation-id", "ocpi-to-party-id"}


def _token() -> dict[str, object]:
    return {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": "0102",
        "type": "RFID",
        "contract_id": "DE-MSP-C1",
        "issuer": "x",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2024-03-01T12:00:00Z",
    }


# --- pagination -------------------------------------------------------------------------------
class Pager:
    """A Sender list with Link headers; ``quirk`` changes how it misbehaves."""

    def __init__(self, items: list[dict], page: int, quirk: str = "") -> None:
        self.items, self.page, self.quirk = items, page, quirk
        self.calls: list[str] = []

    def __call__(self, req: httpx.Request) -> httpx.Response:
        self.calls.append(str(req.url))
        q = parse_qs(urlsplit(str(req.url)).query)
        offset = int(q.get("offset", ["0"])[0])
        limit = min(int(q.get("limit", [str(self.page)])[0]), self.page)
        chunk = self.items[offset : offset + limit]
        headers = {"X-Total-Count": str(len(self.items)), "X-Limit": str(self.page)}
        nxt = offset + len(chunk)
        if nxt < len(self.items) and self.quirk != "no-link":
            target = f"/ocpi/2.2.1/locations?offset={nxt}&limit={limit}"
            headers["Link"] = (
                f"<{target}>; rel=next"
                if self.quirk == "relative"
                else f'<https://partner.test{target}>; rel="next"'
            )
        if self.quirk == "loop":
            headers["Link"] = f'<{BASE}/2.2.1/locations?offset=0&limit={limit}>; rel="next"'
        return ok(chunk, headers=headers)


@pytest.mark.parametrize("quirk", ["", "relative", "no-link"])
async def test_pull_follows_pages_one_at_a_time(quirk: str) -> None:
    items = locations(7)
    pager = Pager(items, page=3, quirk=quirk)
    async with mock(pager) as http:
        client = PartnerClient(partner("2.2.1"), http)
        pages = client.pages("locations")
        first = await pages.__anext__()
        assert len(pager.calls) == 1  # lazily: nothing more fetched yet
        rest = [p async for p in pages]
    got = [i.key.id for p in [first, *rest] for i in p.items]
    assert got == [i["id"] for i in items]
    assert len(pager.calls) == 3


async def test_limit_1_walks_every_object() -> None:
    items = locations(4)
    pager = Pager(items, page=10)
    async with mock(pager) as http:
        client = PartnerClient(partner("2.2.1"), http)
        got = [o.key.id async for o in client.pull("locations", limit=1)]
    assert got == [i["id"] for i in items]
    assert len(pager.calls) == 4
    assert "limit=1" in pager.calls[0]


async def test_a_link_back_to_a_seen_page_is_not_followed_forever() -> None:
    pager = Pager(locations(5), page=2, quirk="loop")
    async with mock(pager) as http:
        client = PartnerClient(partner("2.2.1"), http)
        pages = [p async for p in client.pages("locations", limit=2)]
    # the first page asked twice, then the walk goes on by X-Total-Count and ends
    assert len(pages) <= 5
    assert {i.key.id for p in pages for i in p.items} == {loc["id"] for loc in locations(5)}


async def test_invalid_objects_are_skipped_and_the_rest_processed() -> None:
    items = locations(3)
    broken = dict(items[1])
    del broken["coordinates"]
    page = [items[0], broken, "not an object", items[2]]

    async with mock(lambda req: ok(page)) as http:
        client = PartnerClient(partner("2.2.1"), http)
        [result] = [p async for p in client.pages("locations")]
    assert [i.key.id for i in result.items] == [items[0]["id"], items[2]["id"]]
    assert [s.index for s in result.skipped] == [1, 2]
    assert result.skipped[0].id == items[1]["id"]
    assert any("coordinates" in p for p in result.skipped[0].problems)


async def test_2_1_1_objects_get_their_owner_from_the_credentials() -> None:
    from ocpikit.convert import convert

    item, _ = convert(locations(1)[0], "Location", "2.3.0", "2.1.1")
    item.pop("country_code", None)
    item.pop("party_id", None)
    async with mock(lambda req: ok([item])) as http:
        client = PartnerClient(partner("2.1.1"), http)
        [obj] = [o async for o in client.pull("locations")]
    assert (obj.key.country_code, obj.key.party_id) == ("NL", "CPO")
    assert obj.head["country_code"] == "NL"


async def test_sessions_are_pulled_with_date_from_always() -> None:
    calls: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(str(req.url))
        return ok([])

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1"), http)
        [p async for p in client.pages("sessions")]
        since = datetime(2024, 2, 1, tzinfo=UTC)
        [p async for p in client.pages("cdrs", date_from=since)]
    assert "date_from=1970-01-01T00%3A00%3A00Z" in calls[0]
    assert "date_from=2024-02-01T00%3A00%3A00Z" in calls[1]


# --- errors -----------------------------------------------------------------------------------
async def test_429_carries_retry_after() -> None:
    async with mock(
        lambda r: httpx.Response(429, headers={"Retry-After": "7"}, text="slow down")
    ) as http:
        client = PartnerClient(partner("2.2.1"), http)
        with pytest.raises(PartnerBusy) as info:
            await client.get_sender_object("locations", "L1")
    assert info.value.retry_after == 7.0
    assert info.value.partner_http_status == 429


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Fri, 01 Mar 2024 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("garbage", now) is None
    assert parse_retry_after("-3", now) == 0.0


async def test_a_500_html_page_is_a_remote_protocol_error() -> None:
    async with mock(lambda r: httpx.Response(500, text="<html>oops</html>")) as http:
        client = PartnerClient(partner("2.2.1"), http)
        with pytest.raises(RemoteProtocolError) as info:
            await client.get_sender_object("locations", "L1")
    assert isinstance(info.value, PartnerHttpError) and info.value.partner_http_status == 500


async def test_timeouts_and_refused_connections_are_wrapped() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=req)

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1"), http)
        with pytest.raises(TransportError) as info:
            await client.get_sender_object("locations", "L1")
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert TOKEN not in str(info.value) and TOKEN not in (info.value.detail or "")


async def test_an_error_envelope_is_the_partners_error_of_its_code() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(404, content=envelope(None, 2004, with_data=False))

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1", role="EMSP"), http)
        with pytest.raises(UnknownToken) as info:
            await client.authorize("0102", location={"location_id": "LOC1"})
    assert isinstance(info.value, PartnerError)
    assert info.value.partner_http_status == 404


async def test_a_rejected_push_names_the_partners_code() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(400, content=envelope(None, 2001, with_data=False))

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1", role="EMSP"), http)
        loc = locations(1)[0]
        with pytest.raises(InvalidOrMissingParameters):
            await client.put_object("Location", _key(loc), loc)


# --- pushes -----------------------------------------------------------------------------------
def _key(doc: dict) -> object:
    from ocpikit.protocol.ports import ObjectKey

    return ObjectKey("Location", doc["country_code"], doc["party_id"], doc["id"])


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
async def test_push_converts_to_the_partners_version(version: str) -> None:
    from ocpikit.models import model_for

    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return ok(None, 201)

    loc = locations(1)[0]
    async with mock(handler) as http:
        client = PartnerClient(partner(version, role="EMSP"), http)
        status = await client.put_object("Location", _key(loc), loc)
    assert status == 201
    assert str(seen[0].url) == f"{BASE}/{version}/locations/NL/CPO/{loc['id']}"
    model_for(version, "Location").model_validate(orjson.loads(seen[0].content))


async def test_cdr_post_returns_the_location_header() -> None:
    from .helpers import cdrs

    def handler(req: httpx.Request) -> httpx.Response:
        assert req.method == "POST" and str(req.url) == f"{BASE}/2.2.1/cdrs"
        return ok(None, 201, {"Location": f"{BASE}/2.2.1/cdrs/NL/CPO/CDR00001"})

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1", role="EMSP"), http)
        where = await client.post_cdr(cdrs(1)[0])
    assert where and where.endswith("/CDR00001")
