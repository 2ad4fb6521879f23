"""What every OCPI endpoint does around its own work: message ids, error mapping, response
headers and the exchange log.

- Every answer is an OCPI envelope, including unexpected failures (500): a traceback or a
  framework's error body never reaches a partner.
- X-Request-ID / X-Correlation-ID are echoed (made up when missing); on functional modules of
  2.2+ the routing headers are answered swapped (OCPI 2.2.1 transport_and_format §Message
  routing): we are the FROM party, the requester the TO.
- Every exchange is logged (storage redacts the Authorization header; the caller's token is
  listed as a secret), through the batcher of :mod:`ocpikit.server.exchange_log`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ocpikit.core.errors import InvalidJson, NotFound, OcpiError, ServerError
from ocpikit.core.headers import (
    OCPI_FROM_COUNTRY_CODE,
    OCPI_FROM_PARTY_ID,
    OCPI_TO_COUNTRY_CODE,
    OCPI_TO_PARTY_ID,
    X_CORRELATION_ID,
    X_REQUEST_ID,
    MessageIds,
    RoutingHeaders,
    carries_routing_headers,
)
from ocpikit.core.json_bounds import check_json_bounds
from ocpikit.core.logs import MESSAGE_IDS
from ocpikit.core.versions import Version
from ocpikit.server.adapter import Answer, OcpiRequest
from ocpikit.server.auth import Authenticated
from ocpikit.server.exchange_log import sampled_read
from ocpikit.server.exchange_record import inbound_exchange
from ocpikit.server.message_ids import request_message_ids
from ocpikit.server.platform import Platform
from ocpikit.server.replies import error_body
from ocpikit.server.settings import PartyConfig

__all__ = [
    "Endpoint",
    "RequestContext",
    "read_json",
    "response_headers",
    "run_endpoint",
    "version_param",
]

Endpoint = Callable[[Platform, OcpiRequest], Awaitable[Answer]]
"""An OCPI endpoint: answers one request."""

failure_log = logging.getLogger("ocpikit.server")


class RequestContext:
    """What an endpoint learnt about its request, for the response headers and the log."""

    __slots__ = ("auth", "ids", "party", "routing", "started", "version")

    def __init__(self) -> None:
        self.auth: Authenticated | None = None
        self.ids: MessageIds | None = None
        self.party: PartyConfig | None = None
        self.routing: RoutingHeaders | None = None
        self.started = time.perf_counter()
        self.version: Version | None = None


def version_param(platform: Platform, text: str) -> Version:
    """The version of the URL; 404 when we do not offer it."""
    version = platform.version(text)
    if version is None:
        raise NotFound(f"Unknown OCPI version {text!r}")
    return version


async def read_json(request: OcpiRequest) -> Any:
    """The JSON body (``None`` when empty); 2001 "Invalid JSON" when it is not JSON, 2001
    naming the field when it breaks a bound (``ocpikit.core.json_bounds``)."""
    raw = await request.body()
    if not raw or raw.isspace():
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidJson() from None
    check_json_bounds(value, raw)
    return value


def response_headers(context: RequestContext, module: str | None) -> dict[str, str]:
    """The ids, and on functional modules (2.2+) the routing headers answered swapped (what
    ``RoutingHeaders.to_headers`` writes, set here directly)."""
    ids = context.ids
    headers: dict[str, str] = (
        {X_REQUEST_ID: ids.request_id, X_CORRELATION_ID: ids.correlation_id}
        if ids is not None
        else {}
    )
    party = context.party
    if (
        context.version is not None
        and module is not None
        and party is not None
        and carries_routing_headers(module, context.version)
    ):
        headers[OCPI_FROM_COUNTRY_CODE] = party.country_code
        headers[OCPI_FROM_PARTY_ID] = party.party_id
        requester = context.routing.from_party if context.routing is not None else None
        if requester is not None:
            headers[OCPI_TO_COUNTRY_CODE] = requester.country_code
            headers[OCPI_TO_PARTY_ID] = requester.party_id
    return headers


async def run_endpoint(
    platform: Platform,
    request: OcpiRequest,
    module: str | None,
    work: Callable[[RequestContext], Awaitable[Answer]],
) -> Answer:
    """Run an endpoint's ``work``: ids, error mapping, response headers, exchange log."""
    context = RequestContext()
    context.ids = ids = request_message_ids(request.headers.lower)
    MESSAGE_IDS.set((ids.request_id, ids.correlation_id))  # on every record logged meanwhile
    try:
        status, body, extra = await work(context)
    except OcpiError as exc:
        status, body = exc.http_status, error_body(exc, platform.clock)
        extra = dict(getattr(exc, "response_headers", {}))
        if status >= 500:
            _log_failure(request, context, status, exc)
    except Exception as exc:  # never leak a framework error body or a traceback: log it
        status, body, extra = 500, error_body(ServerError("Internal error"), platform.clock), {}
        _log_failure(request, context, status, exc)
    headers = response_headers(context, module)
    headers.update(extra)
    log = platform.exchange_log
    if log.enabled or log.observe is not None:
        # an unauthenticated request is logged without its body (nobody's data, anyone's size)
        known = log.enabled and context.auth is not None and status not in (408, 413)
        request_body = await request.body() if known and request.method != "GET" else None
        _record(platform, request, context, module, (status, headers, body), request_body)
        if log.backlog:
            await log.drain()
    return status, body, headers


def _record(
    platform: Platform,
    request: OcpiRequest,
    context: RequestContext,
    module: str | None,
    answer: tuple[int, dict[str, str], bytes],
    request_body: bytes | None,
) -> None:
    """Hand the exchange (``answer``: status, headers, body) to the log and the metrics; a
    successful read that the log's ``sample_reads`` skips is only counted, without building
    its record."""
    log = platform.exchange_log
    status, headers, body = answer
    duration_ms = (time.perf_counter() - context.started) * 1000
    auth = context.auth
    if sampled_read(request.method, status, module):
        partner = auth.partner if auth is not None else None
        partner_id = partner.id if partner is not None else None
        if not log.keeps_read(partner_id, module):
            platform.metrics.observe_inbound(
                request.full_path, module, status, partner_id, duration_ms
            )
            return
    exchange, compacted = inbound_exchange(
        request,
        request_body,
        started_at=platform.clock.now(),
        duration_ms=duration_ms,
        auth=auth,
        ids=context.ids,
        status=status,
        headers=headers,
        body=body,
        module=module,
        policy=log.policy if log.enabled else None,
    )
    log.record(exchange, compacted=compacted)


def _log_failure(
    request: OcpiRequest, context: RequestContext, status: int, exc: BaseException
) -> None:
    """Every 5xx we answer, with its traceback and the message ids to find it by."""
    ids = context.ids
    failure_log.error(
        "%s %s answered HTTP %d (X-Request-ID %s, X-Correlation-ID %s)",
        request.method,
        request.path,
        status,
        ids.request_id if ids is not None else "-",
        ids.correlation_id if ids is not None else "-",
        exc_info=exc,
    )
