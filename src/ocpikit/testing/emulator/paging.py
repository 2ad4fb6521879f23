"""Pages of a Sender's GET list, as a correct partner serves them and as a broken one does.

Correct (OCPI 2.2.1 transport_and_format §Pagination): ``date_from`` inclusive and ``date_to``
exclusive on ``last_updated``; ``offset``/``limit``; ``X-Total-Count`` = every object matching
the filters; ``X-Limit`` = the server's maximum page size; ``Link: <url>; rel="next"`` keeping
the filters, only when more objects follow.

Broken (the ``pagination`` fault, one ``kind`` per page): ``one-item`` pages of one object
(the ``Link`` still right), ``no-link`` (no ``Link`` although objects follow), ``bad-link`` (a
``Link`` without angle brackets or ``rel``), ``wrong-total`` (``X-Total-Count`` off by a few),
``repeat`` (the last object of the previous page served again first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from .data import Entry

__all__ = ["Page", "PageQuery", "QueryError", "page_of", "parse_query"]


class QueryError(ValueError):
    """A query parameter we cannot read; the message names it (answered with 2001)."""


@dataclass(frozen=True)
class PageQuery:
    offset: int = 0
    limit: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    #: the other parameters, kept in the next page's URL
    extra: tuple[tuple[str, str], ...] = ()


def _parse_time(name: str, value: str) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{name}: {value!r} is not an RFC 3339 DateTime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _parse_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise QueryError(f"{name}: {value!r} is not a whole number") from None
    if number < 0:
        raise QueryError(f"{name}: must not be negative")
    return number


def parse_query(params: Sequence[tuple[str, str]]) -> PageQuery:
    """The paging parameters of a GET list; :class:`QueryError` names a bad one."""
    values: dict[str, object] = {}
    extra: list[tuple[str, str]] = []
    for name, value in params:
        if name in ("offset", "limit"):
            values[name] = _parse_int(name, value)
        elif name in ("date_from", "date_to"):
            values[name] = _parse_time(name, value)
        else:
            extra.append((name, value))
    return PageQuery(extra=tuple(extra), **values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Page:
    items: list[Entry]
    headers: dict[str, str]
    total: int


def _link(base_url: str, query: PageQuery, offset: int, limit: int) -> str:
    params: list[tuple[str, str]] = []
    if query.date_from is not None:
        params.append(("date_from", query.date_from.strftime("%Y-%m-%dT%H:%M:%SZ")))
    if query.date_to is not None:
        params.append(("date_to", query.date_to.strftime("%Y-%m-%dT%H:%M:%SZ")))
    params.extend(query.extra)
    params += [("offset", str(offset)), ("limit", str(limit))]
    return f"{base_url}?{urlencode(params)}"


def page_of(
    entries: Sequence[Entry],
    query: PageQuery,
    *,
    base_url: str,
    max_page: int,
    fault: str | None = None,
) -> Page:
    """The page ``query`` asks for out of ``entries`` (oldest first), broken as ``fault``
    says (None: served correctly)."""
    matching = [
        e
        for e in entries
        if (query.date_from is None or e.last_updated >= query.date_from)
        and (query.date_to is None or e.last_updated < query.date_to)
    ]
    total = len(matching)
    limit = min(query.limit, max_page) if query.limit else max_page
    limit = max(limit, 1)
    if fault == "one-item":
        limit = 1
    start = query.offset
    items = list(matching[start : start + limit])
    next_offset = start + len(items)
    headers = {"X-Total-Count": str(total), "X-Limit": str(limit if fault != "one-item" else 1)}
    more = next_offset < total
    if fault == "repeat" and start > 0 and start <= total:
        # the previous page's last object again; the page still ends where it would have
        items = [matching[start - 1], *items[: max(limit - 1, 0)]]
        next_offset = start + len(items) - 1
        more = next_offset < total
    if more:
        url = _link(base_url, query, next_offset, limit)
        if fault == "bad-link":
            headers["Link"] = url
        elif fault != "no-link":
            headers["Link"] = f'<{url}>; rel="next"'
    if fault == "wrong-total":
        headers["X-Total-Count"] = str(total + 3 if start == 0 else max(total - 2, 0))
    return Page(items=items, headers=headers, total=total)
