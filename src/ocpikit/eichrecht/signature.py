"""Decoding ``SD`` and checking it with the right backend.

OCMF signature section: ``SE`` is the encoding of ``SD`` (``hex`` by default, or ``base64``),
``SM`` its MIME type (``application/x-der`` by default). Meters also send a bare ``r‖s`` of twice
the field size even when ``SM`` says DER (the SAFE receipt samples); we accept it when the bytes
are not a DER sequence. DER integers with sign bytes or shortened values (``len(R)=33``,
``len(R)=30``) are read by value.

The signed message is the payload section exactly as received, as UTF-8 bytes: OCMF signs the
text between the first and the last ``|``, so re-serialising the JSON would break every
signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, utils

from ocpikit.eichrecht import _der, _ecdsa
from ocpikit.eichrecht.curves import Algorithm, Curve
from ocpikit.eichrecht.errors import OcmfSyntaxError, UnsupportedCurveError
from ocpikit.eichrecht.keys import PublicKey

__all__ = ["decode_signature_value", "verify_payload"]


def decode_signature_value(
    sd: str, se: str | None, sm: str | None, curve: Curve
) -> tuple[int, int]:
    """``SD`` → (r, s)."""
    encoding = (se or "hex").strip().lower()
    text = "".join(sd.split())
    try:
        if encoding == "hex":
            raw = bytes.fromhex(text)
        elif encoding == "base64":
            raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        else:
            raise OcmfSyntaxError(f"unknown signature encoding {se!r}", "signature.SE")
    except (ValueError, binascii.Error) as exc:
        raise OcmfSyntaxError(f"SD is not valid {encoding}", "signature.SD") from exc
    mime = (sm or "application/x-der").strip().lower()
    if mime not in ("application/x-der", "application/der", ""):
        raise OcmfSyntaxError(f"unknown signature MIME type {sm!r}", "signature.SM")
    if raw[:1] == b"\x30":
        try:
            return _der.read_sequence_of_two_integers(raw)
        except _der.DerError as exc:
            if len(raw) != 2 * curve.size:
                raise OcmfSyntaxError(
                    f"SD is not a DER ECDSA signature: {exc}", "signature.SD"
                ) from exc
    if len(raw) == 2 * curve.size:
        n = curve.size
        return int.from_bytes(raw[:n], "big"), int.from_bytes(raw[n:], "big")
    raise OcmfSyntaxError(
        f"SD is neither DER nor a {2 * curve.size}-byte r||s for {curve.name}", "signature.SD"
    )


def verify_payload(
    payload: bytes, rs: tuple[int, int], algorithm: Algorithm, key: PublicKey
) -> tuple[bool, str]:
    """Check a signature; return (valid, backend name). Raises UnsupportedCurveError."""
    curve = algorithm.curve
    r, s = rs
    if curve.crypto is not None:
        crypto_key = key.crypto_key()
        try:
            crypto_key.verify(
                utils.encode_dss_signature(r, s), payload, ec.ECDSA(algorithm.hash_algorithm())
            )
        except InvalidSignature:
            return False, "cryptography"
        return True, "cryptography"
    if curve.builtin is not None:
        digest = hashlib.new(algorithm.hash_name.lower(), payload).digest()
        return _ecdsa.verify_digest(curve.builtin, key.xy(), digest, r, s), "builtin"
    raise UnsupportedCurveError(
        f"curve {curve.name} is not supported by cryptography and has no builtin verifier"
    )
