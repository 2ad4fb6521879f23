"""The exchange-log port: one OCPI request and its response (:class:`Exchange`), in or out,
the filters of the traffic log (:class:`ExchangeQuery`) and the repository
(:class:`ExchangeLog`); re-exported by :mod:`ocpikit.protocol.ports`."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

__all__ = [
    "ERROR_STATUSES",
    "ROW_OVERHEAD",
    "Exchange",
    "ExchangeDirection",
    "ExchangeLog",
    "ExchangeQuery",
    "exchange_query",
    "stored_size",
]


class ExchangeDirection(enum.StrEnum):
    INBOUND = "in"  # a partner called us
    OUTBOUND = "out"  # we called a partner


@dataclass(frozen=True, slots=True)
class Exchange:
    """One OCPI request and its response (or transport error).

    Headers are ``(name, value)`` pairs so repeated headers survive. ``secrets`` lists values
    (tokens) the caller knows to be in play; they are scrubbed everywhere and never stored.
    Whatever the caller passes, storage redacts ``Authorization`` headers and string ``token``
    fields of JSON bodies (credentials objects) before writing.
    """

    direction: ExchangeDirection
    method: str
    url: str
    started_at: datetime
    partner_id: str | None = None
    duration_ms: float | None = None
    status: int | None = None
    ocpi_status: int | None = None
    request_headers: tuple[tuple[str, str], ...] = ()
    request_body: bytes | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes | None = None
    request_id: str | None = None
    correlation_id: str | None = None
    error: str | None = None
    secrets: tuple[str, ...] = ()
    id: int | None = None
    #: the OCPI module the request was for (``sessions``, ``commands``, ``credentials``...)
    module: str | None = None
    #: the object it was about, when one (a Session's id, a command's id, a token's uid...)
    object_id: str | None = None


#: the HTTP statuses of ``status=error`` (and an exchange that got no answer at all)
ERROR_STATUSES: Final = (400, 999)


@dataclass(frozen=True, slots=True)
class ExchangeQuery:
    """Which exchanges to list (every field None: all). ``status``: an HTTP status (``200``),
    a class (``2xx``, ``4xx``, ``5xx``), or ``error`` (HTTP 400 and more, or no answer at
    all); ``since``: started at or after; ``before_id``: the keyset page."""

    direction: ExchangeDirection | None = None
    partner_id: str | None = None
    module: str | None = None
    object_id: str | None = None
    status: str | None = None
    since: datetime | None = None
    before_id: int | None = None

    def status_bounds(self) -> tuple[int, int] | None:
        """``(lowest, highest)`` HTTP status of :attr:`status` (``error``: 400 up, and no answer
        as 0); ValueError for anything else."""
        text = (self.status or "").strip().lower()
        if not text:
            return None
        if text == "error":
            return ERROR_STATUSES
        if len(text) == 3 and text.endswith("xx") and text[0] in "12345":
            return (int(text[0]) * 100, int(text[0]) * 100 + 99)
        if text.isdigit() and len(text) == 3:
            return (int(text), int(text))
        raise ValueError("status: an HTTP status (200), a class (4xx) or error")

    def matches(self, e: Exchange) -> bool:
        """The reference of the storage filters (the memory storage uses it)."""
        if self.before_id is not None and (e.id or 0) >= self.before_id:
            return False
        if self.direction is not None and e.direction is not self.direction:
            return False
        for want, have in (
            (self.partner_id, e.partner_id),
            (self.module, e.module),
            (self.object_id, e.object_id),
        ):
            if want is not None and want != have:
                return False
        if self.since is not None and e.started_at < self.since:
            return False
        bounds = self.status_bounds()
        if bounds is None:
            return True
        if e.status is None:  # no answer at all: an error
            return bounds == ERROR_STATUSES
        return bounds[0] <= e.status <= bounds[1]


def exchange_query(
    query: ExchangeQuery | None, *, before_id: int | None, partner_id: str | None
) -> ExchangeQuery:
    """``query`` with ``before_id`` and ``partner_id`` filled in where it has none."""
    q = query or ExchangeQuery()
    return dataclasses.replace(
        q,
        before_id=q.before_id if q.before_id is not None else before_id,
        partner_id=q.partner_id if q.partner_id is not None else partner_id,
    )


#: bytes a stored exchange takes beside its text and body fields (its fixed columns, ids, the
#: index entries): what :meth:`ExchangeLog.prune_to` adds to each row's lengths
ROW_OVERHEAD = 160


def stored_size(e: Exchange) -> int:
    """The estimate of the space a stored exchange takes (see :meth:`ExchangeLog.prune_to`)."""
    headers = sum(len(k) + len(v) + 6 for k, v in (*e.request_headers, *e.response_headers))
    return (
        ROW_OVERHEAD
        + len(e.url)
        + headers
        + len(e.request_body or b"")
        + len(e.response_body or b"")
        + len(e.error or "")
    )


class ExchangeLog(Protocol):
    async def record(self, exchanges: Sequence[Exchange]) -> None:
        """Append exchanges (batched: one transaction for the whole sequence)."""
        ...

    async def recent(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        partner_id: str | None = None,
        query: ExchangeQuery | None = None,
    ) -> list[Exchange]:
        """Newest first, keyset-paged by ``before_id``; as stored (redacted). ``query``
        filters further (its ``before_id`` and ``partner_id`` win over the arguments)."""
        ...

    async def prune(self, before: datetime) -> int:
        """Delete exchanges started before ``before``; returns how many."""
        ...

    async def prune_to(self, max_bytes: int) -> int:
        """Delete the oldest exchanges until what the log holds is at most ``max_bytes`` (the
        stored fields' lengths plus :data:`ROW_OVERHEAD` a row, an estimate of the space they
        take); returns how many."""
        ...
