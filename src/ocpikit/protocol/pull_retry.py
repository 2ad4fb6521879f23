"""When a page of a pull is fetched again, and after how long (OCPI 2.2.1 ``transport_and_format``
§Offline behaviour, §Pagination; RFC 9110 §10.2.3 ``Retry-After``; DIGEST §1.5, §1.6). Pure:
:func:`failure_of` reads what went wrong from the error tree's exception, :class:`PageAttempts`
says whether and how long to wait before the next attempt, and :func:`gave_up_message` writes
the sentence the operator reads; the module client in :mod:`ocpikit.client.modules.objects`
sleeps and sends.

Invariants:

- Retried: HTTP 429 and 503 (busy), any other HTTP 5xx, a timeout or other transport failure,
  a truncated body (a cut connection, or a 2xx body that is no OCPI envelope), and the hub
  codes 4002 (timeout) and 4003 (connection problem). Everything else (our request refused,
  an answer too large, a partner's 4xx) is final at once: sending it again would get the same.
- A ``Retry-After`` is honoured (the wait is that long), capped at ``max_wait``; without one
  the wait is an exponential backoff with jitter, ``base · 2^(n-1)`` capped at ``max_wait``,
  drawn uniformly from its upper half (so a partner's many clients spread out).
- A page is sent at most ``1 + retries`` times; the count starts again for every page.
- The random source is injected (seeded in tests), so every wait is reproducible.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field

from ocpikit.core.errors import (
    LocalError,
    OcpiError,
    PartnerBusy,
    PartnerError,
    PartnerHttpError,
    ResponseTooLarge,
    TransportError,
)

__all__ = [
    "BACKOFF_BASE",
    "PULL_MAX_WAIT",
    "PULL_RETRIES",
    "FailureKind",
    "PageAttempts",
    "PageFailure",
    "RetryPolicy",
    "failure_of",
    "gave_up_message",
]

#: retries of one page after its first failure, unless the partner's ``pull_retries`` says
PULL_RETRIES = 5
#: the longest single wait in seconds, unless the partner's ``pull_max_wait`` says
PULL_MAX_WAIT = 60.0
#: the first backoff (seconds) when the partner gave no ``Retry-After``
BACKOFF_BASE = 0.5

_HUB_TRANSIENT = frozenset({4002, 4003})


class FailureKind(enum.Enum):
    """What went wrong with one attempt at a page."""

    BUSY = "busy"  # HTTP 429/503
    SERVER = "server error"  # any other HTTP 5xx
    HUB = "hub timeout or connection problem"  # OCPI 4002/4003
    TIMEOUT = "timeout"
    TRUNCATED = "truncated body"
    TRANSPORT = "transport failure"  # refused, reset, DNS, TLS
    FINAL = "final"  # anything that would fail again the same way


_RETRYABLE = frozenset(set(FailureKind) - {FailureKind.FINAL})


@dataclass(frozen=True, slots=True)
class PageFailure:
    """One failed attempt: its kind, the partner's HTTP status and OCPI status code when it
    answered, the ``Retry-After`` seconds it asked for, and a short detail."""

    kind: FailureKind
    http_status: int | None = None
    ocpi_status: int | None = None
    retry_after: float | None = None
    detail: str = ""

    @property
    def retryable(self) -> bool:
        return self.kind in _RETRYABLE

    def describe(self) -> str:
        """``HTTP 500, OCPI status 3000``, ``timeout (ReadTimeout)``, ``truncated body (HTTP
        200)``, ...: what the operator needs to tell the partner."""
        parts: list[str] = []
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.ocpi_status is not None:
            parts.append(f"OCPI status {self.ocpi_status}")
        if self.kind in (FailureKind.TIMEOUT, FailureKind.TRUNCATED, FailureKind.TRANSPORT):
            what = self.kind.value + (f" ({self.detail})" if self.detail else "")
            return f"{what}, {', '.join(parts)}" if parts else what
        if not parts:
            return self.detail or self.kind.value
        return ", ".join(parts) + (f" ({self.detail})" if self.detail else "")


def _transport_kind(detail: str) -> tuple[FailureKind, str]:
    """A transport failure's kind from its wrapped exception's name (``ReadTimeout: ...``)."""
    name = detail.split(":", 1)[0].strip()
    if name.endswith("Timeout"):
        return FailureKind.TIMEOUT, name
    if name in ("RemoteProtocolError", "IncompleteRead", "ReadError"):
        # the connection ended before the body was whole (Content-Length not reached)
        return FailureKind.TRUNCATED, name
    return FailureKind.TRANSPORT, name


def failure_of(error: OcpiError) -> PageFailure:
    """What ``error`` (raised by the request driver for one page) means for a retry."""
    if isinstance(error, LocalError | ResponseTooLarge):
        return PageFailure(FailureKind.FINAL, detail=error.message)
    if isinstance(error, PartnerBusy):
        return PageFailure(
            FailureKind.BUSY, error.partner_http_status, retry_after=error.retry_after
        )
    if isinstance(error, TransportError):
        kind, name = _transport_kind(error.detail or "")
        return PageFailure(kind, detail=name)
    if isinstance(error, PartnerHttpError):
        http = error.partner_http_status
        if http >= 500:
            return PageFailure(FailureKind.SERVER, http, detail="no OCPI envelope")
        if http < 300:
            return PageFailure(FailureKind.TRUNCATED, http, detail="no OCPI envelope")
        return PageFailure(FailureKind.FINAL, http, detail="no OCPI envelope")
    if isinstance(error, PartnerError):
        answered = error.partner_http_status
        if answered is not None and answered >= 500:
            return PageFailure(FailureKind.SERVER, answered, error.status_code)
        if error.status_code in _HUB_TRANSIENT:
            return PageFailure(FailureKind.HUB, answered, error.status_code)
        return PageFailure(FailureKind.FINAL, answered, error.status_code)
    return PageFailure(FailureKind.FINAL, detail=error.message)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often one page is sent again (``retries``) and the longest single wait
    (``max_wait`` seconds); ``base``: the first backoff without ``Retry-After``."""

    retries: int = PULL_RETRIES
    max_wait: float = PULL_MAX_WAIT
    base: float = BACKOFF_BASE

    def wait(self, failure: PageFailure, retry: int, rng: random.Random) -> float | None:
        """Seconds to wait before retry number ``retry`` (1 for the first) after ``failure``;
        ``None``: give up."""
        if not failure.retryable or retry > self.retries:
            return None
        if failure.retry_after is not None:
            return min(failure.retry_after, self.max_wait)
        ceiling = min(self.max_wait, self.base * 2.0 ** (retry - 1))
        return ceiling / 2 + rng.random() * ceiling / 2


