"""The exchange log, written in batches off the hot path: the requests partners send us (the
OCPI routes, ``ocpikit.server.pipeline``) and the requests we send them (the request driver,
``ocpikit.client.driver``), through the same batcher of the process.

Plan: a request only appends what the log keeps of its
:class:`~ocpikit.protocol.ports.Exchange` to a queue; one background task writes the queue in
batches, one transaction per batch and at most one batch
every :data:`LOG_INTERVAL` seconds while requests keep coming (a task that wrote again as soon
as a write returned would write batches of a few rows back to back under load, paying the
per-transaction cost on every few requests). The task ends once an interval passed with nothing
queued.

Invariants: nothing is dropped. The queue is bounded: once it holds :data:`LOG_QUEUE_MAX`
exchanges, the request that filled it writes it before answering (backpressure); a clean
shutdown (:meth:`ExchangeLogBatcher.close`) writes what is queued without waiting for the next
interval. The rows written are what the policy keeps of the exchanges
:meth:`ExchangeLogBatcher.record` received, in order; the plain reference is writing each at
once (``storage.exchanges.record([compact(exchange, policy)])``).
A failed write is not retried and never fails a request.

A response body is logged whole up to :data:`LOG_BODY` bytes, a longer one (a page of objects)
as an excerpt (:func:`log_excerpt`), so the log does not multiply the write load of the hot
path.

What a row keeps is the :class:`LogPolicy` (``[exchange_log] bodies``): by default a
successful exchange (HTTP 2xx, an OCPI 1xxx status or none, no error) keeps its line (method,
URL, statuses, time, partner, subject, message ids), no headers, of its request body an
excerpt of :data:`COMPACT_EXCERPT` bytes and the first 128 bits of the SHA-256 of the whole, the same of a read's
response body (a page, an object), and the answer to a write whole up to
:data:`COMPACT_ANSWER` bytes (its status message, e.g. what a hub's conversion lost)
(:func:`compact`): a page of 100 locations or a Session PUT costs a few
hundred bytes of log; a failed exchange keeps its
headers and bodies (redacted), which is what a traffic log is read for. ``bodies = "all"``
keeps every body of every exchange. The policy is applied when an exchange is recorded (what
the queue holds until the next batch is the row, not the whole exchange); the OCPI routes
record theirs compacted already (:mod:`ocpikit.server.exchange_record`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ocpikit.core.logs import EXCHANGE_LOGGER, event
from ocpikit.protocol.partner_registration import PENDING_PREFIX
from ocpikit.protocol.ports import Exchange, Storage

__all__ = [
    "COMPACT_ANSWER",
    "COMPACT_EXCERPT",
    "LOG_BODY",
    "LOG_HEAD",
    "LOG_INTERVAL",
    "LOG_QUEUE_MAX",
    "LOG_TAIL",
    "ExchangeLogBatcher",
    "LogPolicy",
    "compact",
    "compacted_bodies",
    "kept_whole",
    "log_excerpt",
    "log_exchange",
    "log_policy",
    "sampled_read",
]

#: a response body up to this many bytes is logged whole
LOG_BODY = 8192
#: of a longer body, the log keeps the first LOG_HEAD bytes and the last LOG_TAIL (the
#: envelope's status and timestamp)
LOG_HEAD = 256
LOG_TAIL = 256
#: exchanges queued for the log before requests wait for the writer
LOG_QUEUE_MAX = 10_000
#: seconds between two batches of the exchange log
LOG_INTERVAL = 0.2


#: of a successful exchange's request body, the log keeps this many bytes and the whole's
#: SHA-256 (the object itself is in the store)
COMPACT_EXCERPT = 48
#: a successful exchange's response body up to this size is kept whole: an answer to a write
#: (its status message, e.g. what a hub's conversion lost), not a page of objects
COMPACT_ANSWER = 1024


@dataclass(frozen=True, slots=True)
class LogPolicy:
    """What the exchange log keeps of a row (``[exchange_log] bodies``): ``"failures"``
    (default: whole bodies and headers of failed exchanges only) or ``"all"``; and which
    successful reads it keeps (``[exchange_log] sample_reads``): one in ``sample_reads`` per
    partner and module, the first one kept (default 1: every one)."""

    bodies: str = "failures"
    sample_reads: int = 1


def log_policy(config: Mapping[str, Any]) -> LogPolicy:
    """``[exchange_log] bodies`` and ``sample_reads`` of the raw config; ValueError naming
    the key."""
    table = config.get("exchange_log", {})
    if not isinstance(table, Mapping):
        raise ValueError("[exchange_log] must be a table")
    bodies = table.get("bodies", "failures")
    if bodies not in ("failures", "all"):
        raise ValueError('exchange_log.bodies must be "failures" or "all"')
    sample = table.get("sample_reads", 1)
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
        raise ValueError("exchange_log.sample_reads must be a whole number, 1 or more")
    return LogPolicy(bodies=bodies, sample_reads=sample)


def sampled_read(method: str, status: int, module: str | None) -> bool:
    """Whether an answered request is a successful read that ``sample_reads`` applies to: a
    GET answered 2xx, not of the credentials module (the handshake is always kept)."""
    return method == "GET" and 200 <= status < 300 and module != "credentials"


def kept_whole(
    policy: LogPolicy,
    *,
    status: int | None,
    ocpi_status: int | None,
    error: str | None,
    module: str | None,
    url: str,
) -> bool:
    """Whether :func:`compact` keeps an exchange with these fields whole: ``bodies = "all"``,
    a failed exchange (an error, no answer, not HTTP 2xx, an OCPI status outside 1xxx), or
    credentials (their bodies carry tokens: kept whole, so that the storage's redaction finds
    and hides them; an excerpt could cut a token where no rule recognises it)."""
    return (
        policy.bodies == "all"
        or error is not None
        or status is None
        or not 200 <= status < 300
        or (ocpi_status is not None and not 1000 <= ocpi_status < 2000)
        or module == "credentials"
        or "/credentials" in url
    )


def _digest(body: bytes | None, whole: int) -> bytes | None:
    if body is None or len(body) <= whole:
        return body
    # the first 128 bits of the SHA-256: enough to tell two bodies apart, half the bytes
    sha = hashlib.sha256(body).hexdigest()[:32]
    return body[:COMPACT_EXCERPT] + f"...[{len(body)} bytes, sha256/128 {sha}]".encode()


def compacted_bodies(
    method: str, request_body: bytes | None, response_body: bytes | None
) -> tuple[bytes | None, bytes | None]:
    """The request and response bodies a compacted row keeps: an excerpt and digest of each,
    a write's answer whole up to :data:`COMPACT_ANSWER` bytes (a read's answer is data, a page
    or an object: excerpted; a write's is its status)."""
    return (
        _digest(request_body, COMPACT_EXCERPT),
        _digest(response_body, COMPACT_EXCERPT if method == "GET" else COMPACT_ANSWER),
    )


