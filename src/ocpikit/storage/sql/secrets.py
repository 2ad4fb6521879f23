"""Secrets at rest: the tokens partners gave us (``partners.outbound_token``) are stored
encrypted with Fernet (AES-128-CBC and HMAC-SHA256, ``cryptography``) under the platform's key
(docs/security.md, "Secrets").

Invariants: an encrypted value is written ``fernet:`` + the Fernet token, so a value without
the prefix is a plaintext one from before encryption (read as it is, encrypted at the next
write); :class:`SecretBox` decrypts with any of its keys and encrypts with the first, so a key
rotation reads the old values and writes new ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["PREFIX", "SecretBox", "new_key"]

PREFIX = "fernet:"


def new_key() -> str:
    """A fresh random key (URL-safe Base64 of 32 bytes)."""
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Encrypts with ``keys[0]``, decrypts with any of ``keys``."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a secret box needs at least one key")
        self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])

    def seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        return PREFIX + self._fernet.encrypt(value.encode()).decode("ascii")

    def open(self, stored: str | None) -> str | None:
        """The plaintext of a stored value (a value without the prefix is already plain)."""
        if stored is None or not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
        except InvalidToken:
            raise ValueError("a stored secret does not open with the configured keys") from None
