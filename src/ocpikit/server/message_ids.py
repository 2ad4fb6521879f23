"""Made-up X-Request-ID / X-Correlation-ID values for requests that carry none.

Plan: draw 128 bits from the (non-cryptographic) PRNG, set the version-4 and RFC 4122 variant
bits as ``uuid.UUID(version=4)`` sets them, and format the hex digits directly instead of
building a :class:`uuid.UUID` object; ids are correlation handles, not secrets, so
``os.urandom`` (a system call that also hands the GIL to the database threads) is not needed.

Invariant: :func:`message_id` returns the text :func:`message_id_plainly` (the reference,
``str(uuid.UUID(int=bits, version=4))``) returns for the same bits: a version-4 UUID in its
canonical lower-case form.
"""

from __future__ import annotations

import random
import uuid

__all__ = ["message_id", "message_id_plainly"]

#: the bits of a UUID that encode its version and variant, cleared before they are set
_VERSION_AND_VARIANT = ~((0xC000 << 48) | (0xF000 << 64))
#: version 4 and the RFC 4122 variant
_V4_RFC_4122 = (0x8000 << 48) | (0x4000 << 64)


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
