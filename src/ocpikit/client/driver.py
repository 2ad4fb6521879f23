"""The request driver: the one place that sends an OCPI request to a partner and applies the
protocol's decisions to it (DESIGN §1 "client/": one request driver, one small client per
module). Every module client in :mod:`ocpikit.client.modules` sends through
:meth:`RequestDriver.request`.

- **Headers**: :func:`ocpikit.protocol.request_headers.request_headers` (ids and routing
  headers on 2.2+).
- **Auth**: ``Authorization: Token ...`` with the token the partner gave us; the encoding and
  the 401 retry with the other one follow :mod:`ocpikit.protocol.auth_retry` (switches
  ``encode_auth`` and ``auth_retry``). When a retry worked the choice is kept for the next
  requests and reported to ``on_auth_learned`` so it can be persisted.
- **Answers**: :func:`ocpikit.protocol.replies.classify_reply`; anything but a success is
  raised as the error tree's exception (DESIGN §6). Transport failures become
  :class:`~ocpikit.core.errors.TransportError` with the httpx exception chained.

- **Pull retries**: the driver holds what a module client needs to retry a page of a pull
  (:mod:`ocpikit.protocol.pull_retry`): the partner's :class:`RetryPolicy`, a random source
  and the ``sleep`` to wait with (both injectable, so tests never wait for real).

Tokens never appear in logs or exception messages; URLs in errors lose their query string.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.envelope import Envelope
from ocpikit.core.errors import TransportError
from ocpikit.core.headers import MessageIds, PartyRef, new_id
from ocpikit.core.versions import Version
from ocpikit.operations.exchange_log import log_excerpt
from ocpikit.protocol.addressing import NoEndpoint, PartnerAddress
from ocpikit.protocol.auth_retry import AuthAttempts, first_encoding
from ocpikit.protocol.paging import with_query
from ocpikit.protocol.partner_objects import PartnerObjects
from ocpikit.protocol.ports import Exchange, ExchangeDirection, Partner
from ocpikit.protocol.pull_retry import RetryPolicy
from ocpikit.protocol.replies import classify_reply
from ocpikit.protocol.request_headers import AuthorizationValues, request_headers
from ocpikit.protocol.url_policy import PartnerSites

from .http import exchange, traffic_of
from .policy import PartnerSwitches

__all__ = ["Reply", "RequestDriver"]

log = logging.getLogger("ocpikit.client")

AuthLearned = Callable[[str, bool], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class Reply:
    """A successful answer: the HTTP response, its envelope and the ids we sent (2.2+)."""

    response: httpx.Response
    envelope: Envelope
    ids: MessageIds | None = None


class RequestDriver:
    """Requests to one registered partner over ``http`` (shared; the driver is cheap).

    Raises :class:`~ocpikit.protocol.addressing.NoEndpoint` when the partner has no
    negotiated version or gave us no token: nothing can be sent then.
    """

    __slots__ = (
        "_authorization",
        "_encode",
        "_our_party",
        "address",
        "clock",
        "http",
        "id_factory",
        "objects",
        "on_auth_learned",
        "partner",
        "pull_retry",
        "rng",
        "sites",
        "sleep",
        "switches",
        "version",
    )

    def __init__(
        self,
        partner: Partner,
        http: httpx.AsyncClient,
        *,
        clock: Clock = SYSTEM_CLOCK,
        on_auth_learned: AuthLearned | None = None,
        id_factory: Callable[[], str] = new_id,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        pull_defaults: RetryPolicy | None = None,
    ) -> None:
        if not partner.version:
            raise NoEndpoint(f"partner {partner.id} has no negotiated version")
        if not partner.outbound_token:
            raise NoEndpoint(f"partner {partner.id} gave us no token")
        self.partner = partner
        self.http = http
        self.clock = clock
        self.on_auth_learned = on_auth_learned
        self.id_factory = id_factory
        self.version = Version(partner.version)
        self.switches = PartnerSwitches.of(partner.settings)
        self.pull_retry = self.switches.pull_retry(pull_defaults)
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.address = PartnerAddress(partner, self.version)
        self.objects = PartnerObjects(
            self.version, partner.roles, clock, placeholders=self.switches.dash_placeholders
        )
        self._encode = first_encoding(self.version, self.switches.encode_auth)
        self._authorization = AuthorizationValues(partner.outbound_token)
        self._our_party = self.address.our_party()
        #: every URL called must stay on the partner's registered hosts (a response_url or a
        #: Link is the partner's word: docs/security.md)
        self.sites = PartnerSites(
            [partner.versions_url or "", *(e.url for e in partner.endpoints)],
            self.switches.extra_hosts,
        )

    def one_object(self, data: Any, what: str) -> Any:
        """The ``data`` of an answer that is one object (``what``, e.g. ``"CommandResponse"``):
        with the partner's ``single_object_lists`` switch a list of exactly one JSON object is
        read as that object, logged (OCPI 2.2.1 transport_and_format §Response format: ``data``
        is "an array of objects" only where the module says so). Anything else is returned as
        it is, for the caller to check."""
        if (
            self.switches.single_object_lists
            and isinstance(data, list)
            and len(data) == 1
            and isinstance(data[0], dict)
        ):
            log.info(
                "partner %s: %s answered as a list of one; its element read "
                "(switch single_object_lists)",
                self.partner.id,
                what,
            )
            return data[0]
        return data

    @property
    def encode_auth(self) -> bool:
        """The Authorization encoding currently used (True: Base64)."""
        return self._encode

    async def request(
        self,
        method: str,
        url: str,
        *,
        module: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content: bytes | None = None,
        to_party: PartyRef | None = None,
        correlation_id: str | None = None,
        from_party: PartyRef | None = None,
        timeout: float | None = None,
        object_id: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one OCPI request and return the HTTP response with its parsed success envelope.
        ``body`` is sent as JSON unless ``content`` (bytes) is given; ``from_party`` replaces
        our party in ``OCPI-from-*`` (a hub forwards for the original sender), ``timeout`` the
        partner's, ``extra_headers`` more headers sent as given (a hub passes a sender's
        message signature on); they never replace the OCPI ones. Raises the error tree's
        exceptions for everything else (module docstring).

        Every HTTP exchange (each attempt of the 401 retry, and one that got no answer) goes to
        the exchange log when the client has one (:func:`~ocpikit.client.http.traffic_of`),
        with ``module`` and ``object_id`` (what the request was about) as its subject."""
        if body is not None and content is None:
            content = orjson.dumps(body)
        headers, ids = request_headers(
            self.version,
            module,
            has_body=content is not None,
            from_party=from_party or self._our_party,
            to_party=to_party,
            correlation_id=correlation_id,
            id_factory=self.id_factory,
            always_route=self.switches.routing_headers_always,
        )
        if extra_headers:
            taken = {name.lower() for name in headers} | {"authorization"}
            headers.update(
                (name, value) for name, value in extra_headers.items() if name.lower() not in taken
            )
        if params:
            url = with_query(url, dict(params))
        self.sites.check(url, "URL the partner gave us (response_url, Link)")
        attempts = AuthAttempts(self._encode, self.switches.auth_retry)
        response: httpx.Response | None = None
        log = _Traffic(self, method, url, module, object_id, ids, content, headers)
        for attempt, encode in enumerate(attempts.encodings()):
            self._authorization.set_on(headers, encode)
            log.start()
            try:
                response = await self._send(method, url, headers, content, timeout)
            except Exception as exc:
                log.failed(exc)
                raise
            status = response.status_code
            if not attempts.retry_after(status):
                learned = attempts.learned(attempt, status)
                if learned is not None:
                    await self._learned(learned)
                break
            log.answered(response, None)
        assert response is not None
        verdict = classify_reply(
            response.status_code, response.content, response.headers.get("retry-after"), self.clock
        )
        log.answered(response, verdict.envelope)
        error = verdict.error()
        if error is not None:
            raise error from verdict.cause
        assert verdict.envelope is not None
        return Reply(response, verdict.envelope, ids)

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        timeout: float | None = None,
    ) -> httpx.Response:
        try:
            return await exchange(
                self.http,
                method,
                url,
                headers=headers,
                content=content,
                timeout=timeout if timeout is not None else self.switches.timeout,
            )
        except httpx.HTTPError as exc:
            raise TransportError.wrap(exc, url=_safe_url(url)) from exc

    async def _learned(self, encode: bool) -> None:
        log.warning(
            "partner %s: Authorization %s worked after a 401 (switch encode_auth=%s)",
            self.partner.id,
            "Base64" if encode else "raw",
            str(encode).lower(),
        )
        self._encode = encode
        if self.on_auth_learned is not None:
            await self.on_auth_learned(self.partner.id, encode)


