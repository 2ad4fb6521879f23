from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from pydantic import BaseModel

from ocpikit.core.clock import FixedClock
from ocpikit.core.envelope import (
    STATUS_MESSAGE_LIMIT,
    Envelope,
    bounded_status_message,
    error,
    parse_envelope,
    success,
    success_around,
)
from ocpikit.core.errors import (
    InvalidOrMissingParameters,
    PartnerError,
    RemoteProtocolError,
    UnknownLocation,
    UnknownToken,
)
from ocpikit.core.types import Number

CLOCK = FixedClock("2015-06-30T21:59:59Z")


class _Thing(BaseModel):
    id: str
    name: str | None = None
    price: Number | None = None


def test_success_wraps_data_with_the_clock_timestamp() -> None:
    env = success({"id": "1"}, clock=CLOCK)
    assert env.to_dict() == {
        "data": {"id": "1"},
        "status_code": 1000,
        "status_message": "Success",
        "timestamp": "2015-06-30T21:59:59Z",
    }


def test_a_success_always_carries_a_status_message() -> None:
    # optional in the spec, required by clients that model the envelope (latam-evra-ocpi)
    for message in (None, ""):
        assert success(clock=CLOCK, status_message=message).to_dict()["status_message"] == "Success"
        head, tail = success_around(clock=CLOCK, status_message=message, with_data=False)
        assert orjson.loads(head + tail)["status_message"] == "Success"
        head, tail = success_around(clock=CLOCK, status_message=message)
        assert orjson.loads(head + b"[]" + tail)["status_message"] == "Success"


def test_success_without_data_leaves_data_out() -> None:
    body = success(clock=CLOCK).to_dict()
    assert "data" not in body
    assert body["status_code"] == 1000


def test_success_with_explicit_null_keeps_it() -> None:
    assert success(None, clock=CLOCK).to_dict()["data"] is None


def test_success_dumps_models_as_on_the_wire() -> None:
    env = success([_Thing(id="A", price=Decimal("0.25"))], clock=CLOCK, status_message="ok")
    body = json.loads(env.to_json())
    assert body["data"] == [{"id": "A", "price": 0.25}]  # unset "name" stays absent
    assert body["status_message"] == "ok"


def test_success_converts_plain_decimals_and_datetimes() -> None:
    env = success({"kwh": Decimal("12.5"), "at": datetime(2020, 1, 1, tzinfo=UTC)}, clock=CLOCK)
    assert env.to_dict()["data"] == {"kwh": 12.5, "at": "2020-01-01T00:00:00Z"}


def test_success_allows_custom_success_codes_only() -> None:
    assert success(clock=CLOCK, status_code=1901).status_code == 1901
    with pytest.raises(ValueError):
        success(clock=CLOCK, status_code=2001)
    with pytest.raises(ValueError):
        success(clock=CLOCK, status_code=200)


def test_error_envelope_from_an_error() -> None:
    exc = InvalidOrMissingParameters("Missing required field: type")
    body = error(exc, clock=CLOCK).to_dict()
    assert body == {
        "status_code": 2001,
        "status_message": "Missing required field: type",
        "timestamp": "2015-06-30T21:59:59Z",
    }
    assert exc.http_status == 400


def test_unknown_token_envelope_has_no_data() -> None:
    env = error(UnknownToken(), clock=CLOCK)
    assert env.status_code == 2004
    assert "data" not in env.to_dict()


# --- parsing ----------------------------------------------------------------------------------
def test_parse_success() -> None:
    env = parse_envelope(
        b'{"data": [{"id": "1"}], "status_code": 1000, "timestamp": "2015-06-30T21:59:59Z"}'
    )
    assert env.is_success
    assert env.has_data
    assert env.unwrap() == [{"id": "1"}]
    assert env.timestamp == datetime(2015, 6, 30, 21, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        {"status_code": 2003, "timestamp": "2015-06-30T21:59:59Z"},
        {"data": None, "status_code": 2003, "timestamp": "2015-06-30T21:59:59Z"},
        {"data": "debug: unknown LOC1", "status_code": 2003, "timestamp": "2015-06-30T21:59:59Z"},
        {"data": {"trace": [1, 2]}, "status_code": 2003, "timestamp": "2015-06-30T21:59:59Z"},
    ],
)
def test_parse_error_tolerates_any_data(body: dict[str, object]) -> None:
    env = parse_envelope(json.dumps(body))
    assert not env.is_success
    with pytest.raises(UnknownLocation) as info:
        env.unwrap(http_status=200)
    assert isinstance(info.value, PartnerError)
    assert info.value.partner_http_status == 200


