"""The shared httpx client of the partner calls (so that callers outside ``client/`` never
import httpx themselves): keep-alive connections, at most ``concurrency`` requests in flight.

The connections are kept in *lanes*: each lane holds one httpcore HTTP/1.1 connection
(``httpcore.AsyncHTTP11Connection``, on plain asyncio streams) with no pool around it, and a
request takes an idle lane of its origin (or a new one) for its whole exchange. httpx's own pool
scans all its connections (with a ``poll`` syscall per idle connection, and a quadratic count of
idle ones) every time a request starts or ends; at 32-64 connections to one partner that cost
~1 ms of CPU per request, more than the request itself, and even a one-connection pool per lane
cost ~70 us of bookkeeping per request.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
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
_TIMEOUTS: dict[float | None, dict[str, Any]] = {}


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
            extensions = _TIMEOUTS[timeout] = {"timeout": httpx.Timeout(timeout).as_dict()}
        for name, value in _DEFAULT_HEADERS:
            headers.setdefault(name, value)
        transport = self._transport
        if isinstance(transport, LaneTransport) and not self._mounts:
            parsed = transport.prefix(url)
            if parsed is not None:
                prefix, target = parsed
                return await transport.exchange(
                    prefix, method, target, headers, content, extensions
                )
        request = httpx.Request(
            method, url, headers=headers, content=content, extensions=extensions
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
    taken over (its connection is closed and a new one opened).

    A lane holds httpcore's HTTP/1.1 connection itself (no pool around it): a connection that
    is closed (by either side, after an error, a timeout or a cancellation) or idle past
    ``keepalive_expiry`` is replaced when the lane is next taken, never reused."""

    def __init__(self, *, concurrency: int = 32, keepalive_expiry: float = 5.0) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._size = concurrency
        self._expiry = keepalive_expiry
        self._ssl: ssl.SSLContext | None = None
        self._sem: asyncio.Semaphore | None = None
        self._idle: dict[_Origin, list[_Lane]] = {}
        self._lanes: list[_Lane] = []
        self._prefixes: dict[str, _Prefix | None] = {}

    # --- lanes ------------------------------------------------------------------------------
    async def _take(self, origin: _Origin) -> _Lane:
        sem = self._sem
        if sem is None:
            sem = self._sem = asyncio.Semaphore(self._size)
        await sem.acquire()
        try:
            lane = self._idle_lane(origin)
            conn = lane.conn
            if conn is not None and (
                lane.origin != origin or conn.is_closed() or conn.has_expired()
            ):
                lane.conn = None
                await conn.aclose()
            lane.origin = origin
        except BaseException:
            sem.release()
            raise
        return lane

    def _idle_lane(self, origin: _Origin) -> _Lane:
        lanes = self._idle.get(origin)
        if lanes:
            return lanes.pop()
        if len(self._lanes) < self._size:
            lane = _Lane(origin)
            self._lanes.append(lane)
            return lane
        # every lane exists and is busy or idle elsewhere: the semaphore guarantees an idle one
        for other, lanes in self._idle.items():
            if lanes:
                lane = lanes.pop()
                if not lanes:
                    del self._idle[other]
                return lane
        raise RuntimeError("no idle lane")  # pragma: no cover - the semaphore prevents it

    def _give_back(self, lane: _Lane) -> None:
        self._idle.setdefault(lane.origin, []).append(lane)
        assert self._sem is not None
        self._sem.release()

    async def _send(self, lane: _Lane, request: httpcore.Request) -> httpcore.Response:
        conn = lane.conn
        if conn is None:
            conn = lane.conn = await self._connect(request)
        return await conn.handle_async_request(request)

    async def _connect(self, request: httpcore.Request) -> httpcore.AsyncHTTP11Connection:
        origin = request.url.origin
        if origin.scheme not in (b"http", b"https"):
            raise httpcore.UnsupportedProtocol(f"unsupported scheme {origin.scheme!r}")
        timeouts = request.extensions.get("timeout", {})
        timeout = timeouts.get("connect")
        host = origin.host.decode("ascii")
        stream = await _BACKEND.connect_tcp(host, origin.port, timeout=timeout)
        if origin.scheme == b"https":
            if self._ssl is None:  # one context for every lane (building one reads the CA file)
                self._ssl = httpx.create_ssl_context()
                self._ssl.set_alpn_protocols(["http/1.1"])
            sni = request.extensions.get("sni_hostname") or host
            stream = await stream.start_tls(self._ssl, server_hostname=sni, timeout=timeout)
        return httpcore.AsyncHTTP11Connection(
            origin=origin, stream=stream, keepalive_expiry=self._expiry
        )

    # --- the httpx transport API --------------------------------------------------------------
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = request.url
        req = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        lane = await self._take((url.raw_scheme, url.raw_host, url.port))
        try:
            try:
                resp = await self._send(lane, req)
            except _HTTPCORE_ERRORS as exc:
                raise _mapped(exc) from exc
        except BaseException:
            self._give_back(lane)
            raise
        assert isinstance(resp.stream, AsyncIterable)
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_LaneStream(resp.stream, lambda: self._give_back(lane)),
            extensions=resp.extensions,
        )

    # --- the direct path of PartnerHttp.exchange ---------------------------------------------
    def prefix(self, url: str) -> tuple[_Prefix, str] | None:
        """The parsed origin of ``url`` (cached per scheme and authority) and its target; None
        when the URL needs httpx's own parsing (user info, characters to encode, fragments)."""
        start = url.find("://")
        if start < 0:
            return None
        slash = url.find("/", start + 3)
        if slash < 0:
            base, target = url, "/"
        else:
            base, target = url[:slash], url[slash:]
        if not _PLAIN_TARGET(target):
            return None
        try:
            prefix = self._prefixes[base]
        except KeyError:
            prefix = self._prefixes[base] = _parse_prefix(base)
        if prefix is None:
            return None
        return prefix, target

    async def exchange(
        self,
        prefix: _Prefix,
        method: str,
        target: str,
        headers: dict[str, str],
        content: bytes | None,
        extensions: dict[str, Any],
    ) -> httpx.Response:
        """One request with its whole answer read, straight on a lane: as
        ``handle_async_request`` with the response read and closed, without building an
        ``httpx.Request`` (whose URL parsing and header normalisation cost more than h11)."""
        raw = [(b"Host", prefix.host)]
        if content is not None:
            raw.append((b"Content-Length", str(len(content)).encode()))
        elif method in ("POST", "PUT", "PATCH"):
            raw.append((b"Content-Length", b"0"))
        raw += [(k.encode("ascii"), v.encode("ascii")) for k, v in headers.items()]
        req = httpcore.Request(
            method.encode("ascii"),
            httpcore.URL(
                scheme=prefix.scheme, host=prefix.raw_host, port=prefix.port, target=target
            ),
            headers=raw,
            content=content or b"",
            extensions=extensions,
        )
        lane = await self._take(prefix.origin)
        try:
            resp = await self._send(lane, req)
            try:
                body = await resp.aread()
            finally:
                await resp.aclose()
        except _HTTPCORE_ERRORS as exc:
            raise _mapped(exc) from exc
        finally:
            self._give_back(lane)
        return httpx.Response(
            resp.status, headers=resp.headers, content=body, extensions=resp.extensions
        )

    async def aclose(self) -> None:
        lanes, self._lanes = self._lanes, []
        self._idle.clear()
        for lane in lanes:
            conn, lane.conn = lane.conn, None
            if conn is not None:
                await conn.aclose()


