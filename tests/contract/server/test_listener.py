"""The listener's bounds on request heads (``server/listener.py``), for both HTTP protocols it
may run: httptools (the default) and h11 (the fallback), each serving a small ASGI app from a
uvicorn server in a thread of this process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from ocpikit.server import listener
from ocpikit.server.settings import Limits

LIMITS = Limits(header_timeout=1.0, max_header_bytes=4096)


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = b"got %d" % len(body)
    length = [(b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": length})
    await send({"type": "http.response.body", "body": answer})


def _protocols() -> list[type[Any]]:
    found: list[type[Any]] = [listener.H11HeadProtocol]
    if listener.HttpToolsHeadProtocol is not None:
        found.append(listener.HttpToolsHeadProtocol)
    return found


@pytest.fixture(params=_protocols(), ids=lambda p: p.__name__)
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    config = listener.listener_config(_app, "127.0.0.1", free, LIMITS, lifespan="off")
    config.http = type("P", (request.param,), {"header_timeout": 1.0, "max_header_bytes": 4096})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield free
    server.should_exit = True
    thread.join(10)


def _answer(sock: socket.socket) -> bytes:
    """One answer of ``_app`` (a ``Content-Length`` body)."""
    data = b""
    while True:
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(v)
                for k, _, v in (h.partition(b": ") for h in head.split(b"\r\n"))
                if k.lower() == b"content-length"
            ),
            None,
        )
        if length is not None and len(body) >= length:
            return data
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def test_the_default_protocol_is_httptools_where_installed() -> None:
    chosen: Any = listener.listener_protocol(LIMITS)
    assert issubclass(chosen, _protocols()[-1])
    assert (chosen.header_timeout, chosen.max_header_bytes) == (1.0, 4096)


def test_a_dribbled_head_is_cut_off_after_the_header_timeout(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert slow.recv(1024) == b""  # closed by the server, not answered
        assert 0.5 < time.monotonic() - started < 4


@pytest.mark.parametrize("complete", [False, True])
def test_a_head_over_the_limit_is_refused(
    port: int, complete: bool, request: pytest.FixtureRequest
) -> None:
    if complete and "H11" in request.node.callspec.id:
        pytest.skip("h11 bounds incomplete heads only (the listener's docstring)")
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000
    with socket.create_connection(("127.0.0.1", port), timeout=5) as big:
        big.sendall(head + (b"\r\n\r\n" if complete else b""))
        assert big.recv(1024).startswith(b"HTTP/1.1 400")


def test_a_head_dribbled_in_many_small_parts_is_counted_whole(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        for n in range(40):
            try:
                sock.sendall(b"X-Part-%d: %s\r\n" % (n, b"b" * 200))
            except OSError:
                break
            time.sleep(0.005)
        assert sock.recv(1024).startswith(b"HTTP/1.1 400")


def test_kept_alive_requests_and_large_bodies_pass(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as ok:
        for size in (0, 100_000, 10):  # a body larger than the head limit is not a head
            ok.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size + b"z" * size
            )
            answer = _answer(ok)
            assert answer.startswith(b"HTTP/1.1 200"), answer
            assert answer.endswith(b"got %d" % size), answer
            time.sleep(0.6)  # the deadline is re-armed after each answer, not fired early


async def _client_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers the caller's address as the app sees it (``scope["client"]``)."""
    if scope["type"] != "http":
        return
    answer = scope["client"][0].encode()
    length = [(b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": length})
    await send({"type": "http.response.body", "body": answer})


def _caller_seen(trusted: tuple[str, ...], forwarded_for: str) -> str:
    """The caller's address the app sees behind a listener trusting ``trusted`` proxies, for a
    request from 127.0.0.1 that carries ``X-Forwarded-For: forwarded_for``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    config = listener.listener_config(
        _client_app, "127.0.0.1", free, LIMITS, lifespan="off", trusted_proxies=trusted
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        with socket.create_connection(("127.0.0.1", free), timeout=5) as conn:
            conn.sendall(
                b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: "
                + forwarded_for.encode()
                + b"\r\n\r\n"
            )
            return _answer(conn).partition(b"\r\n\r\n")[2].decode()
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_trusted_proxy_names_the_caller_and_no_one_else_does() -> None:
    # the proxy on this machine (the default) is believed
    assert _caller_seen(("127.0.0.1", "::1"), "203.0.113.5") == "203.0.113.5"
    # a caller that sends the header itself through the proxy cannot pick its address: the
    # right-most address the trusted proxy did not add is the caller
    assert _caller_seen(("127.0.0.1",), "198.51.100.1, 203.0.113.5") == "203.0.113.5"
    # a proxy chain: every trusted hop is skipped
    assert _caller_seen(("127.0.0.1", "10.0.0.0/8"), "203.0.113.5, 10.1.2.3") == "203.0.113.5"
    # not from a trusted proxy, or none trusted: the header is ignored
    assert _caller_seen(("10.0.0.0/8",), "203.0.113.5") == "127.0.0.1"
    assert _caller_seen((), "203.0.113.5") == "127.0.0.1"