def compact(e: Exchange, policy: LogPolicy) -> Exchange:
    """What the log keeps of ``e`` under ``policy`` (see the module docstring)."""
    if kept_whole(
        policy,
        status=e.status,
        ocpi_status=e.ocpi_status,
        error=e.error,
        module=e.module,
        url=e.url,
    ):
        return e
    request_body, response_body = compacted_bodies(e.method, e.request_body, e.response_body)
    # every field named (not dataclasses.replace, which walks the fields per call): a test
    # holds this to dataclasses.replace for each field of Exchange
    return Exchange(
        direction=e.direction,
        method=e.method,
        url=e.url,
        started_at=e.started_at,
        partner_id=e.partner_id,
        duration_ms=e.duration_ms,
        status=e.status,
        ocpi_status=e.ocpi_status,
        request_headers=(),
        request_body=request_body,
        response_headers=(),
        response_body=response_body,
        request_id=e.request_id,
        correlation_id=e.correlation_id,
        error=e.error,
        secrets=e.secrets,
        id=e.id,
        module=e.module,
        object_id=e.object_id,
    )


#: one INFO event per exchange, in and out (docs/operations.md "Logs")
_events = logging.getLogger(EXCHANGE_LOGGER)


def log_exchange(e: Exchange) -> None:
    """The exchange's log event: what, where (the URL without its query), the answer, the
    time, the partner, the subject and the message ids. Never headers or bodies."""
    level = logging.WARNING if e.status is None or e.status >= 500 else logging.INFO
    if not _events.isEnabledFor(level):
        return
    status = e.status if e.status is not None else "no answer"
    event(
        _events,
        level,
        f"{e.direction.value} {e.method} {e.url.split('?', 1)[0]} {status}",
        direction=e.direction.value,
        status=e.status,
        ocpi_status=e.ocpi_status,
        duration_ms=round(e.duration_ms, 2) if e.duration_ms is not None else None,
        partner=e.partner_id,
        module=e.module,
        object_id=e.object_id,
        request_id=e.request_id,
        correlation_id=e.correlation_id,
        error=e.error,
    )


