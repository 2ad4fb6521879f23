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
import ssl
from collections.abc import AsyncIterator, Callable

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
