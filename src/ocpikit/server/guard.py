"""The request guard: how often a caller may call (``[limits]``, docs/security.md).

- a token bucket per partner connection (``requests_per_second``, ``burst``): a partner over it
  gets HTTP 429 with ``Retry-After``;
- a window of failed authentications per network address (``failed_auth_per_minute``): an
  address that sent that many unknown tokens in a minute gets 429 until the oldest failure is a
  minute old, before its token is even looked up.

Both tables are bounded (``ocpikit.protocol.rate_limit``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ocpikit.core.errors import TooManyRequests
from ocpikit.protocol.rate_limit import FailureWindow, KeyedBuckets, retry_after
from ocpikit.server.settings import Limits

__all__ = ["RequestGuard"]


class RequestGuard:
    """Rate limits of one platform process; ``monotonic`` is injectable for tests."""

    def __init__(self, limits: Limits, *, monotonic: Callable[[], float] = time.monotonic):
        self._monotonic = monotonic
        self._buckets = KeyedBuckets(limits.requests_per_second, limits.burst)
        self._failures = FailureWindow(limits.failed_auth_per_minute, 60.0)

    def before_authentication(self, address: str | None) -> None:
        """429 when ``address`` failed to authenticate too often lately."""
        if address is None:
            return
        wait = self._failures.blocked(address, self._monotonic())
        if wait is not None:
            raise TooManyRequests(
                "Too many failed authentications from this address", retry_after=retry_after(wait)
            )

    def authentication_failed(self, address: str | None) -> None:
        if address is not None:
            self._failures.failed(address, self._monotonic())

    def take(self, connection: str) -> None:
        """429 when ``connection`` (a partner id, or a token's digest) is over its rate."""
        wait = self._buckets.take(connection, self._monotonic())
        if wait is not None:
            raise TooManyRequests("Rate limit exceeded", retry_after=retry_after(wait))
