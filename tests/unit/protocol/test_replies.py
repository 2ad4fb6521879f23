"""Classifying a partner's answer (protocol/replies.py): pure, no sockets."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from ocpikit.core.errors import (
    HubError,
    InvalidOrMissingParameters,
    PartnerError,
    ServerError,
    UnknownToken,
)
from ocpikit.protocol.replies import (
    PartnerBusy,
    PartnerHttpError,
    ReplyKind,
    classify_reply,
    parse_retry_after,
)

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.reads = 0

    def now(self) -> datetime:
        self.reads += 1
        return NOW


def body(code: int, data: object = None) -> bytes:
    return orjson.dumps({"status_code": code, "timestamp": "2024-03-01T12:00:00Z", "data": data})


def test_a_success_envelope_is_a_success_and_no_error() -> None:
    clock = Clock()
    reply = classify_reply(200, body(1000, [1, 2]), None, clock)
    assert reply.kind is ReplyKind.SUCCESS
    assert reply.envelope is not None and reply.envelope.data == [1, 2]
    assert reply.error() is None
    assert clock.reads == 0  # the clock is read only for a Retry-After date


@pytest.mark.parametrize(
    ("code", "kind", "family"),
    [
        (2001, ReplyKind.CLIENT_ERROR, InvalidOrMissingParameters),
        (2004, ReplyKind.CLIENT_ERROR, UnknownToken),
        (3000, ReplyKind.SERVER_ERROR, ServerError),
        (4001, ReplyKind.HUB_ERROR, HubError),
    ],
)
def test_the_envelopes_status_code_decides_the_kind(
    code: int, kind: ReplyKind, family: type[Exception]
) -> None:
    reply = classify_reply(400, body(code), None, Clock())
    assert reply.kind is kind
    error = reply.error()
    assert isinstance(error, family) and isinstance(error, PartnerError)
    assert error.partner_http_status == 400


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_busy_whatever_the_body(status: int) -> None:
    reply = classify_reply(status, body(1000), "12", Clock())
    assert reply.kind is ReplyKind.BUSY and reply.retry_after == 12.0
    error = reply.error()
    assert isinstance(error, PartnerBusy)
    assert (error.partner_http_status, error.retry_after) == (status, 12.0)


def test_busy_with_an_http_date() -> None:
    reply = classify_reply(503, b"", "Fri, 01 Mar 2024 12:01:00 GMT", Clock())
    assert reply.retry_after == 60.0


@pytest.mark.parametrize("content", [b"", b"<html>oops</html>", b"[1]", b'{"status": 200}'])
def test_a_body_that_is_no_envelope(content: bytes) -> None:
    reply = classify_reply(502, content, None, Clock())
    assert reply.kind is ReplyKind.NOT_ENVELOPE and reply.cause is not None
    error = reply.error()
    assert isinstance(error, PartnerHttpError) and error.partner_http_status == 502


def test_a_success_code_on_an_http_error_is_not_trusted() -> None:
    reply = classify_reply(500, body(1000), None, Clock())
    assert reply.kind is ReplyKind.HTTP_ERROR
    error = reply.error()
    assert isinstance(error, PartnerHttpError) and "OCPI status 1000" in error.message


def test_a_success_code_on_a_2xx_or_3xx_is_a_success() -> None:
    assert classify_reply(201, body(1000), None, Clock()).kind is ReplyKind.SUCCESS
    assert classify_reply(304, body(1000), None, Clock()).kind is ReplyKind.SUCCESS


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("7", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("garbage", None),
        ("Fri, 01 Mar 2024 12:00:30 GMT", 30.0),
        ("Fri, 01 Mar 2024 11:00:00 GMT", 0.0),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds
