"""The shared httpx client of the partner calls (so that callers outside ``client/`` never
import httpx themselves): keep-alive connections, at most ``concurrency`` requests in flight.

The connections are kept in *lanes*: each lane is an ``httpx.AsyncHTTPTransport`` holding a
single keep-alive connection, and a request takes an idle lane of its origin (or a new one) for
its whole exchange. httpx's own pool scans all its connections (with a ``poll`` syscall per idle
connection, and a quadratic count of idle ones) every time a request starts or ends; at 32-64
connections to one partner that cost ~1 ms of CPU per request, more than the request itself.
A lane's pool has one connection, so that scan is constant.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["LaneTransport", "PartnerHttp", "exchange", "http_client"]

_Origin = tuple[bytes, bytes, int | None]


def http_client(
    *,
    concurrency: int = 32,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PartnerHttp:
    """An ``httpx.AsyncClient`` for partner calls: at most ``concurrency`` requests (and
    connections) at a time, all kept alive (a delivery worker reuses them for every push).
    ``transport``: instead of the lanes (tests: ``httpx.MockTransport``)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return PartnerHttp(
        limits=limits,
        timeout=timeout,
        transport=transport or LaneTransport(concurrency=concurrency),
        headers={"User-Agent": _USER_AGENT},
    )


_USER_AGENT = "ocpikit"
_DEFAULT_HEADERS = (("Accept-Encoding", "gzip, deflate"), ("User-Agent", _USER_AGENT))
_TIMEOUTS: dict[float | None, dict[str, float | None]] = {}


class PartnerHttp(httpx.AsyncClient):
    """The ``httpx.AsyncClient`` of :func:`http_client`, with :meth:`exchange`: one request
    straight to the transport, without the client's per-request machinery that partner calls
    never use (cookie jar, auth and redirect flows, event hooks, base URL and default header
    merging: together about as much CPU as the HTTP exchange itself)."""

    async def exchange(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        content: bytes | None,
        timeout: float | None,
    ) -> httpx.Response:
        """Send one request and read the whole answer. Raises ``httpx.HTTPError`` as
        ``request`` does; redirects are not followed (as ``request`` by default)."""
        extensions = _TIMEOUTS.get(timeout)
        if extensions is None:
            extensions = _TIMEOUTS[timeout] = httpx.Timeout(timeout).as_dict()
        for name, value in _DEFAULT_HEADERS:
            headers.setdefault(name, value)
        request = httpx.Request(
            method, url, headers=headers, content=content, extensions={"timeout": extensions}
        )
        response = await self._transport_for_url(request.url).handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response


async def exchange(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    content: bytes | None,
    timeout: float | None,
) -> httpx.Response:
    """One request on ``http``: :meth:`PartnerHttp.exchange` for our own client, the ordinary
    ``request`` for any other ``httpx.AsyncClient`` (e.g. a test's, with its hooks)."""
    if isinstance(http, PartnerHttp):
        return await http.exchange(method, url, headers=headers, content=content, timeout=timeout)
    return await http.request(method, url, headers=headers, content=content, timeout=timeout)


