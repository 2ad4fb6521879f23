"""The OCPI wire conventions of the emulator, written here rather than taken from
``ocpikit.core`` so that the emulator is an independent counterpart of our server and client.

- The envelope ``{data, status_code, status_message, timestamp}`` (transport_and_format
  §Response format).
- ``Authorization: Token <token>``: raw in 2.1.1, Base64 of the UTF-8 token in 2.2.1 and 2.3.0
  (transport_and_format §Authorization header); when receiving, both forms are accepted, the
  raw one looked up first.
- The ids and routing headers of 2.2+ (transport_and_format §Unique message IDs, §Message
  Routing Headers): responses echo ``X-Request-ID`` and ``X-Correlation-ID``; a response's
  ``OCPI-to-*`` is the request's ``OCPI-from-*``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

__all__ = [
    "ROUTING",
    "authorization",
    "dumps",
    "envelope",
    "new_id",
    "now",
    "token_candidates",
]

#: the four routing header names, in their canonical spelling
ROUTING = (
    "OCPI-from-country-code",
    "OCPI-from-party-id",
    "OCPI-to-country-code",
    "OCPI-to-party-id",
)


def now(skew: float = 0.0) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=skew)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(
    data: Any = None, status_code: int = 1000, message: str | None = None, skew: float = 0.0
) -> dict[str, Any]:
    """One response envelope; ``data`` left out when None (d2 §Response format advises that)."""
    body: dict[str, Any] = {"status_code": status_code, "timestamp": _stamp(now(skew))}
    if data is not None:
        body["data"] = data
    if message is not None:
        body["status_message"] = message
    return body


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def new_id() -> str:
    return str(uuid.uuid4())


def authorization(token: str, base64_encoded: bool) -> str:
    """The ``Authorization`` value for ``token``."""
    if base64_encoded:
        return "Token " + base64.b64encode(token.encode()).decode()
    return "Token " + token


def token_candidates(header: str | None) -> Iterable[tuple[str, bool]]:
    """What an ``Authorization`` value may carry: ``(token, was_base64)`` pairs, the raw
    reading first; nothing when the scheme is not ``Token``."""
    if not header:
        return
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return
    yield value, False
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return
    if decoded:
        yield decoded, True


def routing_reply(request_headers: Mapping[str, str], own: str | None) -> dict[str, str]:
    """The routing headers of an answer: TO = the requester, FROM = ``own`` (``CC-PID``)."""
    out: dict[str, str] = {}
    cc = request_headers.get("ocpi-from-country-code")
    pid = request_headers.get("ocpi-from-party-id")
    if cc and pid:
        out["OCPI-to-country-code"] = cc
        out["OCPI-to-party-id"] = pid
    if own:
        occ, opid = own.split("-")
        out["OCPI-from-country-code"] = occ
        out["OCPI-from-party-id"] = opid
    return out


def routing_request(sender: str, receiver: str | None) -> dict[str, str]:
    """The routing headers of a request from ``sender`` to ``receiver`` (``CC-PID`` each)."""
    cc, pid = sender.split("-")
    out = {"OCPI-from-country-code": cc, "OCPI-from-party-id": pid}
    if receiver:
        rcc, rpid = receiver.split("-")
        out["OCPI-to-country-code"] = rcc
        out["OCPI-to-party-id"] = rpid
    return out
