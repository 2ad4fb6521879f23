"""How we walk a partner's paginated list (OCPI 2.2.1 ``transport_and_format`` §Pagination,
§Paginated Request, §Paginated Response; DIGEST §1.6): the first request's URL and, after each
page, the URL of the next one. Pure: :class:`PageWalk` is told what each page held and says
what to fetch next; the module clients in :mod:`ocpikit.client` do the requests.

Invariants:

- Sessions are always asked with a ``date_from`` (the epoch when the caller gave none): every
  version requires it on the Sessions list.
- The next page is the ``Link: <url>; rel="next"`` of the answer, resolved against the page's
  URL (relative links are tolerated).
- Without a ``Link``, while ``X-Total-Count`` says more objects follow, the next offset is
  computed from the distinct objects seen (limit: ``X-Limit``, else the page's size): an
  object a partner repeats on a later page does not count twice, so none is skipped (at worst
  one is read again); the step says so (:attr:`PageStep.guessed`) so the caller can log the
  repair.
- A page may be asked twice (:data:`MAX_FETCHES`: a ``Link`` back to the page just read, as a
  partner that served a repeat instead of a new object sends, is followed once); a ``Link``
  to a page asked that often counts as no ``Link``. The walk ends on an empty page, on a page
  without a next URL, and on a URL asked :data:`MAX_FETCHES` times, so a broken partner cannot
  loop us forever.
- A delta pull asks ``date_from`` = the start of the last complete pull minus
  :data:`DELTA_OVERLAP` (:func:`delta_date_from`): ``date_from`` is inclusive, but a partner
  whose ``last_updated`` has whole seconds (or whose clock is a little behind ours) stamps an
  update made in the same second as our start *before* it; the overlap re-reads those few
  objects, and the pull counts an object it already holds unchanged, without rewriting it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from ocpikit.core.pagination import PageHeaders, next_page_url
from ocpikit.core.types import format_datetime, parse_datetime

__all__ = [
    "DELTA_OVERLAP",
    "EPOCH",
    "MAX_FETCHES",
    "PageStep",
    "PageWalk",
    "delta_date_from",
    "first_page_url",
    "with_query",
]

EPOCH = parse_datetime("1970-01-01T00:00:00Z")

#: how far before the last pull's start the next delta pull's window opens (module docstring)
DELTA_OVERLAP = timedelta(seconds=2)


def delta_date_from(mark: datetime | None) -> datetime | None:
    """The ``date_from`` of a delta pull after a complete pull that started at ``mark``
    (``None``: never pulled, no window)."""
    return None if mark is None else mark - DELTA_OVERLAP


_DATE_FROM_REQUIRED = frozenset({"sessions"})


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to its query (``?`` or ``&`` as needed)."""
    if not params:
        return url
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


#: how often one page URL is asked during a walk
MAX_FETCHES = 2


def _offset_of(url: str) -> int | None:
    """The ``offset`` a page URL asks for (0 when it names none; None when it is not a
    number)."""
    for name, value in parse_qsl(urlsplit(url).query):
        if name == "offset":
            return int(value) if value.isdigit() else None
    return 0


def first_page_url(
    base: str,
    module: str,
    *,
    offset: int = 0,
    limit: int | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
) -> str:
    """The URL of the first page of ``module``'s list at ``base``: ``offset`` and ``limit`` only
    when set, the date window in the ``Z`` form."""
    if module in _DATE_FROM_REQUIRED and date_from is None:
        date_from = EPOCH
    query: dict[str, str] = {}
    if offset:
        query["offset"] = str(offset)
    if limit:
        query["limit"] = str(limit)
    if date_from is not None:
        query["date_from"] = format_datetime(date_from)
    if date_to is not None:
        query["date_to"] = format_datetime(date_to)
    return with_query(base, query)


@dataclass(frozen=True, slots=True)
class PageStep:
    """What follows a page: the next URL (``None``: the last page) and whether it was computed
    from ``X-Total-Count`` because the partner sent no ``Link``."""

    next_url: str | None
    guessed: bool = False
    objects_seen: int = 0
    total_count: int | None = None


@dataclass(slots=True)
class PageWalk:
    """One walk over a list; ``offset``: where the first URL starts."""

    first_url: str
    offset: int = 0
    _next: str | None = field(init=False, default=None)
    _current: str = field(init=False, default="")
    #: how often each URL was fetched (a page is asked at most :data:`MAX_FETCHES` times)
    _fetched: dict[str, int] = field(init=False, default_factory=dict)
    _done: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._next = self.first_url
        self._done = self.offset

    def next_request(self) -> str | None:
        """The URL to fetch now, or ``None`` when the walk is over."""
        url = self._next
        if url is None or self._fetched.get(url, 0) >= MAX_FETCHES:
            return None
        self._fetched[url] = self._fetched.get(url, 0) + 1
        self._current = url
        return url

    def _guess(self, url: str, count: int, limit: int) -> str | None:
        """The next page without a usable ``Link``: at the distinct objects read so far, else
        (that page was read already: the partner served a repeat instead of a new object)
        right after this page's objects as the partner counts them; None when both were read."""
        here = _offset_of(url)
        for offset in (self._done, here + count if here is not None else None):
            if offset is None:
                continue
            candidate = next_page_url(url, offset=offset, limit=limit)
            if candidate not in self._fetched:
                return candidate
        return None

    def page_read(self, count: int, meta: PageHeaders, *, new: int | None = None) -> PageStep:
        """Record that the page fetched last held ``count`` objects, ``new`` of them not seen
        on an earlier page of this walk (default: all), and came with ``meta``."""
        url = self._current
        self._done += count if new is None else new
        follow = urljoin(url, meta.next_url) if meta.next_url else None
        if follow is not None and self._fetched.get(follow, 0) >= MAX_FETCHES:
            follow = None  # a Link that keeps pointing back: no progress from it
        guessed = False
        more = meta.total_count is not None and self._done < meta.total_count
        if follow is None and count and more:
            follow = self._guess(url, count, meta.limit or count)
            guessed = follow is not None
        self._next = follow if count else None
        return PageStep(follow, guessed, self._done, meta.total_count)
