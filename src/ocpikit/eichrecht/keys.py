"""Public keys: hex or base64 text, DER SubjectPublicKeyInfo or a bare curve point.

OCPI's ``SignedData.public_key`` is documented as base64 (2.2.1 mod_cdrs, SignedData class) but
most CPOs and the SAFE transparency files send hex, sometimes with spaces; both are read. The
bytes may be an SPKI (the curve is then named by its OID) or a bare point: ``04‖X‖Y``,
``02/03‖X`` or ``X‖Y`` without a prefix (the SAFE receipts do this), whose curve comes from the
record's ``SA``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from ocpikit.eichrecht import _der, _ecdsa
from ocpikit.eichrecht.curves import Curve, curve_by_oid
from ocpikit.eichrecht.errors import PublicKeyError, UnsupportedCurveError

__all__ = ["PublicKey", "decode_key_text", "load_public_key"]

EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"
_HEX = re.compile(r"^(?:0x)?[0-9A-Fa-f]+$")
_PEM = re.compile(r"-----BEGIN [A-Z ]+-----(.*?)-----END [A-Z ]+-----", re.DOTALL)


def decode_key_text(text: str) -> bytes:
    """Bytes of a key given as hex (spaces and colons allowed), base64 or PEM."""
    pem = _PEM.search(text)
    if pem:
        text = pem.group(1)
    compact = re.sub(r"[\s:]", "", text)
    if not compact:
        raise PublicKeyError("public key is empty")
    if _HEX.match(compact) and len(compact.removeprefix("0x")) % 2 == 0:
        return bytes.fromhex(compact.removeprefix("0x"))
    try:
        padded = compact + "=" * (-len(compact) % 4)
        if "-" in compact or "_" in compact:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PublicKeyError("public key is neither hex nor base64") from exc


@dataclass(frozen=True)
class PublicKey:
    """A decoded public key: its curve (None if the SPKI names one we do not know) and point."""

    curve: Curve | None
    curve_oid: str | None
    point: bytes
    form: str  # "spki", "point", "point-compressed" or "xy"

    @property
    def curve_name(self) -> str:
        if self.curve is not None:
            return self.curve.name
        return f"OID {self.curve_oid}" if self.curve_oid else "unknown"

    def crypto_key(self) -> ec.EllipticCurvePublicKey:
        """The key as a ``cryptography`` object (only for curves it implements)."""
        if self.curve is None or self.curve.crypto is None:
            raise UnsupportedCurveError(f"curve {self.curve_name} is not supported by cryptography")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(self.curve.crypto(), self.point)
        except ValueError as exc:
            raise PublicKeyError(f"public key is not a point on {self.curve.name}") from exc

    def xy(self) -> tuple[int, int]:
        """Affine coordinates (for the builtin verifier)."""
        if self.curve is None or self.curve.builtin is None:
            raise UnsupportedCurveError(f"curve {self.curve_name} has no builtin verifier")
        params, n = self.curve.builtin, self.curve.size
        if self.point[0] == 4 and len(self.point) == 1 + 2 * n:
            x = int.from_bytes(self.point[1 : 1 + n], "big")
            y = int.from_bytes(self.point[1 + n :], "big")
        elif self.point[0] in (2, 3) and len(self.point) == 1 + n:
            try:
                x, y = _ecdsa.decompress(
                    params, int.from_bytes(self.point[1:], "big"), self.point[0] == 3
                )
            except ValueError as exc:
                raise PublicKeyError(f"public key is not a point on {self.curve.name}") from exc
        else:
            raise PublicKeyError(f"bad point encoding for {self.curve.name}")
        if not _ecdsa.is_on_curve(params, x, y):
            raise PublicKeyError(f"public key is not a point on {self.curve.name}")
        return x, y


def load_public_key(key: str | bytes, curve_hint: Curve | None = None) -> PublicKey:
    """Decode a public key; ``curve_hint`` (from the record's ``SA``) types a bare point."""
    data = decode_key_text(key) if isinstance(key, str) else key
    if not data:
        raise PublicKeyError("public key is empty")
    if data[0] == _der.SEQUENCE:
        try:
            return _load_spki(data)
        except _der.DerError as exc:
            # a bare X||Y begins with the SEQUENCE tag byte too (1 key in 256): read as such
            # when it is not an SPKI and has exactly a point's length
            if curve_hint is None or len(data) != 2 * curve_hint.size:
                raise PublicKeyError(
                    f"public key is not a valid SubjectPublicKeyInfo: {exc}"
                ) from exc
    if curve_hint is None:
        raise PublicKeyError("a bare public key point needs the curve (SA) to be known")
    n = curve_hint.size
    if data[0] == 4 and len(data) == 1 + 2 * n:
        return PublicKey(curve_hint, curve_hint.oid, data, "point")
    if data[0] in (2, 3) and len(data) == 1 + n:
        return PublicKey(curve_hint, curve_hint.oid, data, "point-compressed")
    if len(data) == 2 * n:
        return PublicKey(curve_hint, curve_hint.oid, b"\x04" + data, "xy")
    raise PublicKeyError(f"a {len(data)}-byte public key does not fit curve {curve_hint.name}")


def _load_spki(data: bytes) -> PublicKey:
    """A DER SubjectPublicKeyInfo; raises ``_der.DerError`` when ``data`` is not one."""
    alg_oid, curve_oid, point = _der.read_spki(data)
    if alg_oid != EC_PUBLIC_KEY_OID:
        raise UnsupportedCurveError(f"public key algorithm OID {alg_oid} is not EC")
    if curve_oid is None:
        raise UnsupportedCurveError("EC public keys with explicit curve parameters")
    curve = curve_by_oid(curve_oid)
    if curve is not None:
        _check_point_size(point, curve)
    return PublicKey(curve, curve_oid, point, "spki")


def _check_point_size(point: bytes, curve: Curve) -> None:
    n = curve.size
    ok = (point[:1] == b"\x04" and len(point) == 1 + 2 * n) or (
        point[:1] in (b"\x02", b"\x03") and len(point) == 1 + n
    )
    if not ok:
        raise PublicKeyError(f"public key point has the wrong size for {curve.name}")
