"""The I/O driver of the registration flows (DESIGN §5): it sends what the state machines in
:mod:`ocpikit.protocol.registration` yield, over httpx, and feeds the answers back.

The headers and the Authorization encoding are the protocol's decisions
(:mod:`ocpikit.protocol.request_headers`, :mod:`ocpikit.protocol.auth_retry`): raw for 2.1.1,
Base64 for 2.2+ and while no version is known yet; on a 401 the request is retried once with
the other encoding, the "trial and error" the spec allows (DIGEST §1.1). Transport failures become an
:class:`~ocpikit.protocol.registration.HttpResponse` with ``status`` 0; the flow turns them
into 3001. Tokens are never logged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from ocpikit.core.versions import Version
from ocpikit.protocol.auth_retry import AuthAttempts, first_encoding
from ocpikit.protocol.ports import Exchange, ExchangeDirection
from ocpikit.protocol.registration import (
    Handshake,
    HttpRequest,
    HttpResponse,
    envelope_data,
    parse_details,
    parse_versions,
)
from ocpikit.protocol.request_headers import AuthorizationValues, request_headers
from ocpikit.protocol.url_policy import UrlPolicy

from .http import MAX_RESPONSE_BYTES, exchange, http_client

__all__ = ["drive", "get_details", "get_versions", "guarded_driver", "send"]

DEFAULT_TIMEOUT = 15.0


def _decode(resp: httpx.Response) -> Any:
    try:
        return orjson.loads(resp.content) if resp.content else None
    except orjson.JSONDecodeError:
        return resp.text


async def send(
    client: httpx.AsyncClient,
    req: HttpRequest,
    record: Callable[[Exchange], None] | None = None,
) -> HttpResponse:
    """Send one flow request; never raises for transport problems. ``record`` receives the
    exchange for the log (storage redacts the Authorization value; the token is listed in
    ``secrets`` so it is scrubbed everywhere)."""
    content = orjson.dumps(req.body) if req.body is not None else None
    headers, _ids = request_headers(req.version, "credentials", has_body=content is not None)
    attempts = AuthAttempts(first_encoding(req.version))
    authorization = AuthorizationValues(req.token)
    resp: httpx.Response | None = None
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    error: str | None = None
    try:
        for encode in attempts.encodings():
            authorization.set_on(headers, encode)
            resp = await exchange(
                client,
                req.method,
                req.url,
                headers=headers,
                content=content,
                timeout=client.timeout.read,
            )
            if not attempts.retry_after(resp.status_code):
                break
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    if record is not None:
        record(
            Exchange(
                direction=ExchangeDirection.OUTBOUND,
                method=req.method,
                url=req.url,
                started_at=started,
                duration_ms=(time.perf_counter() - t0) * 1000,
                status=resp.status_code if resp is not None else None,
                request_headers=tuple(headers.items()),
                request_body=content,
                response_headers=tuple(resp.headers.items()) if resp is not None else (),
                response_body=resp.content[:8192] if resp is not None else None,
                error=error,
                secrets=(req.token,),
                module="versions" if req.method == "GET" else "credentials",
            )
        )
    if error is not None or resp is None:
        return HttpResponse(0, error=error or "no response")
    return HttpResponse(resp.status_code, _decode(resp))


def guarded_driver(
    policy: UrlPolicy,
    *,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> Callable[..., Awaitable[Handshake]]:
    """A :func:`drive` whose requests go only where ``policy`` allows (the partner's versions,
    details and credentials URLs are its word), with answers capped at ``max_response_bytes``."""

    async def run(
        flow: Generator[HttpRequest, HttpResponse, Handshake],
        *,
        record: Callable[[Exchange], None] | None = None,
    ) -> Handshake:
        async with http_client(
            concurrency=2, timeout=timeout, policy=policy, max_response_bytes=max_response_bytes
        ) as http:
            return await drive(flow, client=http, record=record)

    return run


async def drive(
    flow: Generator[HttpRequest, HttpResponse, Handshake],
    *,
    client: httpx.AsyncClient | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    record: Callable[[Exchange], None] | None = None,
) -> Handshake:
    """Run a registration flow to its end; raises the flow's OCPI error on failure. The flow
    is closed however the run ends (a cancelled or failed run leaves no suspended
    generator)."""
    own = client is None
    http = client if client is not None else httpx.AsyncClient(timeout=timeout)
    try:
        req = next(flow)
        while True:
            resp = await send(http, req, record)
            try:
                req = flow.send(resp)
            except StopIteration as stop:
                result: Handshake = stop.value
                return result
    finally:
        flow.close()
        if own:
            await http.aclose()


async def get_versions(
    url: str, token: str, *, client: httpx.AsyncClient | None = None
) -> list[tuple[Version, str]]:
    """GET a versions endpoint: ``[(version, details url)]``."""
    async with (
        httpx.AsyncClient(timeout=DEFAULT_TIMEOUT) if client is None else _Borrowed(client) as http
    ):
        resp = await send(http, HttpRequest("GET", url, token))
    return parse_versions(envelope_data(resp, "GET versions"))


async def get_details(
    url: str, token: str, version: Version, *, client: httpx.AsyncClient | None = None
) -> list[Any]:
    """GET a version details endpoint: its endpoints."""
    async with (
        httpx.AsyncClient(timeout=DEFAULT_TIMEOUT) if client is None else _Borrowed(client) as http
    ):
        resp = await send(http, HttpRequest("GET", url, token, version))
    return list(parse_details(envelope_data(resp, "GET version details")))


class _Borrowed:
    """The caller's client as a context manager that leaves it open."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __aenter__(self) -> httpx.AsyncClient:
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        return None
