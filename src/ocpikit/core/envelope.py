"""The OCPI response envelope: the ONLY place envelopes are built or read (DESIGN §6;
DIGEST §1.3 response format, §1.4 status codes).

Every response body, all versions, is ``{data?, status_code, status_message?, timestamp}``.

Building (strict when sending):

- :func:`success` wraps data with ``1000`` (or a custom ``19xx``); when there is nothing the
  spec asks for, ``data`` is left out entirely (d2/2.3.0 note on the response format);
- :func:`error` turns any :class:`~ocpikit.core.errors.OcpiError` into an error envelope with
  its code and message and no ``data``; the HTTP status to answer with is ``exc.http_status``;
- a success always has a ``status_message`` (:data:`SUCCESS_MESSAGE` when the handler names
  none): the field is optional, but the spec's examples all carry one and a client that
  requires it (latam-evra-ocpi, docs/testing.md "Tried against") refuses an answer without it;
- ``timestamp`` always comes from an injected :class:`~ocpikit.core.clock.Clock`;
- ``status_message`` is at most :data:`STATUS_MESSAGE_LIMIT` (255) characters
  (:func:`bounded_status_message`): the spec gives the field no length (transport_and_format
  §Response format: ``string``, ``?``), OpenAPI descriptions of OCPI bound it at 255, and a
  bounded message is valid under both. A list of problems keeps its first entries and says how
  many more there were; the whole list stays in the exchange log (the request body) and in the
  raised error's ``message``.

Reading (tolerant when receiving): :func:`parse_envelope` accepts ``data`` absent, ``null`` or
anything on non-``1xxx`` codes, unknown extra keys, custom ``x9xx`` codes and a missing or
malformed ``timestamp`` (kept as ``None``: it carries no behaviour). What cannot be an envelope
(not JSON, not an object, no four-digit ``status_code``) raises
:class:`~ocpikit.core.errors.RemoteProtocolError`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import orjson
import pydantic_core
from pydantic import BaseModel, ConfigDict, ValidationError

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.errors import OcpiError, RemoteProtocolError, error_for_status
from ocpikit.core.status import StatusCode, category_of, lookup
from ocpikit.core.types import format_datetime, parse_datetime, to_json_number

__all__ = [
    "STATUS_MESSAGE_LIMIT",
    "SUCCESS_MESSAGE",
    "Envelope",
    "bounded_status_message",
    "error",
    "parse_envelope",
    "success",
    "success_around",
]

#: the longest ``status_message`` we send, in characters (see the module docstring)
STATUS_MESSAGE_LIMIT: Final = 255
_SEPARATOR: Final = "; "
#: the ``status_message`` of a success answer that names none (the spec's examples' text)
SUCCESS_MESSAGE: Final = "Success"


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


class Envelope(BaseModel):
    """One response body. ``has_data`` tells an absent ``data`` from an explicit ``null``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    data: Any = None
    status_code: int
    status_message: str | None = None
    timestamp: datetime | None = None

    @property
    def has_data(self) -> bool:
        return "data" in self.model_fields_set

    @property
    def status(self) -> StatusCode:
        return lookup(self.status_code)

    @property
    def is_success(self) -> bool:
        return self.status.is_success

    def raise_for_status(self, http_status: int | None = None) -> None:
        """Raise the partner's error (a :class:`~ocpikit.core.errors.PartnerError` that is
        also the class of its code) unless this envelope is a success."""
        if not self.is_success:
            raise self.to_error(http_status)

    def to_error(self, http_status: int | None = None) -> OcpiError:
        """The partner's error as an exception (``http_status``: what the partner answered)."""
        return error_for_status(
            self.status_code, self.status_message, remote=True, http_status=http_status
        )

    def unwrap(self, http_status: int | None = None) -> Any:
        """``data`` of a success envelope; the partner's error otherwise."""
        self.raise_for_status(http_status)
        return self.data

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready body: ``data`` only when set, ``status_message`` only when given."""
        body: dict[str, Any] = {}
        if self.has_data:
            body["data"] = self.data
        body["status_code"] = self.status_code
        if self.status_message is not None:
            body["status_message"] = self.status_message
        if self.timestamp is not None:
            body["timestamp"] = format_datetime(self.timestamp)
        return body

    def to_json(self) -> bytes:
        """Wire bytes of :meth:`to_dict`."""
        return pydantic_core.to_json(self.to_dict())


def _jsonable(value: Any) -> Any:
    """Data as plain JSON values: models dumped as on the wire (only the fields that were set),
    Decimal as JSON numbers, datetimes in the ``Z`` form."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return to_json_number(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    return value


