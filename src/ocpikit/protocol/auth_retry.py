"""Which encoding of our token goes into ``Authorization`` and when to try the other one
(OCPI 2.2.1 ``transport_and_format`` §Authorization header; DIGEST §1.1).

2.1.1 sends ``Token <token>`` raw, 2.2+ sends ``Token <base64(token)>``; a partner may expect the
other form, and the spec lets the client find out by trial: on HTTP 401 the same request is sent
once more with the other encoding. Pure: :class:`AuthAttempts` is asked which encodings to try
and which one a retry taught us; the request driver sends.

Invariants: at most two attempts per request, the second only after a 401 and only when the
retry is allowed; an encoding is "learned" only when the second attempt was answered with
something other than 401.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocpikit.core.auth import encode_by_default
from ocpikit.core.versions import Version

__all__ = ["UNAUTHORIZED", "AuthAttempts", "first_encoding"]

UNAUTHORIZED = 401


def first_encoding(version: Version | None, switch: bool | None = None) -> bool:
    """The encoding to start with (True: Base64): the per-partner ``encode_auth`` switch when
    set, else the version's default; Base64 while no version is known yet (the 2.2+ rule,
    which a 2.1.1 partner answers with a 401 that the retry repairs)."""
    if switch is not None:
        return switch
    return True if version is None else encode_by_default(version)


@dataclass(frozen=True, slots=True)
class AuthAttempts:
    """The encodings one request may be sent with, in order."""

    first: bool
    retry: bool = True

    def encodings(self) -> tuple[bool, ...]:
        return (self.first, not self.first) if self.retry else (self.first,)

    @staticmethod
    def retry_after(http_status: int) -> bool:
        """Whether an answer with ``http_status`` calls for the next encoding."""
        return http_status == UNAUTHORIZED

    def learned(self, attempt: int, http_status: int) -> bool | None:
        """The encoding to keep for the next requests when attempt number ``attempt`` (0 is
        the first) was answered with ``http_status``; ``None`` when nothing was learned."""
        if attempt == 0 or http_status == UNAUTHORIZED:
            return None
        return self.encodings()[attempt]
