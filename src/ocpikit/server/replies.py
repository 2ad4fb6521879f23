"""The envelope bytes of an answer (core.envelope builds every envelope; this module places a
handler's reply in one).

Plan of the speed trick: a reply that carries pre-serialized data (cached wire bytes of a page
of objects) is placed between the envelope's two ends from
:func:`ocpikit.core.envelope.success_around`, with no model built; for a list, the ends are
glued to the first and last (small) item and one ``b",".join`` builds the body, so the items
(a page can be hundreds of KiB) are copied once. Invariant: :func:`join_array` returns what
:func:`join_array_plainly` (the reference) returns.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ocpikit.core.clock import Clock
from ocpikit.core.envelope import error as error_envelope
from ocpikit.core.envelope import success, success_around
from ocpikit.core.errors import OcpiError, error_for_status
from ocpikit.protocol.handlers import Reply
from ocpikit.protocol.handlers.base import UNSET

__all__ = ["error_body", "join_array", "join_array_plainly", "reply_body"]


def error_body(exc: OcpiError, clock: Clock) -> bytes:
    """The envelope of an OCPI error."""
    return error_envelope(exc, clock=clock).to_json()


def reply_body(reply: Reply, clock: Clock) -> bytes:
    """The envelope of a handler's reply."""
    if reply.raw_data is not None or reply.raw_items is not None:
        head, tail = success_around(clock=clock, status_message=reply.status_message or "Success")
        if reply.raw_data is not None:
            return b"".join((head, reply.raw_data, tail))
        return join_array(head, reply.raw_items or (), tail)
    if reply.status_code >= 2000:
        # an OCPI error that still carries data (e.g. 2003 with CommandResponse REJECTED)
        err = error_for_status(reply.status_code, reply.status_message)
        body = error_envelope(err, clock=clock).to_dict()
        if reply.data is not UNSET:
            body = {"data": reply.data, **body}
        return orjson.dumps(body)
    if reply.data is UNSET:
        head, tail = success_around(
            clock=clock, status_message=reply.status_message, with_data=False
        )
        return head + tail
    return success(reply.data, clock=clock, status_message=reply.status_message).to_json()


def join_array_plainly(head: bytes, items: Sequence[bytes], tail: bytes) -> bytes:
    """The reference: ``head`` + a JSON array of the serialized ``items`` + ``tail``."""
    return head + b"[" + b",".join(items) + b"]" + tail


def join_array(head: bytes, items: Sequence[bytes], tail: bytes) -> bytes:
    """:func:`join_array_plainly` with one copy of the items."""
    if not items:
        return head + b"[]" + tail
    parts = list(items)
    parts[0] = head + b"[" + parts[0]
    parts[-1] = parts[-1] + b"]" + tail
    return b",".join(parts)
