"""Lanes: the connection pool of the partner calls, as an ``httpx.AsyncBaseTransport``.

Plan: each lane holds one HTTP/1.1 connection (:class:`~ocpikit.client.http11.LeanHTTP11Connection`,
or with ``lean=False`` httpcore's ``AsyncHTTP11Connection`` that it replaces, on
:mod:`ocpikit.client.asyncio_network`) with no pool around it, and a request takes an idle lane
of its origin (or a new one) for its whole exchange. httpx's own pool scans every connection it
holds each time a request starts or ends, which at the delivery worker's concurrency costs more
than the request itself; a lane is found in a dict of idle lanes per origin instead. Requests
come in only through httpx's public transport interface (``handle_async_request``), so the lanes
sit under any ``httpx.AsyncClient``. The reference they replace is
``httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=concurrency))``
(:func:`ocpikit.client.http.reference_transport`); the tests send the same requests through both
and compare what the server and the caller see.

A small answer (a ``Content-Length`` of at most :data:`EAGER_BYTES`, no content coding: every
push's answer) is read whole before it is returned, and its lane given back at once: the caller
then reads it from memory instead of through httpx's and httpcore's chain of async iterators,
which cost more than reading the bytes. Larger or coded answers stream as they arrive (the
client counts a decoded body against its size limit chunk by chunk).

Invariants: at most ``concurrency`` requests in flight and connections open; a lane is given back
exactly once, when the response body is closed (a small answer: once it is read) or the request
failed; a connection that was
closed (by either side, after an error, a timeout or a cancellation) or idle past
``keepalive_expiry`` is replaced when its lane is next taken, never reused; when every lane
exists and none is idle for the request's origin, an idle lane of another origin is taken over
(its connection closed, a new one opened); httpcore's exceptions reach the caller as httpx's.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import httpcore
import httpx

from ocpikit.protocol.url_policy import UrlPolicy

from .asyncio_network import ASYNCIO_BACKEND
from .guarded_network import GuardedNetwork
from .http11 import LeanHTTP11Connection
from .lane_urls import LaneTarget

__all__ = ["EAGER_BYTES", "KEEPALIVE_EXPIRY", "DirectResponse", "LaneTransport"]

_Origin = tuple[bytes, bytes, int | None]
_Connection = httpcore.AsyncHTTP11Connection | LeanHTTP11Connection

#: an answer declaring at most this many bytes (and no content coding) is read whole at once
EAGER_BYTES = 64 * 1024
#: seconds a lane's connection may sit idle and still be reused: under the 5 s after which
#: uvicorn (ocpikit's own server) closes an idle connection, so a request is not sent on a
#: connection the server is closing at that moment
KEEPALIVE_EXPIRY = 4.0


class LaneTransport(httpx.AsyncBaseTransport):
    """At most ``concurrency`` requests at a time, each on a lane (one keep-alive connection)
    of its own: see the module docstring. Lanes are reused per origin; when all ``concurrency``
    lanes exist and none is idle for the request's origin, an idle lane of another origin is
    taken over (its connection is closed and a new one opened).

    A lane holds httpcore's HTTP/1.1 connection itself (no pool around it): a connection that
    is closed (by either side, after an error, a timeout or a cancellation) or idle past
    ``keepalive_expiry`` is replaced when the lane is next taken, never reused."""

    def __init__(
        self,
        *,
        concurrency: int = 32,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
        policy: UrlPolicy | None = None,
        lean: bool = True,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        #: with a policy, every URL is checked before a lane is taken and every connection is
        #: dialled to an address the policy checked (``ocpikit.client.guarded_network``)
        self.policy = policy
        self._network: httpcore.AsyncNetworkBackend = (
            GuardedNetwork(policy, ASYNCIO_BACKEND) if policy is not None else ASYNCIO_BACKEND
        )
        #: each lane's connection is :class:`~ocpikit.client.http11.LeanHTTP11Connection`;
        #: False: httpcore's own (the reference it replaces)
        self.lean = lean
        self._size = concurrency
        self._expiry = keepalive_expiry
        self._ssl: ssl.SSLContext | None = None
        self._sem: asyncio.Semaphore | None = None
        self._idle: dict[_Origin, list[_Lane]] = {}
        #: origins (``scheme://authority``) the policy let through (the direct path)
        self._allowed: set[str] = set()
        self._lanes: list[_Lane] = []

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
            conn = lane.conn = await self._connect(request.url.origin, request.extensions)
        return await conn.handle_async_request(request)

    async def _connect(self, origin: httpcore.Origin, extensions: Mapping[str, Any]) -> _Connection:
        if origin.scheme not in (b"http", b"https"):
            raise httpcore.UnsupportedProtocol(f"unsupported scheme {origin.scheme!r}")
        timeouts = extensions.get("timeout", {})
        timeout = timeouts.get("connect")
        host = origin.host.decode("ascii")
        stream = await self._network.connect_tcp(host, origin.port, timeout=timeout)
        if origin.scheme == b"https":
            if self._ssl is None:  # one context for every lane (building one reads the CA file)
                self._ssl = httpx.create_ssl_context()
                self._ssl.set_alpn_protocols(["http/1.1"])
            sni = extensions.get("sni_hostname") or host
            stream = await stream.start_tls(self._ssl, server_hostname=sni, timeout=timeout)
        if self.lean:
            return LeanHTTP11Connection(origin, stream, self._expiry)
        return httpcore.AsyncHTTP11Connection(
            origin=origin, stream=stream, keepalive_expiry=self._expiry
        )

    # --- the httpx transport API --------------------------------------------------------------
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = request.url
        if self.policy is not None:
            self.policy.check_url(str(url))
        core_request = httpcore.Request(
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
                core_response = await self._send(lane, core_request)
            except _HTTPCORE_ERRORS as exc:
                raise _mapped(exc) from exc
        except BaseException:
            self._give_back(lane)
            raise
        if _small(core_response.headers):
            try:
                try:
                    body = await core_response.aread()
                finally:
                    await core_response.aclose()
            except _HTTPCORE_ERRORS as exc:
                raise _mapped(exc) from exc
            finally:
                self._give_back(lane)
            return httpx.Response(
                status_code=core_response.status,
                headers=core_response.headers,
                content=body,
                extensions=core_response.extensions,
            )
        assert isinstance(core_response.stream, AsyncIterable)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_LaneStream(core_response.stream, lambda: self._give_back(lane)),
            extensions=core_response.extensions,
        )

    # --- the direct path ----------------------------------------------------------------------
    async def send_direct(
        self,
        method: str,
        url: str,
        target: LaneTarget,
        headers: Sequence[tuple[bytes, bytes]],
        content: bytes | None,
        extensions: Mapping[str, Any],
    ) -> DirectResponse:
        """What :meth:`handle_async_request` answers to the request ``method url`` with
        ``headers`` (the whole head but the request line) and ``content``, without an
        ``httpx.Request`` nor httpcore's request and response objects: ``target`` is ``url``
        split (:func:`~ocpikit.client.lane_urls.lane_target`). Lean lanes only. The URL
        policy's verdict on an origin is kept: it depends on the scheme and authority only."""
        if not self.lean:
            raise RuntimeError("the direct path needs lean lanes")
        origin = target.origin
        if self.policy is not None and origin.prefix not in self._allowed:
            self.policy.check_url(url)
            self._allowed.add(origin.prefix)
        lane = await self._take(origin.key)
        try:
            try:
                conn = lane.conn
                if conn is None:
                    conn = lane.conn = await self._connect(origin.origin, extensions)
                assert isinstance(conn, LeanHTTP11Connection)
                head, body = await conn.exchange(
                    method.encode("ascii"),
                    target.target,
                    headers,
                    (content or b"",),
                    extensions.get("timeout", {}),
                )
            except _HTTPCORE_ERRORS as exc:
                raise _mapped(exc) from exc
        except BaseException:
            self._give_back(lane)
            raise
        info = conn.extensions(head)
        if _small(head.headers):
            try:
                try:
                    data = b"".join([part async for part in body])
                finally:
                    await body.aclose()
            except _HTTPCORE_ERRORS as exc:
                raise _mapped(exc) from exc
            finally:
                self._give_back(lane)
            return DirectResponse(head.status, headers=head.headers, content=data, extensions=info)
        return DirectResponse(
            head.status,
            headers=head.headers,
            stream=_LaneStream(body, lambda: self._give_back(lane)),
            extensions=info,
        )

    async def aclose(self) -> None:
        lanes, self._lanes = self._lanes, []
        self._idle.clear()
        for lane in lanes:
            conn, lane.conn = lane.conn, None
            if conn is not None:
                await conn.aclose()


def _small(headers: list[tuple[bytes, bytes]]) -> bool:
    """The answer declares a length of at most :data:`EAGER_BYTES` and no content coding."""
    length = None
    for name, value in headers:
        lower = name.lower()
        if lower == b"content-length":
            length = value
        elif lower in (b"content-encoding", b"transfer-encoding"):
            return False
    return length is not None and length.isdigit() and int(length) <= EAGER_BYTES


class DirectResponse(httpx.Response):
    """An answer of :meth:`LaneTransport.send_direct`: its ``request`` is built when first
    asked for (by ``request_factory``), not for every request."""

    request_factory: Callable[[], httpx.Request] | None = None

    @property
    def request(self) -> httpx.Request:
        if self._request is None and self.request_factory is not None:
            self._request = self.request_factory()
        return super().request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value


class _Lane:
    __slots__ = ("conn", "origin")

    def __init__(self, origin: _Origin) -> None:
        self.origin = origin
        self.conn: _Connection | None = None


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
