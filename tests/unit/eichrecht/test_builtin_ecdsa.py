"""The stdlib verifier's secp192k1 parameters and arithmetic are sound."""

from __future__ import annotations

import hashlib

from ocpikit.eichrecht._ecdsa import SECP192K1, _mul, decompress, is_on_curve, verify_digest


def test_generator_is_on_the_curve_with_order_n() -> None:
    c = SECP192K1
    assert is_on_curve(c, c.gx, c.gy)
    assert _mul(c, c.n, (c.gx, c.gy)) is None
    assert _mul(c, c.n - 1, (c.gx, c.gy)) == (c.gx, c.p - c.gy)


def test_sign_and_verify_roundtrip() -> None:
    c = SECP192K1
    d, k = 0x1234567890ABCDEF, 0xFEDCBA0987654321
    q = _mul(c, d, (c.gx, c.gy))
    assert q is not None
    digest = hashlib.sha256(b"payload").digest()
    e = int.from_bytes(digest, "big") >> (256 - c.n.bit_length())
    point = _mul(c, k, (c.gx, c.gy))
    assert point is not None
    r = point[0] % c.n
    s = pow(k, -1, c.n) * (e + r * d) % c.n
    assert verify_digest(c, q, digest, r, s)
    assert not verify_digest(c, q, hashlib.sha256(b"other").digest(), r, s)
    assert not verify_digest(c, q, digest, r, (s + 1) % c.n)
    assert not verify_digest(c, q, digest, 0, s)
    assert decompress(c, q[0], bool(q[1] & 1)) == q
