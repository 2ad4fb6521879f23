"""Shared OCPI scalar types (``types`` chapter of every version).

All of these are ``typing.Annotated`` aliases so that pydantic's compiled core does the
validation: length limits and patterns run in Rust, not in Python loops.

- ``String<n>``: string(n), case sensitive. The spec never says whether ``n`` counts characters
  or bytes; we count characters (DIGEST §0 conventions).
- ``CiString<n>``: CiString(n), case insensitive, printable ASCII only. The value keeps its original case (so it echoes
  back unchanged); compare with :func:`ci_equal` or key with :func:`ci_key`.
- ``DateTime``: RFC 3339 / ISO 8601 timestamp (types §DateTime). Input without a designator is
  UTC; an explicit offset is tolerated and normalised to UTC; numbers are rejected. Always
  serialised with ``Z``.
- ``Number``: a JSON number held as :class:`decimal.Decimal` (money and energy never touch float
  arithmetic); serialised back as a JSON number. Strings such as ``"2.00"`` are rejected.
- ``URL``: string(255).
- Open enums (2.3.0 ``OpenEnum``): written ``SomeEnum | str`` in the models; known values become
  the enum member, unknown values are kept as plain strings and dumped back unchanged.

``CiString`` values must be printable ASCII (types §CiString; they are ids, keys and header
values); the printable-character rule of ``string`` (types §string) is not enforced on input:
tolerant when receiving.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

__all__ = [
    "URL",
    "CiString",
    "DateTime",
    "Number",
    "String",
    "ci_equal",
    "ci_key",
    "format_datetime",
    "iso_seconds",
    "parse_datetime",
    "to_json_number",
]


def ci_key(value: str) -> str:
    """Normalised form of a CiString for keys and lookups (upper case)."""
    return value.upper()


def ci_equal(a: str | None, b: str | None) -> bool:
    """Compare two CiString values case-insensitively (types §CiString)."""
    if a is None or b is None:
        return a is b
    return a.upper() == b.upper()


def _validate_datetime(value: Any, handler: ValidatorFunctionWrapHandler) -> datetime:
    """``DateTime``'s validator: numbers rejected, pydantic's (compiled) parsing, then UTC. One
    Python call around the core's parser instead of a before- and an after-validator (every
    timestamp of every pushed object goes through here)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("DateTime must be an RFC 3339 string such as 2015-06-29T20:39:09Z")
    parsed: datetime = handler(value)
    return _as_utc(parsed)


#: a Number's magnitude must stay below this: larger ones cannot be written back exactly
#: (orjson writes integers of at most 64 bits; a parser that read one as a float lost digits)
NUMBER_LIMIT = 2**63


def _too_large(value: float | Decimal) -> bool:
    if isinstance(value, Decimal):
        # NaN and infinities are left to allow_inf_nan=False
        return value.is_finite() and abs(value) >= NUMBER_LIMIT
    return abs(value) >= NUMBER_LIMIT


def _reject_string_number(value: Any) -> Any:
    # OCPI numbers are JSON numbers; pydantic's lax Decimal would take "2.00" and booleans.
    kind = type(value)
    if (kind is float or kind is int) and -NUMBER_LIMIT < value < NUMBER_LIMIT:
        return value  # what JSON gives nearly always: one test (NaN and the rest go below)
    if isinstance(value, (str, bool)):
        raise ValueError("number must be a JSON number, not a string or boolean")
    if isinstance(value, int | float | Decimal) and _too_large(value):
        raise ValueError("number out of range (must be below 2^63)")
    return value


_ZERO = timedelta(0)


