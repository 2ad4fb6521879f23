"""URLs of the direct lane path (:meth:`ocpikit.client.lanes.LaneTransport.send_direct`): a
partner URL split into its origin and its request target without building an ``httpx.URL``
per request.

Plan of the speed trick: the origins of a platform's partners are few and its URLs many (an
object id in every path), and ``httpx.URL`` parses, validates and re-encodes the whole URL each
time (half the cost of building a request). Here the origin part (``scheme://host[:port]``)
is parsed once by ``httpx.URL`` itself and kept; the rest of the URL is taken as the request
target as it is when it is made only of characters ``httpx.URL`` leaves unchanged.

Invariant (held by the tests against ``httpx.URL``, the reference): :func:`lane_target` either
gives None (the caller builds the ``httpx.URL``) or exactly what ``httpx.URL`` gives: scheme,
host, port, the ``Host`` header value (``netloc``) and the request target (``raw_path``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpcore
import httpx

__all__ = ["LaneTarget", "lane_target"]

#: what ``httpx.URL`` keeps as it is in a path and a query (RFC 3986 unreserved and
#: sub-delims, ``:``, ``@``, ``/``, ``?`` and well-formed percent escapes); no dot segments
_TARGET = re.compile(
    r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*"
    r"(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?"
)
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|\?|$)")
#: an origin in a form ``httpx.URL`` leaves as it is: lower-case host name or IPv4 address
_ORIGIN = re.compile(r"https?://[a-z0-9.\-]+(?::[0-9]{1,5})?")
_MAX_ORIGINS = 512


@dataclass(frozen=True, slots=True)
class LaneOrigin:
    """An origin as ``httpx.URL`` reads it."""

    prefix: str
    scheme: bytes
    host: bytes
    port: int | None
    netloc: bytes
    origin: httpcore.Origin

    @property
    def key(self) -> tuple[bytes, bytes, int | None]:
        """The lanes' key of the origin (what ``LaneTransport`` derives from an httpx URL)."""
        return (self.scheme, self.host, self.port)


@dataclass(frozen=True, slots=True)
class LaneTarget:
    """A URL split for the lanes: its origin and its request target (path and query)."""

    origin: LaneOrigin
    target: bytes


_origins: dict[str, LaneOrigin | None] = {}


def _origin(prefix: str) -> LaneOrigin | None:
    known = _origins.get(prefix, _origins)
    if known is not _origins:
        return known  # type: ignore[return-value]
    found: LaneOrigin | None = None
    if _ORIGIN.fullmatch(prefix) is not None:
        try:
            url = httpx.URL(prefix + "/")
        except httpx.InvalidURL:
            url = None
        if url is not None and url.raw_path == b"/":
            found = LaneOrigin(
                prefix,
                url.raw_scheme,
                url.raw_host,
                url.port,
                url.netloc,
                httpcore.Origin(url.raw_scheme, url.raw_host, url.port or _default_port(url)),
            )
    if len(_origins) >= _MAX_ORIGINS:
        _origins.clear()
    _origins[prefix] = found
    return found


def _default_port(url: httpx.URL) -> int:
    return 443 if url.raw_scheme == b"https" else 80


def lane_target(url: str) -> LaneTarget | None:
    """``url`` split as ``httpx.URL`` would split it, or None when only ``httpx.URL`` can say
    (see the module docstring)."""
    start = url.find("/", url.find("://") + 3) if "://" in url else -1
    if start < 0:
        return None
    origin = _origin(url[:start])
    if origin is None:
        return None
    rest = url[start:]
    if _TARGET.fullmatch(rest) is None or _DOT_SEGMENT.search(rest.split("?", 1)[0]):
        return None
    return LaneTarget(origin, rest.encode("ascii"))
