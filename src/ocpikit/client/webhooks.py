"""POST queued webhook events to the operator's URL, signed (format and signature:
:mod:`ocpikit.protocol.webhooks`; docs/flows.md "Webhooks")."""

from __future__ import annotations

import logging

import httpx

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.protocol.ports import CommandRecord
from ocpikit.protocol.webhooks import after_attempt, event_body, signature_headers

__all__ = ["WebhookSender"]

log = logging.getLogger("ocpikit.webhooks")


class WebhookSender:
    """One attempt per call; the record that comes back says what is next (delivered, due
    again after the backoff, or failed for good)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        secret: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        timeout: float = 10.0,
    ) -> None:
        self.http = http
        self.url = url
        self.secret = secret
        self.clock = clock
        self.timeout = timeout

    async def deliver(self, record: CommandRecord) -> CommandRecord:
        body = event_body(record)
        now = self.clock.now()
        headers = signature_headers(record, body, self.secret, int(now.timestamp()))
        error: str | None = None
        try:
            resp = await self.http.post(
                self.url, content=body, headers=headers, timeout=self.timeout
            )
            if not 200 <= resp.status_code < 300:
                error = f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is not None:
            log.info("webhook %s: %s", record.id, error)
        return after_attempt(record, error, now)