class _Lane:
    __slots__ = ("conn", "origin")

    def __init__(self, origin: _Origin) -> None:
        self.origin = origin
        self.conn: httpcore.AsyncHTTP11Connection | None = None


class _Prefix:
    """Scheme and authority of URLs, parsed once by httpx."""

    __slots__ = ("host", "origin", "port", "raw_host", "scheme")

    def __init__(self, url: httpx.URL) -> None:
        self.scheme = url.raw_scheme
        self.raw_host = url.raw_host
        self.port = url.port
        self.host = url.netloc  # the Host header httpx would send
        self.origin: _Origin = (self.scheme, self.raw_host, self.port)


def _parse_prefix(base: str) -> _Prefix | None:
    try:
        url = httpx.URL(base)
    except httpx.InvalidURL:
        return None
    if url.userinfo or url.raw_path not in (b"/", b"") or url.raw_scheme not in (b"http", b"https"):
        return None
    return _Prefix(url)


# a request target that needs no percent-encoding nor fragment stripping
_PLAIN_TARGET = re.compile(r"/[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=%]*").fullmatch

_EXCEPTIONS: dict[type[Exception], type[httpx.HTTPError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.ProtocolError: httpx.ProtocolError,
}


_HTTPCORE_ERRORS = (
    httpcore.NetworkError,
    httpcore.TimeoutException,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)


def _mapped(exc: Exception) -> httpx.HTTPError:
    """The httpx exception of an httpcore one (as httpx's own transport maps them)."""
    for cls in type(exc).__mro__:
        target = _EXCEPTIONS.get(cls)
        if target is not None:
            return target(str(exc))
    return httpx.TransportError(str(exc))  # pragma: no cover - every httpcore error is mapped


class _LaneStream(httpx.AsyncByteStream):
    """A response body that gives its lane back when it is closed (httpx closes it once the
    body is read, or when the caller closes a streamed response)."""

    def __init__(self, stream: AsyncIterable[bytes], release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except _HTTPCORE_ERRORS as exc:
            raise _mapped(exc) from exc

    async def aclose(self) -> None:
        try:
            close = getattr(self._stream, "aclose", None)
            if close is not None:
                await close()
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


async def _within(
    future: asyncio.Future[None], timeout: float | None, error: type[Exception]
) -> None:
    """Await ``future`` for at most ``timeout`` seconds; past it, raise ``error``."""
    try:
        async with asyncio.timeout(timeout):
            await future
    except TimeoutError as exc:
        raise error(str(exc)) from exc


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, protocol: _Protocol) -> None:
        self._p = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._p
        if not p.buffer and not p.eof:
            p.waiter = asyncio.get_running_loop().create_future()
            try:
                await _within(p.waiter, timeout, httpcore.ReadTimeout)
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
                await _within(p.drained, timeout, httpcore.WriteTimeout)
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


async def _connected(
    connecting: Awaitable[tuple[asyncio.BaseTransport, _Protocol]], timeout: float | None
) -> tuple[asyncio.BaseTransport, _Protocol]:
    """A connection within ``timeout``, its failures as httpcore's connect errors."""
    try:
        async with asyncio.timeout(timeout):
            return await connecting
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(str(exc)) from exc
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc


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
        _transport, protocol = await _connected(
            loop.create_connection(_Protocol, host, port, local_addr=local), timeout
        )
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
        _transport, protocol = await _connected(
            loop.create_unix_connection(_Protocol, path), timeout
        )
        return _Stream(protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


_BACKEND = _AsyncioBackend()