class LaneTransport(httpx.AsyncBaseTransport):
    """At most ``concurrency`` requests at a time, each on a lane (one keep-alive connection)
    of its own: see the module docstring. Lanes are reused per origin; when all ``concurrency``
    lanes exist and none is idle for the request's origin, an idle lane of another origin is
    taken over (its connection is closed and a new one opened)."""

    def __init__(self, *, concurrency: int = 32, keepalive_expiry: float = 5.0) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._size = concurrency
        self._expiry = keepalive_expiry
        self._ssl: ssl.SSLContext | None = None
        self._sem: asyncio.Semaphore | None = None
        self._idle: dict[_Origin, list[httpx.AsyncHTTPTransport]] = {}
        self._lanes: list[httpx.AsyncHTTPTransport] = []

    def _new_lane(self) -> httpx.AsyncHTTPTransport:
        if self._ssl is None:  # one context for every lane (building one reads the CA file)
            self._ssl = httpx.create_ssl_context()
        one = httpx.Limits(
            max_connections=1, max_keepalive_connections=1, keepalive_expiry=self._expiry
        )
        lane = httpx.AsyncHTTPTransport(verify=self._ssl, limits=one)
        # the same pool httpx builds, on plain asyncio streams instead of anyio's (whose
        # per-read and per-write cancel scopes cost more than the socket calls)
        lane._pool = httpcore.AsyncConnectionPool(
            ssl_context=self._ssl,
            max_connections=1,
            max_keepalive_connections=1,
            keepalive_expiry=self._expiry,
            network_backend=_BACKEND,
        )
        self._lanes.append(lane)
        return lane

    def _take(self, origin: _Origin) -> httpx.AsyncHTTPTransport:
        lanes = self._idle.get(origin)
        if lanes:
            return lanes.pop()
        if len(self._lanes) < self._size:
            return self._new_lane()
        # every lane exists and is busy or idle elsewhere: the semaphore guarantees an idle one
        for other, lanes in self._idle.items():
            if lanes:
                lane = lanes.pop()
                if not lanes:
                    del self._idle[other]
                return lane
        raise RuntimeError("no idle lane")  # pragma: no cover - the semaphore prevents it

    def _give_back(self, origin: _Origin, lane: httpx.AsyncHTTPTransport) -> None:
        self._idle.setdefault(origin, []).append(lane)
        assert self._sem is not None
        self._sem.release()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sem = self._sem
        if sem is None:
            sem = self._sem = asyncio.Semaphore(self._size)
        await sem.acquire()
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port)
        try:
            lane = self._take(origin)
        except BaseException:
            sem.release()
            raise
        try:
            response = await lane.handle_async_request(request)
        except BaseException:
            self._give_back(origin, lane)
            raise
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        response.stream = _LaneStream(stream, lambda: self._give_back(origin, lane))
        return response

    async def aclose(self) -> None:
        lanes, self._lanes = self._lanes, []
        self._idle.clear()
        for lane in lanes:
            await lane.aclose()


class _LaneStream(httpx.AsyncByteStream):
    """A response body that gives its lane back when it is closed (httpx closes it once the
    body is read, or when the caller closes a streamed response)."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


# --- httpcore on asyncio streams ----------------------------------------------------------------
class _Protocol(asyncio.Protocol):
    """Buffers what the peer sends; one reader at a time (an HTTP/1.1 connection)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False
        self.drained: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, protocol: _Protocol) -> None:
        self._p = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._p
        if not p.buffer and not p.eof:
            p.waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await p.waiter
            except TimeoutError as exc:
                raise httpcore.ReadTimeout(str(exc)) from exc
            finally:
                p.waiter = None
        if p.buffer:
            data = bytes(p.buffer[:max_bytes])
            del p.buffer[:max_bytes]
            return data
        if p.error is not None:
            raise httpcore.ReadError(str(p.error)) from p.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        p = self._p
        if not buffer:
            return
        if p.transport is None or p.transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        p.transport.write(buffer)
        if p.paused:
            p.drained = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await p.drained
            except TimeoutError as exc:
                raise httpcore.WriteTimeout(str(exc)) from exc
            finally:
                p.drained = None
            if p.error is not None:
                raise httpcore.WriteError(str(p.error)) from p.error

    async def aclose(self) -> None:
        if self._p.transport is not None:
            self._p.transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        p = self._p
        assert p.transport is not None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(
                    p.transport, p, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            p.transport.close()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except (OSError, ssl.SSLError) as exc:
            p.transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if tls is None:
            raise httpcore.ConnectError("TLS could not be started")
        p.transport = tls
        return self

    def get_extra_info(self, info: str) -> Any:
        p = self._p
        if info == "is_readable":  # an idle connection the server closed (or sent junk on)
            return p.eof or bool(p.buffer)
        if p.transport is None:
            return None
        if info == "ssl_object":
            return p.transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return p.transport.get_extra_info("sockname")
        if info == "server_addr":
            return p.transport.get_extra_info("peername")
        if info == "socket":
            return p.transport.get_extra_info("socket")
        return None


class _AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[tuple[int, int, int | bytes | None] | Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                _transport, protocol = await loop.create_connection(
                    _Protocol, host, port, local_addr=local
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock = _transport.get_extra_info("socket")
        if sock is not None:  # asyncio sets TCP_NODELAY; any others asked for
            for option in socket_options or ():
                sock.setsockopt(*option)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Stream(protocol)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[tuple[int, int, int | bytes | None] | Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _transport, protocol = await loop.create_unix_connection(_Protocol, path)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _Stream(protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


_BACKEND = _AsyncioBackend()
