"""The shared httpx client of the partner calls (so that callers outside ``client/`` never
import httpx themselves): keep-alive connections on :mod:`ocpikit.client.lanes`, at most
``concurrency`` requests in flight.

:func:`exchange` is how the request driver sends: on a :class:`PartnerHttp` it builds the
``httpx.Request`` itself and hands it to the client's transport through httpx's public
transport interface (``handle_async_request``), skipping the client's per-request machinery
that partner calls never use (cookie jar, auth and redirect flows, event hooks, base URL and
default header merging); on any other ``httpx.AsyncClient`` (a test's, with its hooks) it is
the ordinary ``request``. Proxies from the environment (``HTTP_PROXY``, ``HTTPS_PROXY``,
``ALL_PROXY``, read by httpx as ``trust_env`` says) are honoured: with one set, every call goes
through ``request``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

import httpx

from ocpikit.core.errors import ResponseTooLarge
from ocpikit.protocol.ports import Exchange
from ocpikit.protocol.url_policy import UrlPolicy

from .lane_urls import LaneTarget, lane_target
from .lanes import LaneTransport

__all__ = [
    "MAX_RESPONSE_BYTES",
    "LaneTransport",
    "PartnerHttp",
    "exchange",
    "http_client",
    "read_within",
    "reference_transport",
    "traffic_of",
]

#: what a partner's answer may weigh once decompressed, unless configured
#: (``[limits] max_response_bytes``)
MAX_RESPONSE_BYTES = 8 * 1024 * 1024

_USER_AGENT = "ocpikit"
_DEFAULT_HEADERS = (("Accept-Encoding", "gzip, deflate"), ("User-Agent", _USER_AGENT))
_TIMEOUTS: dict[float | None, dict[str, Any]] = {}
_PROXY_SCHEMES = frozenset({"http", "https", "all"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def http_client(
    *,
    concurrency: int = 32,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
    policy: UrlPolicy | None = None,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> PartnerHttp:
    """An ``httpx.AsyncClient`` for partner calls: at most ``concurrency`` requests (and
    connections) at a time, all kept alive (a delivery worker reuses them for every push).
    ``transport``: instead of the lanes (tests: ``httpx.MockTransport``, or
    :func:`reference_transport`). ``policy``: which URLs and addresses may be called
    (``ocpikit.protocol.url_policy``; None: any). An answer larger than
    ``max_response_bytes`` once decompressed is a :class:`ResponseTooLarge`."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return PartnerHttp(
        limits=limits,
        timeout=timeout,
        transport=transport or LaneTransport(concurrency=concurrency, policy=policy),
        headers={"User-Agent": _USER_AGENT},
        max_response_bytes=max_response_bytes,
    )


def reference_transport(concurrency: int = 32) -> httpx.AsyncHTTPTransport:
    """httpx's own pooled transport with the lanes' limits: the plain implementation the
    lanes replace, kept as the reference their tests compare against."""
    return httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    )


