"""What the exchange log keeps of a row (``[exchange_log] bodies``): a successful exchange its
line and an excerpt plus SHA-256 of each body, a failed one (or credentials) everything."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from ocpikit.operations.exchange_log import COMPACT_EXCERPT, LogPolicy, compact, log_policy
from ocpikit.protocol.ports import Exchange, ExchangeDirection

PAGE = b'{"data": [' + b'{"id": "LOC"},' * 5000 + b'], "status_code": 1000}'


def exchange(**over: object) -> Exchange:
    base: dict[str, object] = {
        "direction": ExchangeDirection.INBOUND,
        "method": "GET",
        "url": "https://us/ocpi/2.2.1/cpo/locations?limit=100",
        "started_at": datetime(2026, 1, 1, tzinfo=UTC),
        "status": 200,
        "ocpi_status": 1000,
        "request_headers": (("authorization", "Token x"), ("x-request-id", "r1")),
        "response_headers": (("x-total-count", "500"),),
        "response_body": PAGE,
        "module": "locations",
    }
    return Exchange(**{**base, **over})  # type: ignore[arg-type]


def test_a_successful_page_keeps_its_line_an_excerpt_and_the_hash() -> None:
    kept = compact(exchange(), LogPolicy())
    assert kept.request_headers == () and kept.response_headers == ()
    body = kept.response_body or b""
    assert body.startswith(PAGE[:COMPACT_EXCERPT])
    assert (
        hashlib.sha256(PAGE).hexdigest()[:32].encode() in body and str(len(PAGE)).encode() in body
    )
    assert len(body) < 120 and (kept.url, kept.status) == (exchange().url, 200)


@pytest.mark.parametrize(
    "over",
    [
        {"status": 404},
        {"status": 200, "ocpi_status": 2001},
        {"status": None, "error": "timeout"},
        {"url": "https://us/ocpi/2.2.1/credentials", "module": "credentials"},
    ],
)
def test_failures_and_credentials_are_kept_whole(over: dict[str, object]) -> None:
    e = exchange(**over)
    assert compact(e, LogPolicy()) is e


def test_all_keeps_everything_and_the_policy_is_read_from_the_config() -> None:
    e = exchange()
    assert compact(e, LogPolicy(bodies="all")) is e
    assert log_policy({}) == LogPolicy("failures")
    assert log_policy({"exchange_log": {"bodies": "all"}}) == LogPolicy("all")
    with pytest.raises(ValueError, match=r"exchange_log\.bodies"):
        log_policy({"exchange_log": {"bodies": "some"}})


def test_compact_keeps_every_other_field_as_dataclasses_replace_would() -> None:
    import dataclasses

    # every field set to a value of its own (a field added later is covered too)
    unset = {f.name for f in dataclasses.fields(Exchange)} - {
        "direction",
        "method",
        "url",
        "started_at",
        "status",
        "ocpi_status",
        "request_headers",
        "response_headers",
        "response_body",
        "error",
    }
    full = exchange(**{name: f"value-of-{name}" for name in unset})
    kept = compact(full, LogPolicy())
    reference = dataclasses.replace(
        full,
        request_headers=(),
        response_headers=(),
        request_body=kept.request_body,
        response_body=kept.response_body,
    )
    assert kept == reference


def test_sample_reads_is_read_from_the_config() -> None:
    assert log_policy({}).sample_reads == 1
    assert log_policy({"exchange_log": {"sample_reads": 100}}) == LogPolicy("failures", 100)
    for wrong in (0, -3, 1.5, "10", True):
        with pytest.raises(ValueError, match=r"exchange_log\.sample_reads"):
            log_policy({"exchange_log": {"sample_reads": wrong}})


def test_sampled_reads_count_registrations_under_way_as_one() -> None:
    from ocpikit.operations.exchange_log import ExchangeLogBatcher

    log = ExchangeLogBatcher(None, policy=LogPolicy(sample_reads=2))  # type: ignore[arg-type]
    kept = [log.keeps_read(f"pending-{n:04x}", "versions") for n in range(4)]
    assert kept == [True, False, True, False]  # one counter, not one per pending id
    assert log.keeps_read("DE-MSP", "versions") is True
