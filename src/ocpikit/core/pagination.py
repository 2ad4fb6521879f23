"""Pagination of every "GET list" endpoint (DIGEST §1.6; ``transport_and_format``
§Paginated Response).

- Request: ``offset`` (default 0), ``limit`` (the server may return fewer; we cap it at our
  maximum), ``date_from`` (inclusive) and ``date_to`` (exclusive) on ``last_updated``.
  2.1.1 only says "after"/"before"; we apply the 2.2+ reading to every version so that
  consecutive windows neither overlap nor leave gaps (:func:`in_window`).
- Response headers: ``Link: <url>; rel="next"`` when more pages follow, keeping every original
  query filter; ``X-Total-Count``; ``X-Limit``. We send the limit applied to the request. When
  reading, ``X-Limit`` means the server's maximum only from 2.2 on; in 2.1.1 it may be the
  number of objects on the page (:meth:`PageHeaders.server_max_limit`).
- Reading ``Link`` is tolerant: several links, quoted or bare ``rel``, several rel values,
  odd spacing and case (:func:`parse_link_header`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from urllib.parse import unquote_plus

from ocpikit.core.errors import InvalidOrMissingParameters
from ocpikit.core.headers import LINK, X_LIMIT, X_TOTAL_COUNT, Headers, get_header
from ocpikit.core.types import format_datetime, parse_datetime
from ocpikit.core.versions import Version

__all__ = [
    "DEFAULT_MAX_LIMIT",
    "Page",
    "PageHeaders",
    "PageParams",
    "in_window",
    "link_header",
    "make_page",
    "next_page_url",
    "parse_link_header",
]

DEFAULT_MAX_LIMIT = 100
_X_LIMIT_IS_MAX_SINCE = Version("2.2")

T = TypeVar("T")


#: the largest ``offset`` or ``limit`` a request may name (far beyond any list; what every
#: store can bind as a 64-bit integer, with room for ``offset + limit``)
MAX_QUERY_NUMBER = 2**53


def _int_param(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw.strip()) if len(raw) <= 32 else None
    except ValueError:
        value = None
    if value is None:
        raise InvalidOrMissingParameters(
            f"{name}: must be a non-negative integer, got {raw[:32]!r}", path=name
        )
    if value < 0:
        raise InvalidOrMissingParameters(f"{name}: must not be negative", path=name)
    if value > MAX_QUERY_NUMBER:
        raise InvalidOrMissingParameters(f"{name}: must be at most {MAX_QUERY_NUMBER}", path=name)
    return value


def _date_param(query: Mapping[str, str], name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return parse_datetime(raw)
    except ValueError:
        raise InvalidOrMissingParameters(
            f"{name}: must be an RFC 3339 DateTime, got {raw[:40]!r}", path=name
        ) from None


@dataclass(frozen=True, slots=True)
class PageParams:
    """The pagination parameters of one list request, ``limit`` already capped."""

    offset: int = 0
    limit: int = DEFAULT_MAX_LIMIT
    date_from: datetime | None = None
    date_to: datetime | None = None

    @classmethod
    def from_query(
        cls,
        query: Mapping[str, str],
        *,
        max_limit: int = DEFAULT_MAX_LIMIT,
        default_limit: int | None = None,
        require_date_from: bool = False,
    ) -> PageParams:
        """Read and check ``offset``/``limit``/``date_from``/``date_to`` from a query.

        A ``limit`` above ``max_limit`` (or absent) becomes the maximum; ``limit=0`` is
        honoured (an empty page that still tells ``X-Total-Count``). Bad values raise the 2001
        error naming the parameter. ``require_date_from``: Sessions GET list (DIGEST §1.6).
        """
        offset = _int_param(query, "offset") or 0
        limit = _int_param(query, "limit")
        cap = max_limit if default_limit is None else min(default_limit, max_limit)
        limit = cap if limit is None else min(limit, max_limit)
        date_from = _date_param(query, "date_from")
        date_to = _date_param(query, "date_to")
        if require_date_from and date_from is None:
            raise InvalidOrMissingParameters(path="date_from")
        if date_from is not None and date_to is not None and date_to < date_from:
            raise InvalidOrMissingParameters(
                "date_to: must not be before date_from", path="date_to"
            )
        return cls(offset=offset, limit=limit, date_from=date_from, date_to=date_to)

    def to_query(self) -> dict[str, str]:
        """The parameters as query values (for a client's request)."""
        query: dict[str, str] = {"offset": str(self.offset), "limit": str(self.limit)}
        if self.date_from is not None:
            query["date_from"] = format_datetime(self.date_from)
        if self.date_to is not None:
            query["date_to"] = format_datetime(self.date_to)
        return query

    def matches(self, last_updated: datetime) -> bool:
        """Whether an object with this ``last_updated`` is inside the date window."""
        return in_window(last_updated, self.date_from, self.date_to)


def in_window(last_updated: datetime, date_from: datetime | None, date_to: datetime | None) -> bool:
    """``date_from <= last_updated < date_to`` (from inclusive, to exclusive; open ends)."""
    if date_from is not None and last_updated < date_from:
        return False
    return not (date_to is not None and last_updated >= date_to)


def next_page_url(url: str, *, offset: int, limit: int) -> str:
    """``url`` with ``offset``/``limit`` replaced and every other query parameter kept, in
    order and exactly as the request spelled it (no decoding and re-encoding of filters)."""
    rest, hash_, fragment = url.partition("#")
    base, _, query = rest.partition("?")
    kept = [
        pair for pair in query.split("&") if pair and _param_name(pair) not in ("offset", "limit")
    ]
    kept += [f"offset={offset}", f"limit={limit}"]
    return f"{base}?{'&'.join(kept)}{hash_}{fragment}"


def _param_name(pair: str) -> str:
    name = pair.partition("=")[0]
    return unquote_plus(name) if "%" in name or "+" in name else name


def link_header(url: str, rel: str = "next") -> str:
    """``<url>; rel="next"``."""
    return f'<{url}>; rel="{rel}"'


_LINK = re.compile(r"<(?P<url>[^>]*)>(?P<params>[^<]*)")
_REL = re.compile(r"""(?i)(?:^|;)\s*rel\s*=\s*(?:"(?P<q>[^"]*)"|'(?P<s>[^']*)'|(?P<b>[^;,\s]+))""")


def parse_link_header(value: str | None) -> dict[str, str]:
    """``rel`` (lower case) → URL for every link of a ``Link`` header (first one wins)."""
    links: dict[str, str] = {}
    if not value:
        return links
    for match in _LINK.finditer(value):
        url = match.group("url").strip()
        for rel_match in _REL.finditer(match.group("params")):
            rels = rel_match.group("q") or rel_match.group("s") or rel_match.group("b") or ""
            for rel in rels.split():
                links.setdefault(rel.lower(), url)
    return links


@dataclass(frozen=True, slots=True)
class PageHeaders:
    """The pagination headers of a received page."""

    total_count: int | None
    limit: int | None
    next_url: str | None
    version: Version | None = None

    @classmethod
    def parse(cls, headers: Headers, version: Version | str | None = None) -> PageHeaders:
        """Read ``X-Total-Count``, ``X-Limit`` and the ``next`` link; bad numbers become None."""
        v = Version(version) if isinstance(version, str) else version
        return cls(
            total_count=_header_int(get_header(headers, X_TOTAL_COUNT)),
            limit=_header_int(get_header(headers, X_LIMIT)),
            next_url=parse_link_header(get_header(headers, LINK)).get("next"),
            version=v,
        )

    @property
    def server_max_limit(self) -> int | None:
        """The server's maximum page size, when ``X-Limit`` means that (2.2+)."""
        if self.version is None or self.version < _X_LIMIT_IS_MAX_SINCE:
            return None
        return self.limit


def _header_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items and where it sits in the whole."""

    items: Sequence[T]
    offset: int
    limit: int
    total_count: int | None = None
    next_url: str | None = None

    @property
    def has_next(self) -> bool:
        return self.next_url is not None

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.items)

    def headers(self) -> dict[str, str]:
        """Response headers: ``X-Total-Count``, ``X-Limit``, and ``Link`` when not the last page."""
        out: dict[str, str] = {X_LIMIT: str(self.limit)}
        if self.total_count is not None:
            out[X_TOTAL_COUNT] = str(self.total_count)
        if self.next_url is not None:
            out[LINK] = link_header(self.next_url)
        return out


def make_page(items: Sequence[T], *, params: PageParams, total_count: int, url: str) -> Page[T]:
    """A server's page: ``items`` were read at ``params.offset``; ``url`` is the request URL
    (its filters are kept in the ``next`` link)."""
    next_offset = params.offset + len(items)
    more = bool(items) and next_offset < total_count
    next_url = next_page_url(url, offset=next_offset, limit=params.limit) if more else None
    return Page(
        items=items,
        offset=params.offset,
        limit=params.limit,
        total_count=total_count,
        next_url=next_url,
    )
