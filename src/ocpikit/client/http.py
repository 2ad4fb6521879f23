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
from typing import Any

import httpx

from .lanes import LaneTransport

__all__ = ["LaneTransport", "PartnerHttp", "exchange", "http_client", "reference_transport"]

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
) -> PartnerHttp:
    """An ``httpx.AsyncClient`` for partner calls: at most ``concurrency`` requests (and
    connections) at a time, all kept alive (a delivery worker reuses them for every push).
    ``transport``: instead of the lanes (tests: ``httpx.MockTransport``, or
    :func:`reference_transport`)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return PartnerHttp(
        limits=limits,
        timeout=timeout,
        transport=transport or LaneTransport(concurrency=concurrency),
        headers={"User-Agent": _USER_AGENT},
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

    def __init__(self, *, transport: httpx.AsyncBaseTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self.transport = transport
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
        request = _request(method, url, headers, content, extensions)
        response = await self.transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response


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
