"""The ``Authorization: Token ...`` header codec (DIGEST §1.1; errata A1).

- 2.1.1 sends the credentials token raw; 2.2-d2 and 2.3.0 require Base64 (RFC 4648 §4,
  standard alphabet, padded) of the token's UTF-8 bytes. Many 2.1.1 and 2.2 peers send the
  raw token anyway, so outgoing encoding is a per-partner flag (:func:`encode_by_default`
  gives the version default) and incoming headers are decoded tolerantly.
- :func:`token_candidates` lists what an incoming header may mean, raw first (a raw token can
  itself be valid Base64, so the raw reading must win), then the Base64-decoded value when the
  text is valid Base64 of printable UTF-8. Each candidate names how it was read, so the caller
  can log a repair when a non-raw candidate matched.
- Errata A1: the spec's own Base64 examples encode a trailing newline (``echo token | base64``).
  A decoded value ending in one newline is offered without it, named
  ``base64-trailing-newline`` (a token never holds whitespace).
- The Credentials JSON ``token`` is never encoded; only this header carries the Base64 form.
  Tokens are secrets: nothing here logs them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from enum import StrEnum

from ocpikit.core.versions import Version

__all__ = [
    "SCHEME",
    "TokenCandidate",
    "TokenEncoding",
    "authorization_header",
    "decode_base64_token",
    "encode_by_default",
    "encode_token",
    "parse_authorization",
    "token_candidates",
]

SCHEME = "Token"
_FIRST_BASE64 = Version("2.2")


class TokenEncoding(StrEnum):
    """How an incoming header value was read."""

    RAW = "raw"
    BASE64 = "base64"
    BASE64_TRAILING_NEWLINE = "base64-trailing-newline"


@dataclass(frozen=True, slots=True)
class TokenCandidate:
    token: str
    encoding: TokenEncoding

    def __repr__(self) -> str:  # never show the secret
        return f"TokenCandidate(token=<{len(self.token)} chars>, encoding={self.encoding.value!r})"


def encode_by_default(version: Version | str) -> bool:
    """The default of the per-partner ``encode_auth`` flag: Base64 from 2.2 on (DIGEST §1.1)."""
    v = version if isinstance(version, Version) else Version(version)
    return v >= _FIRST_BASE64


def encode_token(token: str, *, base64_encode: bool) -> str:
    """The credential part of the header: the raw token, or Base64 of its UTF-8 bytes."""
    if not base64_encode:
        return token
    return base64.b64encode(token.encode("utf-8")).decode("ascii")


def authorization_header(token: str, *, base64_encode: bool) -> str:
    """The full header value, ``Token <token or Base64(token)>``."""
    if not token or any(ch.isspace() for ch in token):
        raise ValueError("a credentials token must be non-empty and contain no whitespace")
    return f"{SCHEME} {encode_token(token, base64_encode=base64_encode)}"


def parse_authorization(value: str | None) -> str | None:
    """The credential after a case-insensitive ``Token`` scheme, or ``None`` when the header is
    missing, uses another scheme or is empty (answer HTTP 401)."""
    if value is None:
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != SCHEME.lower():
        return None
    credential = rest.strip()
    return credential or None


def decode_base64_token(text: str) -> str | None:
    """Base64 (RFC 4648 §4, padded) of printable UTF-8 → the token, else ``None``.

    A single trailing newline in the decoded value is kept here (see errata A1 handling in
    :func:`token_candidates`); any other control character means "not a token".
    """
    if not text or len(text) % 4:
        return None
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    body = decoded.removesuffix("\n")
    if not body or any(not ch.isprintable() or ch.isspace() for ch in body):
        return None
    return decoded


def token_candidates(value: str | None) -> list[TokenCandidate]:
    """What an incoming ``Authorization`` header may carry, most likely first.

    Look the candidates up in order and use the first known one; none known → HTTP 401.
    """
    credential = parse_authorization(value)
    if credential is None:
        return []
    out = [TokenCandidate(credential, TokenEncoding.RAW)]
    decoded = decode_base64_token(credential)
    if decoded is not None and decoded != credential:
        if decoded.endswith("\n"):  # a token never holds whitespace: errata A1 repair
            out.append(TokenCandidate(decoded[:-1], TokenEncoding.BASE64_TRAILING_NEWLINE))
        else:
            out.append(TokenCandidate(decoded, TokenEncoding.BASE64))
    return out