def bounded_status_message(message: str | None) -> str | None:
    """``message`` cut to :data:`STATUS_MESSAGE_LIMIT` characters. A ``"; "``-separated list
    (the problems of a 2001, the losses a hub names) keeps its first whole entries and ends with
    ``"; ... (N more)"``; text with no entry that fits is cut and ends with ``"..."``. Messages
    within the limit are returned unchanged (the same object)."""
    if message is None or len(message) <= STATUS_MESSAGE_LIMIT:
        return message
    parts = message.split(_SEPARATOR)
    kept, out = 0, ""
    for index, part in enumerate(parts):
        candidate = part if index == 0 else out + _SEPARATOR + part
        suffix = f"{_SEPARATOR}... ({len(parts) - index - 1} more)"
        if len(candidate) + len(suffix) > STATUS_MESSAGE_LIMIT:
            break
        kept, out = index + 1, candidate
    if kept == 0:
        return message[: STATUS_MESSAGE_LIMIT - 3] + "..."
    return f"{out}{_SEPARATOR}... ({len(parts) - kept} more)"


def success(
    data: Any = UNSET,
    *,
    clock: Clock = SYSTEM_CLOCK,
    status_code: int = 1000,
    status_message: str | None = None,
) -> Envelope:
    """A success envelope. Leave ``data`` out when the spec defines none (e.g. the answer to a
    Session PUT); pass ``None`` only when the spec asks for an explicit ``null``. Invariant: it
    always carries a ``status_message`` (:data:`SUCCESS_MESSAGE` unless given): optional in the
    spec (transport_and_format §Response format), but every example of the spec has one
    and clients that read the envelope into a model with the field required refuse an answer
    without it."""
    if category_of(status_code) is None or not lookup(status_code).is_success:
        raise ValueError(f"{status_code} is not a success status code")
    fields: dict[str, Any] = {
        "status_code": status_code,
        "status_message": bounded_status_message(status_message or SUCCESS_MESSAGE),
        "timestamp": clock.now(),
    }
    if not isinstance(data, _Unset):
        fields["data"] = _jsonable(data)
    return Envelope(**fields)


def error(exc: OcpiError, *, clock: Clock = SYSTEM_CLOCK) -> Envelope:
    """The error envelope for ``exc``: its status code and (bounded) message, no ``data``.
    Answer it with HTTP ``exc.http_status``."""
    return Envelope(
        status_code=exc.status_code,
        status_message=bounded_status_message(exc.status_message),
        timestamp=clock.now(),
    )


def _loads(body: bytes | str) -> Any:
    """JSON text to Python: orjson (several times faster on a page of objects), and the
    standard library's reading of what orjson refuses (an integer beyond 64 bits, NaN)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def parse_envelope(body: bytes | str | Mapping[str, Any]) -> Envelope:
    """Read a partner's response body (see the module docstring for what is tolerated)."""
    if isinstance(body, (bytes, str)):
        try:
            decoded: Any = _loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RemoteProtocolError(
                "The partner's response is not JSON", status_code=3001
            ) from exc
    else:
        decoded = body
    if not isinstance(decoded, Mapping):
        raise RemoteProtocolError("The partner's response is not an OCPI envelope (not an object)")
    raw_code = decoded.get("status_code")
    code = _status_code(raw_code)
    if code is None:
        raise RemoteProtocolError(
            f"The partner's response has no valid OCPI status_code (got {raw_code!r})"
        )
    fields: dict[str, Any] = {k: v for k, v in decoded.items() if isinstance(k, str)}
    fields["status_code"] = code
    message = fields.get("status_message")
    if message is not None and not isinstance(message, str):
        fields["status_message"] = str(message)
    fields["timestamp"] = _timestamp(fields.get("timestamp"))
    if not lookup(code).is_success and "data" in fields and fields["data"] is None:
        fields.pop("data")  # null and absent mean the same on errors
    try:
        return Envelope(**fields)
    except ValidationError as exc:  # pragma: no cover - every field is prepared above
        raise RemoteProtocolError("The partner's response is not an OCPI envelope") from exc


def _status_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and category_of(value) is not None:
        return value
    return None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def success_around(
    *,
    clock: Clock = SYSTEM_CLOCK,
    status_code: int = 1000,
    status_message: str | None = None,
    with_data: bool = True,
) -> tuple[bytes, bytes]:
    """The wire bytes of a success envelope as ``(head, tail)`` around serialized ``data``:
    ``head + data_json + tail`` is byte for byte ``success(data, ...).to_json()`` (without
    data: ``head + tail`` is ``success(...).to_json()``). For a server that already holds the
    data as JSON bytes (cached wire forms): no model is built per response."""
    fields = (
        _success_fields(status_code, status_message or SUCCESS_MESSAGE)
        + format_datetime(clock.now()).encode()
        + b'"}'
    )
    if with_data:
        return b'{"data":', b"," + fields
    return b"{" + fields, b""


@functools.lru_cache(maxsize=256)
def _success_fields(status_code: int, status_message: str) -> bytes:
    """The members of a success envelope before the timestamp's value (checked and built once
    per code and message: every answer of a push is one of a few)."""
    if category_of(status_code) is None or not lookup(status_code).is_success:
        raise ValueError(f"{status_code} is not a success status code")
    message = orjson.dumps(bounded_status_message(status_message))
    return (
        b'"status_code":'
        + str(status_code).encode()
        + b',"status_message":'
        + message
        + b',"timestamp":"'
    )