class _Traffic:
    """The exchange-log records of one :meth:`RequestDriver.request` (nothing at all when the
    client logs nothing: a few attribute reads per request)."""

    __slots__ = (
        "_sink",
        "_t0",
        "at",
        "content",
        "driver",
        "headers",
        "ids",
        "method",
        "module",
        "object_id",
        "url",
    )

    def __init__(
        self,
        driver: RequestDriver,
        method: str,
        url: str,
        module: str,
        object_id: str | None,
        ids: MessageIds | None,
        content: bytes | None,
        headers: dict[str, str],
    ) -> None:
        self._sink = traffic_of(driver.http)
        self.driver, self.method, self.url, self.module = driver, method, url, module
        self.object_id, self.ids, self.content, self.headers = object_id, ids, content, headers
        self._t0 = 0.0
        self.at: datetime | None = None

    def start(self) -> None:
        if self._sink is not None:
            self._t0 = time.perf_counter()
            self.at = self.driver.clock.now()

    def answered(self, response: httpx.Response, envelope: Envelope | None) -> None:
        if self._sink is not None:
            self._sink(self._exchange(response, envelope, None))

    def failed(self, exc: BaseException) -> None:
        if self._sink is not None:
            cause = exc.__cause__  # the transport's own error: its kind only (no URL, no token)
            why = f" ({type(cause).__name__})" if cause is not None else ""
            self._sink(self._exchange(None, None, f"{type(exc).__name__}: {exc}{why}"))

    def _exchange(
        self, response: httpx.Response | None, envelope: Envelope | None, error: str | None
    ) -> Exchange:
        ids, driver = self.ids, self.driver
        return Exchange(
            direction=ExchangeDirection.OUTBOUND,
            method=self.method,
            url=self.url,
            started_at=self.at or driver.clock.now(),
            partner_id=driver.partner.id,
            duration_ms=(time.perf_counter() - self._t0) * 1000,
            status=response.status_code if response is not None else None,
            ocpi_status=envelope.status_code if envelope is not None else None,
            request_headers=tuple(self.headers.items()),
            request_body=self.content,
            response_headers=tuple(response.headers.items()) if response is not None else (),
            response_body=log_excerpt(response.content) if response is not None else None,
            request_id=ids.request_id if ids is not None else None,
            correlation_id=ids.correlation_id if ids is not None else None,
            error=error,
            secrets=(driver.partner.outbound_token or "",),
            module=self.module,
            object_id=self.object_id,
        )


def _safe_url(url: str) -> str:
    """A URL for error messages: no query string (it may carry response URLs or ids)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