def log_excerpt(body: bytes) -> bytes:
    """What the exchange log keeps of a response body (see :data:`LOG_BODY`)."""
    if len(body) <= LOG_BODY:
        return body
    left_out = len(body) - LOG_HEAD - LOG_TAIL
    return b"".join((body[:LOG_HEAD], b"...[%d bytes left out]..." % left_out, body[-LOG_TAIL:]))


class ExchangeLogBatcher:
    """The queue and its writer task; ``enabled`` False: :meth:`record` keeps nothing.
    ``observe`` is handed every exchange :meth:`record` gets, kept or not (the metrics)."""

    def __init__(
        self,
        storage: Storage,
        *,
        enabled: bool = True,
        observe: Callable[[Exchange], None] | None = None,
        policy: LogPolicy | None = None,
    ) -> None:
        self.storage = storage
        self.enabled = enabled
        self.observe = observe
        self.policy = policy or LogPolicy()
        self._queue: list[Exchange] = []
        self._writer: asyncio.Task[None] | None = None
        self._writer_waits = False  # the writer is between two batches
        self._in_order = asyncio.Lock()
        #: successful reads seen per (partner, module), for ``policy.sample_reads``
        self._reads: dict[tuple[str | None, str | None], int] = {}

    def keeps_read(self, partner_id: str | None, module: str | None) -> bool:
        """Whether the log keeps this successful read (:func:`sampled_read`): one in
        ``policy.sample_reads`` of each partner's reads of each module, the first one kept, so
        a partner that reads rarely is still seen. The caller counts a read it skips in the
        metrics itself (``PlatformMetrics.observe_inbound``)."""
        every = self.policy.sample_reads
        if every == 1 or not self.enabled:
            return True
        # a registration under way has an id of its own: counted as one, the map stays bounded
        pending = partner_id is not None and partner_id.startswith(PENDING_PREFIX)
        key = (PENDING_PREFIX if pending else partner_id, module)
        seen = self._reads.get(key, 0)
        self._reads[key] = seen + 1
        return seen % every == 0

    def record(self, exchange: Exchange, *, compacted: bool = False) -> None:
        """Queue what the policy keeps of ``exchange`` (``compacted``: the caller built it
        already, ``compact(whole, self.policy)``); starts the writer task when none runs.
        Logs the exchange's event (:func:`log_exchange`) whether it is kept or not."""
        if self.observe is not None:
            self.observe(exchange)
        if _events.isEnabledFor(logging.WARNING):
            log_exchange(exchange)
        if not self.enabled:
            return
        self._queue.append(exchange if compacted else compact(exchange, self.policy))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_while_busy())

    @property
    def backlog(self) -> bool:
        """The queue is full: the caller should ``await drain()``."""
        return len(self._queue) >= LOG_QUEUE_MAX

    async def drain(self) -> None:
        """Write the queue now if it is full (the backpressure of a request)."""
        if self.backlog:
            await self.flush()

    async def _write_while_busy(self) -> None:
        # one batch per interval, then gone once an interval passed with nothing queued
        while True:
            if not self.backlog:
                self._writer_waits = True
                try:
                    await asyncio.sleep(LOG_INTERVAL)
                finally:
                    self._writer_waits = False
            if not self._queue:
                return
            await self.flush()

    async def flush(self) -> None:
        """Write what is queued, now."""
        batch, self._queue = self._queue, []
        if batch:
            # batches are written in the order they were taken (a store may let the event loop
            # run while it prepares one, and a full queue's drain may start another meanwhile)
            async with self._in_order:
                with contextlib.suppress(Exception):
                    await self.storage.exchanges.record(batch)

    async def close(self) -> None:
        """Write everything queued (clean shutdown)."""
        writer = self._writer
        if writer is not None and not writer.done():
            if self._writer_waits:  # not in the middle of a batch: no need to wait
                writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        await self.flush()
