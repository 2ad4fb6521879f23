"""When a page of a pull is retried and after how long (``ocpikit.protocol.pull_retry``)."""

from __future__ import annotations

import random

import pytest

from ocpikit.core import errors
from ocpikit.core.errors import (
    PartnerBusy,
    PartnerHttpError,
    ResponseTooLarge,
    TransportError,
    UrlRefused,
    error_for_status,
)
from ocpikit.protocol.pull_retry import (
    FailureKind,
    PageAttempts,
    PageFailure,
    RetryPolicy,
    failure_of,
    gave_up_message,
)


def _remote(code: int, http_status: int) -> errors.OcpiError:
    return error_for_status(code, "partner said no", remote=True, http_status=http_status)


@pytest.mark.parametrize(
    ("error", "kind", "http_status", "ocpi_status"),
    [
        (PartnerBusy(partner_http_status=429, retry_after=2.0), FailureKind.BUSY, 429, None),
        (PartnerBusy(partner_http_status=503, retry_after=None), FailureKind.BUSY, 503, None),
        (_remote(3000, 500), FailureKind.SERVER, 500, 3000),
        (_remote(3000, 502), FailureKind.SERVER, 502, 3000),
        (PartnerHttpError("html", partner_http_status=500), FailureKind.SERVER, 500, None),
        (PartnerHttpError("cut", partner_http_status=200), FailureKind.TRUNCATED, 200, None),
        (_remote(4002, 200), FailureKind.HUB, 200, 4002),
        (_remote(4003, 200), FailureKind.HUB, 200, 4003),
        # final: the same request would get the same answer
        (_remote(2001, 400), FailureKind.FINAL, 400, 2001),
        (_remote(4001, 200), FailureKind.FINAL, 200, 4001),
        (PartnerHttpError("nope", partner_http_status=404), FailureKind.FINAL, 404, None),
        (ResponseTooLarge(), FailureKind.FINAL, None, None),
        (errors.RemoteProtocolError("data is not a list"), FailureKind.FINAL, None, None),
        (UrlRefused("http://127.0.0.1/", "loopback"), FailureKind.FINAL, None, None),
    ],
)
def test_what_is_retried(
    error: errors.OcpiError, kind: FailureKind, http_status: int | None, ocpi_status: int | None
) -> None:
    failure = failure_of(error)
    assert (failure.kind, failure.http_status, failure.ocpi_status) == (
        kind,
        http_status,
        ocpi_status,
    )
    assert failure.retryable is (kind is not FailureKind.FINAL)


class ReadTimeout(Exception):
    """Stands for the HTTP client's exception of that name (only its name is read)."""


class RemoteProtocolError(Exception):
    pass


class ConnectError(Exception):
    pass


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ReadTimeout("slow"), FailureKind.TIMEOUT),
        (RemoteProtocolError("peer closed connection"), FailureKind.TRUNCATED),
        (ConnectError("refused"), FailureKind.TRANSPORT),
    ],
)
def test_transport_failures_are_told_apart_by_the_wrapped_exception(
    exc: Exception, kind: FailureKind
) -> None:
    failure = failure_of(TransportError.wrap(exc, url="https://p/x"))
    assert failure.kind is kind and failure.retryable
    assert type(exc).__name__ in failure.describe()


def test_retry_after_is_honoured_and_capped() -> None:
    rng = random.Random(1)
    policy = RetryPolicy(retries=3, max_wait=10)
    busy = PageFailure(FailureKind.BUSY, 429, retry_after=2.0)
    assert policy.wait(busy, 1, rng) == 2.0
    assert policy.wait(PageFailure(FailureKind.BUSY, 429, retry_after=0.0), 1, rng) == 0.0
    long = PageFailure(FailureKind.BUSY, 429, retry_after=3600.0)
    assert policy.wait(long, 1, rng) == 10.0
    assert policy.wait(busy, 4, rng) is None  # retries over


def test_backoff_grows_with_jitter_in_its_upper_half_and_is_reproducible() -> None:
    policy = RetryPolicy(retries=8, max_wait=5, base=0.5)
    failure = PageFailure(FailureKind.SERVER, 500, 3000)
    waits = [policy.wait(failure, n, random.Random(7)) for n in range(1, 9)]
    again = [policy.wait(failure, n, random.Random(7)) for n in range(1, 9)]
    assert waits == again
    for n, wait in enumerate(waits, start=1):
        ceiling = min(5.0, 0.5 * 2 ** (n - 1))
        assert wait is not None and ceiling / 2 <= wait <= ceiling
    assert waits[-1] is not None and waits[-1] >= 2.5  # capped at max_wait, never over


def test_final_failures_and_zero_retries_give_up_at_once() -> None:
    rng = random.Random(0)
    assert RetryPolicy().wait(PageFailure(FailureKind.FINAL, 401, 2000), 1, rng) is None
    assert RetryPolicy(retries=0).wait(PageFailure(FailureKind.TIMEOUT), 1, rng) is None


def _run(attempts: PageAttempts, failures: list[PageFailure]) -> list[float | None]:
    out = []
    for failure in failures:
        attempts.sent()
        out.append(attempts.failed(failure))
    return out


def test_the_message_names_page_statuses_and_the_wait_honoured() -> None:
    attempts = PageAttempts(RetryPolicy(retries=4), random.Random(3))
    busy = PageFailure(FailureKind.BUSY, 429, retry_after=2.0)
    assert _run(attempts, [busy] * 5) == [2.0, 2.0, 2.0, 2.0, None]
    assert gave_up_message("locations", 3, attempts) == (
        "page 3 of locations failed after 5 attempts: HTTP 429, Retry-After 2 s honoured"
    )


def test_the_message_of_a_capped_retry_after_and_of_a_server_error() -> None:
    capped = PageAttempts(RetryPolicy(retries=1, max_wait=5), random.Random(3))
    _run(capped, [PageFailure(FailureKind.BUSY, 503, retry_after=120.0)] * 2)
    assert gave_up_message("tariffs", 1, capped).endswith(
        "HTTP 503, Retry-After 120 s capped at 5 s (pull_max_wait)"
    )
    server = PageAttempts(RetryPolicy(retries=2, base=1), random.Random(3))
    _run(server, [PageFailure(FailureKind.SERVER, 500, 3000)] * 3)
    text = gave_up_message("cdrs", 2, server)
    assert text.startswith("page 2 of cdrs failed after 3 attempts: HTTP 500, OCPI status 3000")
    assert f"after 2 waits of {sum(server.waits):.1f} s in all" in text


def test_the_message_of_a_final_answer_says_it_was_not_retried() -> None:
    attempts = PageAttempts(RetryPolicy(), random.Random(3))
    _run(attempts, [PageFailure(FailureKind.FINAL, 401, 2000)])
    assert gave_up_message("sessions", 1, attempts) == (
        "page 1 of sessions failed after 1 attempt: HTTP 401, OCPI status 2000 "
        "(not retried: the same request would fail again)"
    )
