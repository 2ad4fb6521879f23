"""Console user passwords, stored as PBKDF2-HMAC-SHA256 hashes (``[console] users``; make one
with ``ocpikit console hash-password``).

Format: ``pbkdf2_sha256$<iterations>$<salt, base64>$<hash, base64>``, the salt 16 random
bytes, the hash 32 bytes. Verification recomputes with the stored iterations and salt and
compares in constant time; a malformed hash never matches (and never raises).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["ITERATIONS", "SCHEME", "hash_password", "is_password_hash", "verify_password"]

SCHEME = "pbkdf2_sha256"
#: OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256
ITERATIONS = 600_000


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """A stored form of ``password`` (see the module docstring)."""
    if not password:
        raise ValueError("the password is empty")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def _parts(stored: str) -> tuple[int, bytes, bytes] | None:
    scheme, _, rest = stored.partition("$")
    iterations_text, _, rest = rest.partition("$")
    salt_text, _, digest_text = rest.partition("$")
    if scheme != SCHEME or not iterations_text.isdigit():
        return None
    try:
        salt = base64.b64decode(salt_text, validate=True)
        digest = base64.b64decode(digest_text, validate=True)
    except ValueError:
        return None
    iterations = int(iterations_text)
    if not (1000 <= iterations <= 10_000_000) or not salt or len(digest) != 32:
        return None
    return iterations, salt, digest


def is_password_hash(stored: object) -> bool:
    """Whether ``stored`` is a hash in this module's format."""
    return isinstance(stored, str) and _parts(stored) is not None


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from."""
    parts = _parts(stored)
    if parts is None:
        return False
    iterations, salt, digest = parts
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return hmac.compare_digest(got, digest)