def test_parse_success_without_data() -> None:
    env = parse_envelope({"status_code": 1000, "timestamp": "2020-01-01T00:00:00Z"})
    assert not env.has_data
    assert env.unwrap() is None


def test_parse_tolerates_custom_codes_extras_and_sloppy_fields() -> None:
    env = parse_envelope(
        {"status_code": "2950", "status_message": 42, "timestamp": "2020-01-01T00:00:00", "x": 1}
    )
    assert env.status_code == 2950
    assert env.status.custom
    assert env.status_message == "42"
    assert env.timestamp == datetime(2020, 1, 1, tzinfo=UTC)


def test_parse_tolerates_missing_or_bad_timestamp() -> None:
    assert parse_envelope({"status_code": 1000}).timestamp is None
    assert parse_envelope({"status_code": 1000, "timestamp": "yesterday"}).timestamp is None


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"[1, 2]",
        b'{"data": []}',
        b'{"status_code": 200}',
        b'{"status_code": true}',
        b'{"status_code": "OK"}',
    ],
)
def test_parse_refuses_what_is_not_an_envelope(body: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_envelope(body)


def test_round_trip() -> None:
    env = success({"a": 1}, clock=CLOCK, status_message="fine")
    again = parse_envelope(env.to_json())
    assert again.to_dict() == env.to_dict()
    assert isinstance(again, Envelope)


@pytest.mark.parametrize("message", [None, "Success", 'quote " and ü and \n', "", "x; " * 200])
@pytest.mark.parametrize("code", [1000, 1001])
def test_success_around_is_byte_for_byte_the_envelope(message: str | None, code: int) -> None:
    from datetime import UTC, datetime

    import orjson

    from ocpikit.core.clock import FixedClock
    from ocpikit.core.envelope import success_around

    for stamp in (
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    ):
        clock = FixedClock(stamp)
        data = [{"id": "L1", "n": 1.5}, {"id": "L2"}]
        head, tail = success_around(clock=clock, status_code=code, status_message=message)
        want = success(data, clock=clock, status_code=code, status_message=message).to_json()
        assert head + orjson.dumps(data) + tail == want
        head, tail = success_around(
            clock=clock, status_code=code, status_message=message, with_data=False
        )
        assert (
            head + tail == success(clock=clock, status_code=code, status_message=message).to_json()
        )
    with pytest.raises(ValueError):
        success_around(status_code=2001)


def test_an_error_with_many_problems_keeps_its_first_ones_within_255_characters() -> None:
    problems = [f"evses[{i}].connectors[0].standard: Field required" for i in range(30)]
    exc = InvalidOrMissingParameters(problems=problems)
    body = error(exc, clock=CLOCK).to_dict()
    message = body["status_message"]
    assert len(message) <= STATUS_MESSAGE_LIMIT == 255
    assert message.startswith("Invalid or missing parameters: evses[0].connectors[0].standard")
    kept = message.count("Field required")
    assert message.endswith(f"; ... ({30 - kept} more)") and kept >= 3
    # the raised error keeps every problem for our own logs
    assert exc.message.count("Field required") == 30


def test_bounded_status_message_cuts_text_without_a_list_and_keeps_short_ones() -> None:
    short = "Unknown location 'L1'"
    assert bounded_status_message(short) is short
    assert bounded_status_message(None) is None
    long = "y" * 300
    assert bounded_status_message(long) == "y" * 252 + "..."
    exact = "z" * 255
    assert bounded_status_message(exact) is exact
    head = "a" * 250 + "; b; c"
    assert bounded_status_message(head) == head[:252] + "..."
    assert len(success(status_message="w; " * 200, clock=CLOCK).to_dict()["status_message"]) <= 255
