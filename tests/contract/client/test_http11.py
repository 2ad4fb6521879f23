"""The lean HTTP/1.1 connection of the lanes against httpcore's (the reference it replaces): the
same answers, well-formed or hostile, give the caller the same result (or the same kind of
error), and connections are reused in the same cases."""

from __future__ import annotations

import asyncio
import importlib.util

import httpx
import pytest

from ocpikit.client.http import LaneTransport, http_client

pytestmark = pytest.mark.anyio


def _loops() -> list[object]:
    """asyncio's own event loop and uvloop's (``ocpikit serve`` runs on uvloop)."""
    if importlib.util.find_spec("uvloop") is None:
        return ["asyncio"]
    return ["asyncio", pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop")]


@pytest.fixture(params=_loops())
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return request.param


OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"

#: answers (raw bytes, sent to every request on a connection), by name
ANSWERS: dict[str, bytes] = {
    "length": OK_HEAD + b"Content-Length: 5\r\n\r\nhello",
    "empty": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "no reason": b"HTTP/1.1 201\r\nContent-Length: 2\r\n\r\nok",
    "bare newlines": b"HTTP/1.1 200 OK\nContent-Length: 2\nX-A: b\n\nok",
    "chunked": OK_HEAD
    + b"Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6  \r\n world\r\n0\r\nX-T: 1\r\n\r\n",
    "chunked upper case": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    "chunked and length": b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked"
    b"\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    "until close": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end",
    "http 1.0": b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "connection close": b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n"
    b"Content-Length: 2\r\n\r\nok",
    "no content": b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
    "continue first": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "folded header": b"HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\n\tc\r\nContent-Length: 2\r\n\r\nok",
    "same length twice": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2, 2\r\n\r\nok",
    "spaces around values": b"HTTP/1.1 200 OK\r\nX-A:   b c  \r\nContent-Length:  2 \r\n\r\nok",
    "large": b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + b"x" * 200_000,
    # hostile or broken
    "conflicting lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    "length list": b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
    "negative length": b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok",
    "gzip coding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok",
    "two codings": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
    b"\r\n\r\n0\r\n\r\n",
    "bad status line": b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
    "not http": b"SSH-2.0-OpenSSH\r\n\r\n",
    "leading blank line": b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "control byte first": b"\x16\x03\x01 TLS\r\n\r\n",
    "bad header line": b"HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 2\r\n\r\nok",
    "space before colon": b"HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 2\r\n\r\nok",
    "fold at start": b"HTTP/1.1 200 OK\r\n folded\r\nContent-Length: 2\r\n\r\nok",
    "huge head": b"HTTP/1.1 200 OK\r\n" + b"X-A: " + b"a" * 110_000,
    "bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
    "bad chunk footer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n",
    "switching protocols": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
}

#: answers whose end is the end of the connection: the server closes it after them
CLOSING = frozenset({"until close"})

#: answers that end the connection before they are complete
CUT: dict[str, bytes] = {
    "length cut short": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
    "chunked cut short": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    "head cut short": b"HTTP/1.1 200 OK\r\nContent-Len",
    "nothing": b"",
}


async def _server(answer: bytes, *, close: bool) -> tuple[asyncio.Server, int, list[int]]:
    """Answers every request with ``answer`` (then closes the connection when ``close``);
    counts connections."""
    connections = [0]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections[0] += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        await reader.readexactly(int(line.split(b":", 1)[1]))
                writer.write(answer)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], connections


Outcome = tuple[object, ...]


async def _outcomes(
    answer: bytes, *, lean: bool, close: bool, method: str, exchange: bool = False
) -> list[Outcome]:
    """Two requests in a row on one lane: what each gave the caller, then the connections.
    ``exchange``: through ``PartnerHttp.exchange`` (on lean lanes, its direct path)."""
    server, port, connections = await _server(answer, close=close)
    out: list[Outcome] = []
    try:
        transport = LaneTransport(concurrency=1, lean=lean)
        async with http_client(concurrency=1, transport=transport) as http:
            for n in range(2):
                url = f"http://127.0.0.1:{port}/x/{n}"
                try:
                    if exchange:
                        reply = await http.exchange(
                            method, url, headers={}, content=b"{}", timeout=2
                        )
                    else:
                        reply = await http.request(method, url, content=b"{}", timeout=2)
                except httpx.HTTPError as exc:
                    out.append(("error", type(exc).__name__))
                    continue
                out.append(
                    (
                        reply.status_code,
                        reply.reason_phrase,
                        reply.http_version,
                        reply.headers.raw,
                        reply.content,
                    )
                )
    finally:
        server.close()
        await server.wait_closed()
    out.append(("connections", connections[0]))
    return out


@pytest.mark.parametrize("name", sorted(ANSWERS))
async def test_an_answer_gives_what_httpcore_gives(name: str) -> None:
    await _compare(ANSWERS[name], close=name in CLOSING, method="PUT")


async def _compare(answer: bytes, *, close: bool, method: str) -> list[Outcome]:
    """The lean lanes against httpcore's connection, through httpx's ``request`` and through
    ``PartnerHttp.exchange`` (direct path against the plain one); the lean outcomes."""
    lean = await _outcomes(answer, lean=True, close=close, method=method)
    reference = await _outcomes(answer, lean=False, close=close, method=method)
    assert lean == reference
    direct = await _outcomes(answer, lean=True, close=close, method=method, exchange=True)
    plain = await _outcomes(answer, lean=False, close=close, method=method, exchange=True)
    assert direct == plain
    return lean


@pytest.mark.parametrize("name", sorted(CUT))
async def test_an_answer_cut_short_gives_what_httpcore_gives(name: str) -> None:
    lean = await _compare(CUT[name], close=True, method="PUT")
    assert lean[0][0] == "error"


async def test_a_head_answer_has_no_body_whatever_its_length() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    lean = await _compare(answer, close=False, method="HEAD")
    assert lean[0][-1] == b"" and lean[-1] == ("connections", 1)


def test_the_answers_cover_reuse_and_refusal() -> None:
    """The table holds answers that keep the connection, that end it, and that are refused (so
    the comparison above can fail on each)."""

    async def run() -> set[object]:
        kinds: set[object] = set()
        for name in ("length", "until close", "conflicting lengths"):
            close = name in CLOSING
            outcome = await _outcomes(ANSWERS[name], lean=True, close=close, method="PUT")
            kinds.add((outcome[0][0], outcome[-1]))
        return kinds

    assert asyncio.run(run()) == {
        (200, ("connections", 1)),
        (200, ("connections", 2)),
        ("error", ("connections", 2)),
    }


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "b\r\nX-Injected: 1"}, {"X A": "b"}, {"X-A": "b\x00"}],
    ids=["newline in value", "space in name", "nul in value"],
)
async def test_a_header_h11_refuses_to_send_is_refused(headers: dict[str, str]) -> None:
    server, port, _ = await _server(ANSWERS["length"], close=False)
    errors: list[str] = []
    try:
        for lean in (True, False):
            async with httpx.AsyncClient(transport=LaneTransport(concurrency=1, lean=lean)) as h:
                with pytest.raises(httpx.HTTPError) as caught:
                    await h.get(f"http://127.0.0.1:{port}/x", headers=headers, timeout=2)
                errors.append(type(caught.value).__name__)
    finally:
        server.close()
        await server.wait_closed()
    assert errors == ["LocalProtocolError", "LocalProtocolError"]