class PartnerHttp(httpx.AsyncClient):
    """The ``httpx.AsyncClient`` of :func:`http_client`, with :meth:`exchange`. It keeps the
    transport it was given as :attr:`transport` (httpx keeps its own copy private)."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(transport=transport, **kwargs)
        self.transport = transport
        self.max_response_bytes = max_response_bytes
        #: where the request driver hands every exchange it had on this client (the exchange
        #: log's batcher, ``ocpikit.operations.exchange_log``; None: not logged). Set by the
        #: composition root (``ocpikit serve``, the CLI commands that call partners).
        self.traffic: Callable[[Exchange], None] | None = None
        #: False when httpx routes some URLs through an environment proxy: then every call
        #: takes ``request``, which knows the routes
        self.direct = not (self.trust_env and _environment_proxies())

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
        if not self.direct:
            return await self.request(
                method, url, headers=headers, content=content, timeout=timeout
            )
        extensions = _TIMEOUTS.get(timeout)
        if extensions is None:
            extensions = _TIMEOUTS[timeout] = {"timeout": httpx.Timeout(timeout).as_dict()}
        transport = self.transport
        if isinstance(transport, LaneTransport) and transport.lean:
            target = lane_target(url)
            if target is not None:
                return await self._direct(
                    transport, method, url, target, headers, content, extensions
                )
        request = _request(method, url, headers, content, extensions)
        response = await self.transport.handle_async_request(request)
        response.request = request
        try:
            return await read_within(response, self.max_response_bytes)
        finally:
            await response.aclose()

    async def _direct(
        self,
        transport: LaneTransport,
        method: str,
        url: str,
        target: LaneTarget,
        headers: dict[str, str],
        content: bytes | None,
        extensions: dict[str, Any],
    ) -> httpx.Response:
        """:meth:`exchange` on lean lanes (:meth:`LaneTransport.send_direct`): the same head
        as :func:`_request` builds, as bytes; the ``httpx.Request`` only when asked for."""
        response = await transport.send_direct(
            method, url, target, _raw_head(method, target, headers, content), content, extensions
        )
        response.request_factory = lambda: _request(method, url, headers, content, extensions)
        try:
            return await read_within(response, self.max_response_bytes)
        finally:
            await response.aclose()


def _raw_head(
    method: str, target: LaneTarget, headers: dict[str, str], content: bytes | None
) -> list[tuple[bytes, bytes]]:
    """The headers :func:`_request` gives ``httpx.Request``, in its order, as bytes (names and
    values ASCII, as httpx encodes them)."""
    raw: list[tuple[bytes, bytes]] = [(b"Host", target.origin.netloc)]
    if content is None and method in _BODY_METHODS:
        raw.append((b"Content-Length", b"0"))
    raw += [(name.encode("ascii"), value.encode("ascii")) for name, value in headers.items()]
    for name, value in _DEFAULT_HEADERS:
        if name not in headers:
            raw.append((name.encode("ascii"), value.encode("ascii")))
    if content is not None:
        raw.append((b"Content-Length", b"%d" % len(content)))
    return raw


async def read_within(response: httpx.Response, limit: int) -> httpx.Response:
    """``response`` read whole, or :class:`ResponseTooLarge` once its decoded body passes
    ``limit`` bytes (a 300 KB gzip answer may decode to 300 MiB: it is never held whole).
    An answer with a ``Content-Length`` within the limit and no content coding is read as it
    is (HTTP/1.1 framing stops it at that length); any other is decoded chunk by chunk, counted,
    and given back as a new response holding the decoded bytes."""
    declared = response.headers.get("content-length", "")
    coded = response.headers.get("content-encoding", "identity").strip().lower() != "identity"
    if declared.isdigit() and int(declared) > limit and not coded:
        raise _too_large(response, limit)
    if declared.isdigit() and not coded:
        await response.aread()
        return response
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_large(response, limit)
        chunks.append(chunk)
    plain = [
        (name, value)
        for name, value in response.headers.raw
        if name.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")
    ]
    return httpx.Response(
        response.status_code,
        headers=plain,
        content=b"".join(chunks),
        request=response.request,
        extensions=response.extensions,
    )


def _too_large(response: httpx.Response, limit: int) -> ResponseTooLarge:
    return ResponseTooLarge(f"The partner's answer is over {limit} bytes once decompressed")


def _request(
    method: str,
    url: str,
    headers: dict[str, str],
    content: bytes | None,
    extensions: dict[str, Any],
) -> httpx.Request:
    """The ``httpx.Request`` that ``httpx.Request(method, url, headers=headers,
    content=content)`` builds (the same headers in the same order: ``Host`` first, then the
    content length), with the client's default headers added, built with ``stream=`` so that
    httpx's header list is made once instead of twice."""
    target = httpx.URL(url)
    raw: list[tuple[str, str]] = [("Host", target.netloc.decode("ascii"))]
    if content is None and method in _BODY_METHODS:
        raw.append(("Content-Length", "0"))
    raw += headers.items()
    for name, value in _DEFAULT_HEADERS:
        if name not in headers:
            raw.append((name, value))
    if content is not None:
        raw.append(("Content-Length", str(len(content))))
    return httpx.Request(
        method,
        target,
        headers=raw,
        stream=httpx.ByteStream(content or b""),
        extensions=extensions,
    )


def _environment_proxies() -> bool:
    """Whether httpx (with ``trust_env``) mounts a proxy from the environment."""
    return bool(_PROXY_SCHEMES & urllib.request.getproxies().keys())


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


def traffic_of(http: httpx.AsyncClient) -> Callable[[Exchange], None] | None:
    """Where the exchanges on ``http`` are logged (:attr:`PartnerHttp.traffic`); None for any
    other client."""
    return http.traffic if isinstance(http, PartnerHttp) else None
