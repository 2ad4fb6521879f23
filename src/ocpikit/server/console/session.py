"""The console's sign-in session: a signed cookie and the CSRF token bound to it.

- The cookie ``ocpikit_console`` holds ``<payload>.<signature>``: the payload is base64url JSON
  ``{"u": user, "e": expiry (Unix seconds), "n": random nonce}``, the signature
  HMAC-SHA256 over the payload with the platform's console secret. The secret is a platform
  fact (:data:`SECRET_FACT`, 32 random bytes, hex), created by the first process that needs it,
  so every process of the platform (several ``ocpikit serve`` on one database) accepts the
  others' cookies. A cookie whose signature, format or expiry is wrong reads as no session.
- Attributes: ``HttpOnly``, ``SameSite=Strict``, ``Path=/console``, ``Max-Age`` the session's
  lifetime, ``Secure`` when the public base URL is https.
- The CSRF token of a session is HMAC-SHA256(secret, ``"csrf|" + nonce``): a form carries it
  in the hidden field ``csrf``; a POST without the session's token is refused (403).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson

from ocpikit.protocol.ports import Storage
from ocpikit.server.console.passwords import is_password_hash

__all__ = [
    "COOKIE",
    "SECRET_FACT",
    "ConsoleConfig",
    "ConsoleSession",
    "SessionKeys",
    "console_config",
    "session_secret",
]

COOKIE = "ocpikit_console"
SECRET_FACT = "console_session_secret"
#: how long a session lasts unless ``[console] session_hours`` says otherwise
SESSION_TTL = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    user: str
    expires: int
    nonce: str


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """``[console]``: ``users`` (name -> PBKDF2 hash), ``session_hours``; ``secure``: the public
    base URL is https (the cookie gets ``Secure``)."""

    users: Mapping[str, str] = field(default_factory=dict)
    session_ttl: timedelta = SESSION_TTL
    secure: bool = False


def console_config(extra: Mapping[str, Any], base_url: str) -> ConsoleConfig:
    """Read ``[console]`` from the config's extra tables; ValueError naming the key when it is
    malformed (a user whose hash is not one of ``ocpikit console hash-password``)."""
    table = extra.get("console", {})
    if not isinstance(table, Mapping):
        raise ValueError("[console] must be a table")
    users = table.get("users", {})
    if not isinstance(users, Mapping):
        raise ValueError("console.users must be a table of name = password hash")
    for name, stored in users.items():
        if not is_password_hash(stored):
            raise ValueError(
                f"console.users.{name}: not a password hash (make one with "
                "`ocpikit console hash-password`)"
            )
    hours = table.get("session_hours", SESSION_TTL.total_seconds() / 3600)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 30:
        raise ValueError("console.session_hours must be a number of hours (at most 720)")
    return ConsoleConfig(
        users=dict(users),
        session_ttl=timedelta(hours=float(hours)),
        secure=base_url.lower().startswith("https://"),
    )


async def session_secret(storage: Storage) -> bytes:
    """The platform's console secret, created on first use. Two processes creating it at
    once both write; each then reads back what was stored last, so they agree."""
    text = await storage.facts.get(SECRET_FACT)
    if not text:
        await storage.facts.set(SECRET_FACT, secrets.token_hex(32))
        text = await storage.facts.get(SECRET_FACT)
    assert text
    return bytes.fromhex(text)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionKeys:
    """Signs and reads session cookies and CSRF tokens with the platform's secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, data: bytes) -> str:
        return _b64(hmac.new(self._secret, data, hashlib.sha256).digest())

    def issue(self, user: str, now: float, ttl: timedelta) -> tuple[ConsoleSession, str]:
        """A new session for ``user`` and its cookie value."""
        session = ConsoleSession(user, int(now + ttl.total_seconds()), secrets.token_hex(16))
        payload = _b64(orjson.dumps({"u": session.user, "e": session.expires, "n": session.nonce}))
        return session, f"{payload}.{self._mac(payload.encode())}"

    def read(self, cookie: str | None, now: float) -> ConsoleSession | None:
        """The session of a cookie value; None when missing, forged, malformed or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(signature.encode(), self._mac(payload.encode()).encode()):
            return None
        try:
            data = orjson.loads(_unb64(payload))
        except (ValueError, orjson.JSONDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        user, expires, nonce = data.get("u"), data.get("e"), data.get("n")
        if not isinstance(user, str) or not isinstance(expires, int) or not isinstance(nonce, str):
            return None
        if expires <= now:
            return None
        return ConsoleSession(user, expires, nonce)

    def csrf(self, session: ConsoleSession) -> str:
        return self._mac(f"csrf|{session.nonce}".encode())

    def csrf_ok(self, session: ConsoleSession, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token).encode(), self.csrf(session).encode())