@dataclass(slots=True)
class PageAttempts:
    """The attempts at one page: ask :meth:`failed` after each failure for the wait."""

    policy: RetryPolicy
    rng: random.Random
    attempts: int = 0
    waits: list[float] = field(default_factory=list)
    last: PageFailure | None = None
    #: the last Retry-After the partner asked for; whether the wait after it was that long
    #: (``None``: no wait followed it, the attempts were over)
    retry_after: float | None = None
    honoured: bool | None = None

    def sent(self) -> None:
        """An attempt goes out."""
        self.attempts += 1

    def failed(self, failure: PageFailure) -> float | None:
        """The attempt just sent failed with ``failure``: seconds to wait before the next,
        or ``None`` to give up."""
        self.last = failure
        wait = self.policy.wait(failure, self.attempts, self.rng)
        if failure.retry_after is not None:
            self.retry_after = failure.retry_after
            if wait is not None:
                self.honoured = wait >= failure.retry_after
        if wait is not None:
            self.waits.append(wait)
        return wait


def gave_up_message(module: str, page: int, attempts: PageAttempts) -> str:
    """``page 3 of locations failed after 6 attempts: HTTP 429, Retry-After 2 s honoured``."""
    failure = attempts.last
    sent = attempts.attempts
    head = f"page {page} of {module} failed after {sent} attempt{'s' if sent != 1 else ''}"
    if failure is None:
        return head
    text = f"{head}: {failure.describe()}"
    if attempts.retry_after is not None:
        ra = _num(attempts.retry_after)
        if attempts.honoured is True:
            return text + f", Retry-After {ra} s honoured"
        if attempts.honoured is False:
            cap = _num(attempts.policy.max_wait)
            return text + f", Retry-After {ra} s capped at {cap} s (pull_max_wait)"
        text += f", Retry-After {ra} s"
    if attempts.waits:
        n = len(attempts.waits)
        text += f", after {n} wait{'s' if n != 1 else ''} of {_num(sum(attempts.waits))} s in all"
    if not failure.retryable:
        text += " (not retried: the same request would fail again)"
    return text


def _num(seconds: float) -> str:
    """``2`` for whole seconds, else one decimal (``0.7``)."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.1f}"
