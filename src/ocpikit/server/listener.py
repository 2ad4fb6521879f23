"""The HTTP listener ``ocpikit serve`` runs: uvicorn on its production stack (uvloop's event
loop and the httptools parser, h11 where httptools is not installed) with the platform's
``[limits]`` (docs/security.md, "Limits").

- Header size: a request head (request line and header fields) over ``max_header_bytes`` is
  answered 400 and the connection closed. On httptools both a parsed head and the bytes of a
  head still arriving are counted; on h11 (the fallback) the bound is h11's own limit on an
  incomplete event, so a complete oversized head that arrives in one read passes there.
- Header-read timeout: a connection whose request head has not arrived ``header_timeout``
  seconds (``[limits] header_timeout``) after the connection opened or after the previous
  answer is closed (a client dribbling its headers, "slowloris", cannot hold a connection
  open). uvicorn has no such option; the protocol notes the time in its own hooks and one
  sweep a second closes the overdue connections (:class:`_HeadSweep`).
- Body-read timeout and body size: :class:`~ocpikit.server.adapter.OcpiRequest` (408 and 413).
- Idle keep-alive connections close after ``keep_alive_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator, Sequence
from typing import Any, Literal

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ocpikit.server.settings import DEFAULT_TRUSTED_PROXIES, Limits

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; h11 is the fallback
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

__all__ = [
    "H11HeadProtocol",
    "HttpToolsHeadProtocol",
    "listener_config",
    "listener_protocol",
    "serve",
    "shared_socket",
]


class H11HeadProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on the request head (see the module docstring).

    Plan: no timer per request (timers armed and cancelled at thousands of requests a second
    churn the event loop's heap): a connection notes when it starts waiting for a head (opened,
    or its previous answer sent) and forgets it when a head arrives; one sweep a second, shared
    by the connections of a server, closes those that waited longer than ``header_timeout``.
    The head's size is h11's own limit (``h11_max_incomplete_event_size``)."""

    header_timeout: float = 10.0
    waiting_since: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.waiting_since = self.loop.time()
        _HeadSweep.start(self.loop, self.connections, self.header_timeout)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self.waiting_since = None  # a request head arrived

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self.waiting_since = self.loop.time()


if HttpToolsProtocol is not None:

    class HttpToolsHeadProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with a deadline on the request head and a bound on its
        size (see the module docstring); the deadline as in :class:`H11HeadProtocol`.

        Invariants: ``head_size`` counts the parsed request line and header fields, so a
        complete head over ``max_header_bytes`` is refused; ``head_bytes`` counts every byte
        received while a head was awaited (the parser keeps a header field until it is
        complete), so an incomplete one is refused too once over the limit. A chunk that
        arrives while a body is read is not counted in ``head_bytes`` (a pipelined head it
        starts is under-counted by at most that one chunk)."""

        header_timeout: float = 10.0
        max_header_bytes: int = 16 * 1024
        waiting_since: float | None = None
        head_bytes: int = 0
        head_size: int = 0
        awaiting_head: bool = True

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.waiting_since = self.loop.time()
            _HeadSweep.start(self.loop, self.connections, self.header_timeout)

        def data_received(self, data: bytes) -> None:
            counted = self.awaiting_head
            super().data_received(data)
            if counted and self.awaiting_head and self.parser is not None:
                self.head_bytes += len(data)
                if self.head_bytes > self.max_header_bytes and not self.transport.is_closing():
                    self.send_400_response("Request head too large.")

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

        def _count(self, size: int) -> None:
            """Count ``size`` bytes of a parsed head; over the limit, the parser stops with an
            error (the protocol answers 400 and closes)."""
            self.head_size += size
            if self.head_size > self.max_header_bytes:
                raise ValueError("request head too large")

        def on_headers_complete(self) -> None:
            self.awaiting_head = False
            self.head_bytes = self.head_size = 0
            self.waiting_since = None  # a request head arrived
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self.awaiting_head = True
            super().on_message_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.cycle.response_complete:
                self.waiting_since = self.loop.time()

else:  # pragma: no cover
    HttpToolsHeadProtocol = None  # type: ignore[assignment,misc]


def listener_protocol(limits: Limits) -> type[asyncio.Protocol]:
    """The HTTP protocol class of a listener within ``limits``: httptools where installed."""
    base: type[Any] = (
        HttpToolsHeadProtocol if HttpToolsHeadProtocol is not None else H11HeadProtocol
    )
    return type(
        "ListenerProtocol",
        (base,),
        {"header_timeout": limits.header_timeout, "max_header_bytes": limits.max_header_bytes},
    )


class _HeadSweep:
    """Once a second, close the connections whose head is overdue; runs while any are open."""

    _running: set[int] = set()

    @classmethod
    def start(cls, loop: asyncio.AbstractEventLoop, connections: set[Any], timeout: float) -> None:
        if id(connections) in cls._running:
            return
        cls._running.add(id(connections))

        def sweep() -> None:
            now = loop.time()
            for conn in list(connections):
                since = getattr(conn, "waiting_since", None)
                if since is not None and now - since > timeout:
                    conn.waiting_since = None
                    conn.transport.close()
            if connections:
                loop.call_later(1.0, sweep)
            else:
                cls._running.discard(id(connections))

        loop.call_later(1.0, sweep)


class _SecondListener(uvicorn.Server):
    """A listener next to the main one in the same process: the main one takes the signals
    and runs the app's lifespan; this one stops when the main one has stopped."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other processes may bind too (``SO_REUSEPORT``): the kernel
    spreads the connections over the processes of ``ocpikit serve --workers N``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    main: uvicorn.Config, second: uvicorn.Config | None = None, *, shared: bool = False
) -> None:
    """Run the ``main`` listener (and ``second``, e.g. the backend API on its own port) until
    a signal stops it; ``shared``: on ports other worker processes listen on too."""

    def sockets(config: uvicorn.Config) -> list[socket.socket] | None:
        return [shared_socket(config.host, config.port)] if shared else None

    if second is None:
        uvicorn.Server(main).run(sockets=sockets(main))
        return

    async def both() -> None:
        other = _SecondListener(second)
        task = asyncio.create_task(other.serve(sockets=sockets(second)))
        try:
            await uvicorn.Server(main).serve(sockets=sockets(main))
        finally:
            other.should_exit = True
            await task

    asyncio.run(both())


def listener_config(
    app: Any,
    host: str,
    port: int,
    limits: Limits,
    *,
    lifespan: Literal["auto", "on", "off"] = "auto",
    trusted_proxies: Sequence[str] = DEFAULT_TRUSTED_PROXIES,
) -> uvicorn.Config:
    """The uvicorn configuration of a listener serving ``app`` within ``limits``; a second
    listener of the same app runs with ``lifespan="off"`` (the main one starts and stops it).

    ``trusted_proxies`` (``[server] trusted_proxies``): a request from one of these addresses
    or networks is taken to come from the address its ``X-Forwarded-For`` names, the
    right-most one that is not itself a trusted proxy (so a caller cannot choose its address
    by sending the header itself), and its scheme from ``X-Forwarded-Proto``; from any other
    address both headers are ignored. Empty: never."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=listener_protocol(limits),
        loop="auto",  # uvloop where installed
        h11_max_incomplete_event_size=limits.max_header_bytes,
        timeout_keep_alive=max(1, int(limits.keep_alive_timeout)),
        log_level="warning",
        # uvicorn's records go to the root logger: the platform's format (ocpikit.core.logs)
        log_config=None,
        access_log=False,
        lifespan=lifespan,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) or None,
    )
