"""Made-up X-Request-ID / X-Correlation-ID values for requests that carry none.

Plan: draw 128 bits from the (non-cryptographic) PRNG, set the version-4 and RFC 4122 variant
bits as ``uuid.UUID(version=4)`` sets them, and format the hex digits directly instead of
building a :class:`uuid.UUID` object; ids are correlation handles, not secrets, so
``os.urandom`` (a system call that also hands the GIL to the database threads) is not needed.
A request that carries neither id gets both from one draw of 256 bits
(:func:`request_message_ids`), its ids read straight from the lower-case headers.

Invariants: :func:`message_id` returns the text :func:`message_id_plainly` (the reference,
``str(uuid.UUID(int=bits, version=4))``) returns for the same bits: a version-4 UUID in its
canonical lower-case form. :func:`request_message_ids` returns what
``MessageIds.from_headers(headers, factory=...)`` (the reference) returns when the factory
gives ``message_id`` of the high 128 bits of the draw, then of the low 128 bits.
"""

from __future__ import annotations

import random
import uuid

from ocpikit.core.headers import X_CORRELATION_ID, X_REQUEST_ID, LowerHeaders, MessageIds

__all__ = ["message_id", "message_id_plainly", "request_message_ids"]

#: the bits of a UUID that encode its version and variant, cleared before they are set
_VERSION_AND_VARIANT = ~((0xC000 << 48) | (0xF000 << 64))
#: version 4 and the RFC 4122 variant
_V4_RFC_4122 = (0x8000 << 48) | (0x4000 << 64)
#: the same, for two UUIDs side by side in 256 bits
_PAIR_CLEAR = ~(((0xC000 << 48) | (0xF000 << 64)) * ((1 << 128) + 1))
_PAIR_SET = _V4_RFC_4122 * ((1 << 128) + 1)

_REQUEST_ID = X_REQUEST_ID.lower()
_CORRELATION_ID = X_CORRELATION_ID.lower()


def message_id(bits: int | None = None) -> str:
    """A version-4 UUID text from ``bits`` (128 random bits when not given)."""
    if bits is None:
        bits = random.getrandbits(128)
    bits = bits & _VERSION_AND_VARIANT | _V4_RFC_4122
    digits = f"{bits:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def message_id_plainly(bits: int) -> str:
    """The reference: the same id through :class:`uuid.UUID`."""
    return str(uuid.UUID(int=bits, version=4))


def request_message_ids(headers: LowerHeaders, bits: int | None = None) -> MessageIds:
    """The ids of an incoming request (``MessageIds.from_headers``), the missing ones made up
    from ``bits`` (256 random bits when not given)."""
    request_id = (headers.get(_REQUEST_ID) or "").strip()
    correlation_id = (headers.get(_CORRELATION_ID) or "").strip()
    if request_id and correlation_id:
        return MessageIds(request_id, correlation_id)
    if bits is None:
        bits = random.getrandbits(256)
    if request_id:
        return MessageIds(request_id, message_id(bits >> 128))
    if correlation_id:
        return MessageIds(message_id(bits >> 128), correlation_id)
    d = f"{bits & _PAIR_CLEAR | _PAIR_SET:064x}"
    return MessageIds(
        f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}",
        f"{d[32:40]}-{d[40:44]}-{d[44:48]}-{d[48:52]}-{d[52:]}",
    )
