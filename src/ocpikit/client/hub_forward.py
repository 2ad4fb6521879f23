"""The hub's forwarding port over HTTP (:class:`ocpikit.protocol.hub_routing.HubForwarder`):
one request sent on to a connected party through its :class:`~ocpikit.client.driver.RequestDriver`
(its version, token, URL policy), and its answer handed back as it came, error envelopes
included (OCPI 2.2.1 status_codes §4xxx: a hub passes on the receiver's 2xxx and 3xxx).

Never a hang: a forwarded request waits at most ``timeout`` seconds (or the partner's own
shorter ``timeout`` switch); no answer in time is a 4002, a receiver that cannot be reached
(refused, DNS, no endpoint for the module, busy) a 4003. :meth:`HttpHubForwarder.probe` tells
whether a connection answers at all (the hub's reachability probe).
"""

from __future__ import annotations

import httpx

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.errors import (
    HubConnectionProblem,
    HubTimeout,
    NoEndpoint,
    PartnerError,
    TransportError,
)
from ocpikit.protocol.addressing import join_url
from ocpikit.protocol.hub_routing import Forward, Forwarded
from ocpikit.protocol.ports import Partner
from ocpikit.protocol.replies import PartnerBusy

from .driver import RequestDriver

__all__ = ["HttpHubForwarder"]


class HttpHubForwarder:
    """Forwards over ``http`` (the URL policy's client, shared)."""

    def __init__(
        self, http: httpx.AsyncClient, *, clock: Clock = SYSTEM_CLOCK, timeout: float = 20.0
    ):
        self.http = http
        self.clock = clock
        self.timeout = timeout
        #: the driver of each connection, kept while the hub passes the same Partner object
        self._drivers: dict[str, tuple[Partner, RequestDriver]] = {}

    def _driver(self, partner: Partner) -> RequestDriver:
        kept = self._drivers.get(partner.id)
        if kept is not None and kept[0] is partner:
            return kept[1]
        driver = RequestDriver(partner, self.http, clock=self.clock)
        self._drivers[partner.id] = (partner, driver)
        return driver

    async def forward(self, call: Forward) -> Forwarded:
        try:
            driver = self._driver(call.partner)
            url = call.url or join_url(driver.address.endpoint(call.module, call.role), *call.path)
        except NoEndpoint as exc:
            raise HubConnectionProblem(f"the receiver cannot be reached: {exc.message}") from None
        timeout = min(self.timeout, driver.switches.timeout)
        try:
            reply = await driver.request(
                call.method,
                url,
                module=call.module,
                params=dict(call.query) if call.query else None,
                content=call.body,
                to_party=call.to_party,
                from_party=call.from_party,
                correlation_id=call.correlation_id,
                timeout=timeout,
                extra_headers=call.headers,
            )
        except PartnerBusy as exc:
            raise HubConnectionProblem(f"the receiver is busy: {exc.message}") from None
        except PartnerError as exc:
            return Forwarded(
                http_status=exc.partner_http_status or exc.http_status,
                status_code=exc.status_code,
                status_message=exc.message,
            )
        except TransportError as exc:
            if isinstance(exc.__cause__, httpx.TimeoutException):
                raise HubTimeout(f"the receiver did not answer within {timeout:g} s") from None
            raise HubConnectionProblem("the receiver cannot be reached") from None
        envelope = reply.envelope
        headers = reply.response.headers
        return Forwarded(
            http_status=reply.response.status_code,
            status_code=envelope.status_code,
            status_message=envelope.status_message,
            data=envelope.data,
            total_count=_count(headers.get("x-total-count")),
            limit=_count(headers.get("x-limit")),
        )

    async def probe(self, partner: Partner, *, timeout: float = 5.0) -> bool:
        """Whether a connection answers at all: a GET of its versions URL with its token. Any
        HTTP answer counts (even an error: the party is there); a refused connection, a timeout,
        a cut answer or a busy partner does not."""
        if not partner.versions_url:
            return True
        try:
            driver = RequestDriver(partner, self.http, clock=self.clock)
            await driver.request("GET", partner.versions_url, module="versions", timeout=timeout)
        except PartnerError:
            return True
        except (TransportError, PartnerBusy):
            return False
        return True


def _count(value: str | None) -> int | None:
    """A count header's value; None when absent or not a count."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value)
