"""How a partner's answer to one of our requests is read: success, the partner's OCPI error, a
busy partner, or an answer that is no OCPI envelope (OCPI 2.2.1 ``transport_and_format``
§Response format; ``status_codes``; DIGEST §1.3-§1.5). Pure: the request driver in
:mod:`ocpikit.client.driver` hands the HTTP status, the ``Retry-After`` header and the body in,
and raises what :meth:`ReplyClass.error` gives back.

Invariants:

- HTTP 429 and 503 are :attr:`ReplyKind.BUSY` whatever the body says, with the
  ``Retry-After`` delay when the partner gave one (RFC 9110 §10.2.3).
- A body that is not an envelope is :attr:`ReplyKind.NOT_ENVELOPE`, whatever the HTTP status.
- An envelope's status code decides before the HTTP status: ``2xxx`` is a client error,
  ``3xxx`` a server error, ``4xxx`` a hub error (each the partner's error of that code); a
  ``1xxx`` code on an HTTP error status (400 and up) is not trusted (:attr:`ReplyKind.HTTP_ERROR`).
"""

from __future__ import annotations

import email.utils
import enum
from dataclasses import dataclass
from datetime import datetime

from ocpikit.core.clock import Clock
from ocpikit.core.envelope import Envelope, parse_envelope
from ocpikit.core.errors import (
    OcpiError,
    PartnerBusy,
    PartnerHttpError,
    RemoteProtocolError,
)
from ocpikit.core.status import StatusCategory, category_of

__all__ = [
    "PartnerBusy",
    "PartnerHttpError",
    "ReplyClass",
    "ReplyKind",
    "classify_reply",
    "parse_retry_after",
]

_BUSY_STATUSES = frozenset({429, 503})


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date (RFC 9110
    §10.2.3); ``None`` when absent or unreadable, never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


class ReplyKind(enum.Enum):
    """What an answer means for the caller."""

    SUCCESS = "success"
    CLIENT_ERROR = "client error"  # 2xxx: the partner says our request broke a rule
    SERVER_ERROR = "server error"  # 3xxx: the partner failed
    HUB_ERROR = "hub error"  # 4xxx: the hub between us failed
    BUSY = "busy"  # HTTP 429/503: come back later
    NOT_ENVELOPE = "not an envelope"  # no OCPI body at all
    HTTP_ERROR = "http error"  # a success code on an HTTP error status


_KIND_OF_CATEGORY = {
    StatusCategory.SUCCESS: ReplyKind.SUCCESS,
    StatusCategory.CLIENT: ReplyKind.CLIENT_ERROR,
    StatusCategory.SERVER: ReplyKind.SERVER_ERROR,
    StatusCategory.HUB: ReplyKind.HUB_ERROR,
}


@dataclass(frozen=True, slots=True)
class ReplyClass:
    """One classified answer: its kind, the HTTP status, the envelope when there was one and
    the ``Retry-After`` delay of a busy partner."""

    kind: ReplyKind
    http_status: int
    envelope: Envelope | None = None
    retry_after: float | None = None
    cause: RemoteProtocolError | None = None  # why the body is not an envelope

    def error(self) -> OcpiError | None:
        """The exception of the error tree this answer stands for; ``None`` on success."""
        status = self.http_status
        if self.kind is ReplyKind.SUCCESS:
            return None
        if self.kind is ReplyKind.BUSY:
            return PartnerBusy(
                f"HTTP {status} from the partner",
                partner_http_status=status,
                retry_after=self.retry_after,
            )
        if self.kind is ReplyKind.NOT_ENVELOPE:
            return PartnerHttpError(
                f"HTTP {status} with a body that is not an OCPI envelope",
                partner_http_status=status,
            )
        assert self.envelope is not None
        if self.kind is ReplyKind.HTTP_ERROR:
            return PartnerHttpError(
                f"HTTP {status} with OCPI status {self.envelope.status_code}",
                partner_http_status=status,
            )
        return self.envelope.to_error(status)


def classify_reply(
    http_status: int, body: bytes, retry_after: str | None, clock: Clock
) -> ReplyClass:
    """Classify one answer (the module docstring's rules, in that order); ``clock`` is read
    only for an HTTP-date ``Retry-After``."""
    if http_status in _BUSY_STATUSES:
        return ReplyClass(
            ReplyKind.BUSY, http_status, retry_after=parse_retry_after(retry_after, clock.now())
        )
    try:
        envelope = parse_envelope(body)
    except RemoteProtocolError as exc:
        return ReplyClass(ReplyKind.NOT_ENVELOPE, http_status, cause=exc)
    category = category_of(envelope.status_code)  # never None: parse_envelope checked it
    kind = _KIND_OF_CATEGORY[category] if category is not None else ReplyKind.SERVER_ERROR
    if kind is ReplyKind.SUCCESS and http_status >= 400:
        kind = ReplyKind.HTTP_ERROR
    return ReplyClass(kind, http_status, envelope)
