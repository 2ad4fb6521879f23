"""How often a caller may call: a token bucket per partner connection and a window of failed
authentications per network address (docs/security.md, "Limits"). Pure: the caller gives the
time (monotonic seconds), so tests need no clock.

Invariants: a bucket holds at most ``burst`` tokens and refills at ``rate`` a second; a call
takes one token or is told how many seconds until one is there (the ``Retry-After`` of a 429).
An address with ``max_failures`` failed authentications within ``window`` seconds is refused
until the oldest of them leaves the window. Both tables are bounded (``max_keys``): the least
recently used key is forgotten first, so a flood of new keys cannot grow memory.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass, field

__all__ = ["FailureWindow", "KeyedBuckets", "TokenBucket", "retry_after"]


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` at once; starts full."""

    rate: float
    burst: float
    tokens: float = field(default=-1.0)
    stamp: float = 0.0

    def take(self, now: float) -> float | None:
        """None when a token was taken; else the seconds until one will be there."""
        if self.tokens < 0:  # first call: full
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


class KeyedBuckets:
    """A :class:`TokenBucket` per key (a partner connection); ``rate`` 0 turns limiting off."""

    def __init__(self, rate: float, burst: float, *, max_keys: int = 10_000) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str, now: float) -> float | None:
        """None when ``key`` may call now; else the seconds to wait."""
        if self.rate <= 0:
            return None
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(now)


class FailureWindow:
    """Failed authentications per address; ``max_failures`` 0 turns it off."""

    def __init__(self, max_failures: int, window: float, *, max_keys: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def blocked(self, key: str, now: float) -> float | None:
        """None when ``key`` may try; else the seconds until it may."""
        if self.max_failures <= 0:
            return None
        times = self._recent(key, now)
        if times is None or len(times) < self.max_failures:
            return None
        return max(0.001, times[0] + self.window - now)

    def failed(self, key: str, now: float) -> None:
        """Count one failed authentication of ``key``."""
        if self.max_failures <= 0:
            return
        times = self._recent(key, now)
        if times is None:
            times = self._failures[key] = deque(maxlen=self.max_failures)
            if len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(key)
        times.append(now)


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
