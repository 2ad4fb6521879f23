"""The curves and signature algorithms (OCMF ``SA``) this package knows.

OCMF names its algorithm ``ECDSA-<curve>-<hash>`` (SAFE e.V. OCMF spec, signature section; the
default when ``SA`` is absent is ``ECDSA-secp256r1-SHA256``). Each curve is verified by
``cryptography`` when it implements the curve; secp192k1, which OCMF lists but ``cryptography``
does not implement, is verified by the small stdlib verifier in :mod:`._ecdsa` (verification
only, public data, so constant-time arithmetic is not needed). Any other curve is reported as
unsupported, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ocpikit.eichrecht._ecdsa import SECP192K1, CurveParams
from ocpikit.eichrecht.errors import UnsupportedCurveError

__all__ = [
    "CURVES",
    "DEFAULT_SA",
    "Algorithm",
    "Curve",
    "curve_by_name",
    "curve_by_oid",
    "parse_algorithm",
]

#: OCMF's default when a record has no ``SA``
DEFAULT_SA = "ECDSA-secp256r1-SHA256"


@dataclass(frozen=True)
class Curve:
    """A named curve: its OID, field size in bytes and how we verify on it."""

    name: str
    oid: str
    size: int
    crypto: type[ec.EllipticCurve] | None = None
    builtin: CurveParams | None = None

    @property
    def backend(self) -> str | None:
        """``"cryptography"``, ``"builtin"`` or None when no verifier exists."""
        if self.crypto is not None:
            return "cryptography"
        if self.builtin is not None:
            return "builtin"
        return None


CURVES: tuple[Curve, ...] = (
    Curve("secp192k1", "1.3.132.0.31", 24, builtin=SECP192K1),
    Curve("secp192r1", "1.2.840.10045.3.1.1", 24, crypto=ec.SECP192R1),
    Curve("secp224k1", "1.3.132.0.32", 28),
    Curve("secp224r1", "1.3.132.0.33", 28, crypto=ec.SECP224R1),
    Curve("secp256k1", "1.3.132.0.10", 32, crypto=ec.SECP256K1),
    Curve("secp256r1", "1.2.840.10045.3.1.7", 32, crypto=ec.SECP256R1),
    Curve("secp384r1", "1.3.132.0.34", 48, crypto=ec.SECP384R1),
    Curve("secp521r1", "1.3.132.0.35", 66, crypto=ec.SECP521R1),
    Curve("brainpoolP256r1", "1.3.36.3.3.2.8.1.1.7", 32, crypto=ec.BrainpoolP256R1),
    Curve("brainpoolP384r1", "1.3.36.3.3.2.8.1.1.11", 48, crypto=ec.BrainpoolP384R1),
    Curve("brainpoolP512r1", "1.3.36.3.3.2.8.1.1.13", 64, crypto=ec.BrainpoolP512R1),
)

_BY_OID = {c.oid: c for c in CURVES}
_BY_KEY = {c.name.lower(): c for c in CURVES}
#: other spellings seen in the wild (ocmf-js writes ``brainpool256r1``; X9.62 and NIST names)
_ALIASES = {
    "brainpool256r1": "brainpoolp256r1",
    "brainpool384r1": "brainpoolp384r1",
    "brainpool512r1": "brainpoolp512r1",
    "prime192v1": "secp192r1",
    "prime256v1": "secp256r1",
    "p-192": "secp192r1",
    "p-224": "secp224r1",
    "p-256": "secp256r1",
    "p-384": "secp384r1",
    "p-521": "secp521r1",
    "nistp256": "secp256r1",
    "nistp384": "secp384r1",
}

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}

_SA = re.compile(r"^ECDSA-([A-Za-z0-9-]+?)-(SHA-?\d{3})$", re.IGNORECASE)


def curve_by_name(name: str) -> Curve | None:
    key = name.strip().lower()
    return _BY_KEY.get(_ALIASES.get(key, key))


def curve_by_oid(oid: str) -> Curve | None:
    return _BY_OID.get(oid)


@dataclass(frozen=True)
class Algorithm:
    """A parsed ``SA``: the curve and the hash."""

    sa: str
    curve: Curve
    hash_name: str

    def hash_algorithm(self) -> hashes.HashAlgorithm:
        return _HASHES[self.hash_name]()


def parse_algorithm(sa: str | None) -> Algorithm:
    """Parse an OCMF ``SA`` value (None → the OCMF default).

    Raises :class:`UnsupportedCurveError` naming the algorithm when it is not ECDSA, or names a
    curve or hash we cannot verify.
    """
    text = DEFAULT_SA if sa is None or not sa.strip() else sa.strip()
    match = _SA.match(text)
    if match is None:
        raise UnsupportedCurveError(f"signature algorithm {text!r} is not supported")
    curve = curve_by_name(match.group(1))
    if curve is None:
        raise UnsupportedCurveError(f"curve {match.group(1)!r} (SA {text!r}) is not supported")
    hash_name = match.group(2).upper().replace("-", "")
    if hash_name not in _HASHES:
        raise UnsupportedCurveError(f"hash {match.group(2)!r} (SA {text!r}) is not supported")
    return Algorithm(text, curve, hash_name)
