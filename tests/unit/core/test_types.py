"""The scalar types' fast paths against their plain definitions: ``format_datetime`` formats
from the fields with ``%`` (not ``isoformat``), ``DateTime`` validates with one wrap validator
(not a before- and an after-validator) and ``Number`` has its ``allow_inf_nan`` in the compiled
decimal validator. Same strings, same values, same errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError

from ocpikit.core.types import DateTime, Number, format_datetime, parse_datetime


def _reference_format(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.utcoffset() != timedelta(0):
        value = value.astimezone(UTC)
    if value.microsecond:
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    return value.isoformat()[:-6] + "Z"


_zones: Any = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)


@given(
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=_zones)
)
def test_format_datetime_matches_isoformat(value: datetime) -> None:
    assert format_datetime(value) == _reference_format(value)


def test_format_datetime_examples() -> None:
    assert format_datetime(datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)) == "2015-06-29T20:39:09Z"
    assert format_datetime(datetime(2015, 6, 29, 20, 39, 9, 500)) == "2015-06-29T20:39:09.000Z"
    assert format_datetime(datetime(999, 1, 2, 3, 4, 5, 123456)) == "0999-01-02T03:04:05.123Z"
    plus2 = timezone(timedelta(hours=2))
    assert format_datetime(datetime(2015, 6, 29, 1, 0, tzinfo=plus2)) == "2015-06-28T23:00:00Z"


def _reject_non_string(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("DateTime must be an RFC 3339 string such as 2015-06-29T20:39:09Z")
    return value


def _reject_string_number(value: Any) -> Any:
    if isinstance(value, (str, bool)):
        raise ValueError("number must be a JSON number, not a string or boolean")
    finite = not isinstance(value, Decimal) or value.is_finite()
    if isinstance(value, int | float | Decimal) and finite and abs(value) >= 2**63:
        raise ValueError("number out of range (must be below 2^63)")
    return value


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC) if value.utcoffset() != timedelta(0) else value
    except OverflowError:
        raise ValueError(f"DateTime {value.isoformat()} is out of range in UTC") from None


_PlainDateTime = Annotated[datetime, BeforeValidator(_reject_non_string), AfterValidator(_as_utc)]
_PlainNumber = Annotated[
    Decimal, BeforeValidator(_reject_string_number), Field(allow_inf_nan=False)
]


class _Fast(BaseModel):
    when: DateTime | None = None
    many: list[Number] | None = None


class _Plain(BaseModel):
    when: _PlainDateTime | None = None
    many: list[_PlainNumber] | None = None


def _outcome(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data).model_dump()
    except ValidationError as exc:
        return [
            (e["type"], e["loc"], e["msg"], repr(e["input"])) for e in exc.errors(include_url=False)
        ]


@pytest.mark.parametrize(
    "when",
    [
        "2015-06-29T20:39:09Z",
        "2015-06-29T20:39:09.1234567Z",
        "2015-06-29T20:39:09",
        "2015-06-29T20:39:09+02:00",
        "2015-06-29T20:39:09.000500-05:30",
        "2015-06-29",
        "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:30:00-01:00",
        "garbage",
        "",
        0,
        1.5,
        True,
        [],
        datetime(2020, 1, 1),
    ],
)
def test_datetime_validator_as_before_and_after(when: Any) -> None:
    assert _outcome(_Fast, {"when": when}) == _outcome(_Plain, {"when": when})


@pytest.mark.parametrize(
    "number",
    [
        *(1, 16.69, "2.00", True, float("inf"), float("nan"), Decimal("NaN"), Decimal("1.10")),
        *("x", 2**63 - 1, 2**63, -(2**63), 2**64, 1e19, Decimal("1E+400"), Decimal("-1E+19")),
    ],
)
def test_number_validator_as_before_with_inf_nan_check(number: Any) -> None:
    assert _outcome(_Fast, {"many": [number]}) == _outcome(_Plain, {"many": [number]})


@pytest.mark.parametrize("number", [2**63, -(2**63), 2**64, 1e19, Decimal("1E+400")])
def test_numbers_that_cannot_be_kept_exactly_are_refused(number: Any) -> None:
    with pytest.raises(ValidationError, match="number out of range"):
        _Fast.model_validate({"many": [number]})


def test_a_datetime_before_the_first_utc_instant_is_refused() -> None:
    with pytest.raises(ValidationError, match="out of range in UTC"):
        _Fast.model_validate({"when": "0001-01-01T00:30:00+01:00"})
    with pytest.raises(ValueError, match="out of range in UTC"):
        parse_datetime("0001-01-01T00:30:00+01:00")