def _as_utc(value: datetime) -> datetime:
    """``value`` in UTC (naive means UTC). A ValueError when UTC has no such time (e.g.
    0001-01-01T00:30:00+01:00 is before the first representable instant)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.utcoffset() != _ZERO:
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"DateTime {value.isoformat()} is out of range in UTC") from None
    return value


def format_datetime(value: datetime) -> str:
    """Wire form: UTC with ``Z``; fractional seconds only when present, at most milliseconds.

    Formatted from the fields with ``%``: the form ``isoformat`` gives, without its cost on
    every timestamp of every object dumped and every envelope."""
    value = _as_utc(value)
    us = value.microsecond
    if us:
        return "%s.%03dZ" % (iso_seconds(value), us // 1000)  # noqa: UP031
    return iso_seconds(value) + "Z"


def iso_seconds(value: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss`` of ``value`` as it is (no time zone conversion), formatted from
    its fields with ``%`` (cheaper than an f-string or ``strftime``); the year always has four
    digits (``strftime`` leaves years before 1000 unpadded on glibc)."""
    return "%04d-%02d-%02dT%02d:%02d:%02d" % (  # noqa: UP031
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
    )


def parse_datetime(value: str) -> datetime:
    """Parse an OCPI DateTime string leniently (missing designator = UTC)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return _as_utc(datetime.fromisoformat(text))


def to_json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: integral values as int, others as the shortest float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


DateTime = Annotated[
    datetime,
    WrapValidator(_validate_datetime),
    PlainSerializer(format_datetime, return_type=str, when_used="json"),
]

# allow_inf_nan before the BeforeValidator: so it is the compiled decimal validator's own
# option (after it, pydantic adds a Python after-validator to every Number)
Number = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    BeforeValidator(_reject_string_number),
    PlainSerializer(to_json_number, when_used="json"),
]


def _s(n: int) -> Any:
    return Field(max_length=n)


#: CiString's characters (types §CiString: printable ASCII only, no control characters)
PRINTABLE_ASCII = r"^[\x20-\x7E]*$"


def _ci(n: int) -> Any:
    return Field(max_length=n, pattern=PRINTABLE_ASCII)


# --- string(n) -----------------------------------------------------------------------------
String = str  # unbounded string (e.g. 2.3.0 TaxAmount.name)
String1 = Annotated[str, _s(1)]
String2 = Annotated[str, _s(2)]
String3 = Annotated[str, _s(3)]
String4 = Annotated[str, _s(4)]
String5 = Annotated[str, _s(5)]
String8 = Annotated[str, _s(8)]
String10 = Annotated[str, _s(10)]
String11 = Annotated[str, _s(11)]
String15 = Annotated[str, _s(15)]
String16 = Annotated[str, _s(16)]
String20 = Annotated[str, _s(20)]
String25 = Annotated[str, _s(25)]
String32 = Annotated[str, _s(32)]
String36 = Annotated[str, _s(36)]
String39 = Annotated[str, _s(39)]
String40 = Annotated[str, _s(40)]
String45 = Annotated[str, _s(45)]
String48 = Annotated[str, _s(48)]
String50 = Annotated[str, _s(50)]
String64 = Annotated[str, _s(64)]
String100 = Annotated[str, _s(100)]
String128 = Annotated[str, _s(128)]
String255 = Annotated[str, _s(255)]
String512 = Annotated[str, _s(512)]
String5000 = Annotated[str, _s(5000)]

# --- CiString(n) ---------------------------------------------------------------------------
CiString = Annotated[str, Field(pattern=PRINTABLE_ASCII)]
CiString1 = Annotated[str, _ci(1)]
CiString2 = Annotated[str, _ci(2)]
CiString3 = Annotated[str, _ci(3)]
CiString4 = Annotated[str, _ci(4)]
CiString5 = Annotated[str, _ci(5)]
CiString8 = Annotated[str, _ci(8)]
CiString10 = Annotated[str, _ci(10)]
CiString15 = Annotated[str, _ci(15)]
CiString16 = Annotated[str, _ci(16)]
CiString20 = Annotated[str, _ci(20)]
CiString25 = Annotated[str, _ci(25)]
CiString36 = Annotated[str, _ci(36)]
CiString39 = Annotated[str, _ci(39)]
CiString45 = Annotated[str, _ci(45)]
CiString48 = Annotated[str, _ci(48)]
CiString50 = Annotated[str, _ci(50)]
CiString64 = Annotated[str, _ci(64)]
CiString100 = Annotated[str, _ci(100)]
CiString255 = Annotated[str, _ci(255)]

URL = Annotated[str, _s(255)]
