"""The partner HTTP client: lanes of keep-alive connections and the direct exchange path."""

from __future__ import annotations

import asyncio
import importlib.util

import httpx
import orjson
import pytest

from ocpikit.client.http import LaneTransport, http_client, reference_transport
from ocpikit.client.lanes import EAGER_BYTES
from ocpikit.client.partner import PartnerClient
from ocpikit.protocol.ports import ObjectKey

from .helpers import ok, partner, sessions

pytestmark = pytest.mark.anyio


def _loops() -> list[object]:
    """asyncio's own event loop and uvloop's (``ocpikit serve`` runs on uvloop)."""
    if importlib.util.find_spec("uvloop") is None:
        return ["asyncio"]
    return ["asyncio", pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop")]


@pytest.fixture(params=_loops())
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return request.param


REPLY = orjson.dumps({"status_code": 1000, "timestamp": "2024-01-01T00:00:00Z"})


async def test_exchange_sends_the_request_as_httpx_would() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return ok(None)

    async with http_client(transport=httpx.MockTransport(handler)) as http:
        client = PartnerClient(partner("2.2.1", role="EMSP", pid="DE-MSP"), http)
        s = sessions(1)[0]
        status = await client.put_object(
            "Session", ObjectKey("Session", s["country_code"], s["party_id"], s["id"]), s
        )
    assert status == 200
    [req] = seen
    assert req.method == "PUT" and req.url.path.endswith(f"/{s['id']}")
    assert req.headers["host"] == "partner.test"
    assert req.headers["content-length"] == str(len(req.content))
    assert req.headers["authorization"].startswith("Token ")
    assert req.headers["user-agent"] == "ocpikit"
    assert orjson.loads(req.content)["id"] == s["id"]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request's head and body (by its Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


async def _server(stats: dict[str, int], *, close_after: int = 0) -> tuple[asyncio.Server, int]:
    """A keep-alive HTTP/1.1 server counting connections and concurrent requests."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats["connections"] += 1
        served = 0
        try:
            while True:
                await _read_request(reader)
                stats["active"] += 1
                stats["peak"] = max(stats["peak"], stats["active"])
                await asyncio.sleep(0.005)
                stats["active"] -= 1
                served += 1
                last = close_after and served >= close_after
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + (b"Connection: close\r\n" if last else b"")
                    + f"Content-Length: {len(REPLY)}\r\n\r\n".encode()
                    + REPLY
                )
                await writer.drain()
                if last:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, port


@pytest.mark.parametrize("close_after", [0, 3])
async def test_lanes_bound_requests_and_reuse_connections(close_after: int) -> None:
    stats = {"connections": 0, "active": 0, "peak": 0}
    server, port = await _server(stats, close_after=close_after)
    try:
        async with http_client(concurrency=4) as http:
            for _ in range(2):
                replies = await asyncio.gather(
                    *(
                        http.exchange(
                            "PUT",
                            f"http://127.0.0.1:{port}/x/{i}",
                            headers={},
                            content=b"{}",
                            timeout=5,
                        )
                        for i in range(40)
                    )
                )
                assert [r.status_code for r in replies] == [200] * 40
                assert all(r.content == REPLY for r in replies)
            # the plain httpx API goes through the lanes too
            assert (await http.get(f"http://127.0.0.1:{port}/y")).status_code == 200
    finally:
        server.close()
        await server.wait_closed()
    assert stats["peak"] <= 4
    if close_after:  # the server closed connections: new ones were opened, nothing failed
        assert stats["connections"] > 4
    else:  # 81 requests over 4 kept-alive connections
        assert stats["connections"] == 4


async def test_a_lane_is_given_back_when_a_request_fails() -> None:
    transport = LaneTransport(concurrency=1)
    async with httpx.AsyncClient(transport=transport) as http:
        for _ in range(3):  # nothing listens: each attempt fails, the single lane is free again
            with pytest.raises(httpx.ConnectError):
                await http.get("http://127.0.0.1:9/", timeout=2)


async def test_a_broken_connection_is_replaced_not_reused() -> None:
    """A timeout, a malformed answer and a reset each close the lane's connection; the next
    request on the lane opens a new one and succeeds."""
    connections = 0
    behaviours = iter(["hang", "junk", "reset", "ok", "ok"])

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(2)
                what = next(behaviours)
                if what == "hang":
                    await asyncio.sleep(1)
                    return
                if what == "junk":
                    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
                    return
                if what == "reset":
                    return
                writer.write(
                    f"HTTP/1.1 200 OK\r\nContent-Length: {len(REPLY)}\r\n\r\n".encode() + REPLY
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/x"
    try:
        async with http_client(concurrency=1) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.exchange("PUT", url, headers={}, content=b"{}", timeout=0.2)
            with pytest.raises(httpx.RemoteProtocolError):
                await http.exchange("PUT", url, headers={}, content=b"{}", timeout=2)
            with pytest.raises(httpx.RemoteProtocolError):
                await http.exchange("PUT", url, headers={}, content=b"{}", timeout=2)
            for _ in range(2):
                reply = await http.exchange("PUT", url, headers={}, content=b"{}", timeout=2)
                assert reply.status_code == 200 and reply.content == REPLY
    finally:
        server.close()
        await server.wait_closed()
    assert connections == 4  # one per failure, then one kept alive for both successes


async def _echo_server(seen: list[bytes]) -> tuple[asyncio.Server, int]:
    """A keep-alive HTTP/1.1 server recording each request head and answering with an
    envelope that repeats the request line."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head, content = await _read_request(reader)
                seen.append(head + content)
                body = orjson.dumps(
                    {"status_code": 1000, "data": head.split(b"\r\n", 1)[0].decode()}
                )
                writer.write(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Total-Count: 3\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_lanes_send_and_receive_what_the_reference_transport_does() -> None:
    """The lanes against httpx's own pooled transport (the plain implementation they replace):
    the same calls put the same bytes on the wire and give the caller the same answers."""
    calls = [
        ("PUT", "/ocpi/x/NL/CPO/S1", b'{"id":"S1"}'),
        ("GET", "/ocpi/x?offset=2&limit=2&date_from=2024-01-01T00%3A00%3A00Z", None),
        ("POST", "/ocpi/x/tokens/0102/authorize?type=RFID", b""),
        ("PATCH", "/ocpi/x/NL/CPO/S1", None),
        ("DELETE", "/ocpi/x/NL/CPO/T1", None),
    ]
    results: dict[str, tuple[list[bytes], list[tuple[int, list[tuple[str, str]], bytes]]]] = {}
    for name in ("lanes", "reference"):
        seen: list[bytes] = []
        answers: list[tuple[int, list[tuple[str, str]], bytes]] = []
        server, port = await _echo_server(seen)
        transport = None if name == "lanes" else reference_transport(concurrency=2)
        try:
            async with http_client(concurrency=2, transport=transport) as http:
                for method, path, content in calls:
                    reply = await http.exchange(
                        method,
                        f"http://127.0.0.1:{port}{path}",
                        headers={"Accept": "application/json", "X-Request-ID": "r1"},
                        content=content,
                        timeout=5,
                    )
                    answers.append((reply.status_code, list(reply.headers.items()), reply.content))
        finally:
            server.close()
            await server.wait_closed()
        results[name] = ([s.replace(str(port).encode(), b"PORT") for s in seen], answers)
    assert results["lanes"] == results["reference"]
    sent, answers = results["lanes"]
    assert sent[0].startswith(b"PUT /ocpi/x/NL/CPO/S1 HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\n")
    assert b"\r\nContent-Length: 0\r\n" in sent[3]  # a PATCH without a body
    assert [a[0] for a in answers] == [201] * len(calls)


async def test_a_proxy_in_the_environment_sends_every_call_through_the_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx routes URLs through an environment proxy when ``trust_env``; the direct path
    would not, so it is off then."""
    async with http_client() as http:
        assert http.direct
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    async with http_client() as http:
        assert not http.direct


@pytest.mark.parametrize(
    ("method", "content"), [("PUT", b'{"id":"S1"}'), ("PATCH", None), ("GET", None), ("POST", b"")]
)
async def test_exchange_builds_the_request_that_httpx_request_builds(
    method: str, content: bytes | None
) -> None:
    """The direct path against the client's ordinary ``request`` (its plain reference)."""
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return ok(None)

    url = "https://partner.test/ocpi/2.2.1/sessions/NL/CPO/S1?type=RFID"
    headers = {"Accept": "application/json", "Authorization": "Token x"}
    async with http_client(transport=httpx.MockTransport(handler)) as http:
        direct = await http.exchange(method, url, headers=dict(headers), content=content, timeout=5)
        plain = await http.request(
            method, url, headers={**headers, "Accept-Encoding": "gzip, deflate"}, content=content
        )
    assert direct.status_code == plain.status_code and direct.content == plain.content
    fast, reference = seen
    assert (fast.method, fast.url, fast.read()) == (
        reference.method,
        reference.url,
        reference.read(),
    )
    # the same headers (the client's own "Connection: keep-alive" is not merged on the direct
    # path; h11 keeps connections alive without it)
    expected = sorted((k, v) for k, v in reference.headers.items() if k != "connection")
    assert sorted(fast.headers.items()) == expected


async def _sized_server(size: int) -> tuple[asyncio.Server, int]:
    """A keep-alive server whose every answer is ``size`` bytes with a Content-Length."""
    body = b"x" * size

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await _read_request(reader)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize("size", [100, EAGER_BYTES + 1])
async def test_a_small_answer_gives_its_lane_back_before_it_is_read_a_large_one_streams(
    size: int,
) -> None:
    server, port = await _sized_server(size)
    try:
        async with httpx.AsyncClient(transport=LaneTransport(concurrency=1)) as http:
            first = await http.send(
                http.build_request("GET", f"http://127.0.0.1:{port}/a"), stream=True
            )
            second = http.send(http.build_request("GET", f"http://127.0.0.1:{port}/b"), stream=True)
            if size <= EAGER_BYTES:  # read whole already: the one lane is free
                reply = await asyncio.wait_for(second, 5)
                await reply.aclose()
            else:  # still streaming: the lane is busy until the first answer is closed
                task = asyncio.ensure_future(second)
                await asyncio.sleep(0.1)
                assert not task.done()
                assert len(await first.aread()) == size
                await first.aclose()
                reply = await asyncio.wait_for(task, 5)
                await reply.aread()
                await reply.aclose()
            assert len(await first.aread()) == size
            await first.aclose()
    finally:
        server.close()
        await server.wait_closed()
