"""ECDSA verification in pure Python for short-Weierstrass curves ``cryptography`` lacks.

Used only for secp192k1 (OCMF lists ``ECDSA-secp192k1-SHA256``; OpenSSL and therefore
``cryptography`` do not implement it). Only *verification* is done here: every input is public,
so the variable-time big-integer arithmetic leaks nothing. The algorithm is the textbook one of
SEC 1 v2 §4.1.4; curve parameters are from SEC 2 v2 §2.2.1.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SECP192K1", "CurveParams", "decompress", "is_on_curve", "verify_digest"]

Point = tuple[int, int] | None  # None is the point at infinity


@dataclass(frozen=True)
class CurveParams:
    """y² = x³ + ax + b over GF(p), base point (gx, gy) of prime order n, cofactor 1."""

    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int


SECP192K1 = CurveParams(
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFEE37,
    a=0,
    b=3,
    gx=0xDB4FF10EC057E9AE26B07D0280B7F4341DA5D1B1EAE06C7D,
    gy=0x9B2F2F6D9C5628A7844163D015BE86344082AA88D95E2F9D,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFE26F2FC170F69466A74DEFD8D,
)


def is_on_curve(c: CurveParams, x: int, y: int) -> bool:
    if not (0 <= x < c.p and 0 <= y < c.p):
        return False
    return (y * y - (x * x * x + c.a * x + c.b)) % c.p == 0


def decompress(c: CurveParams, x: int, y_odd: bool) -> tuple[int, int]:
    """Recover y from x and its parity (needs p ≡ 3 mod 4, true of secp192k1)."""
    if c.p % 4 != 3:
        raise ValueError("point decompression needs p = 3 mod 4")
    rhs = (x * x * x + c.a * x + c.b) % c.p
    y = pow(rhs, (c.p + 1) // 4, c.p)
    if y * y % c.p != rhs:
        raise ValueError("x is not on the curve")
    if (y & 1) != y_odd:
        y = c.p - y
    return x, y


def _add(c: CurveParams, p1: Point, p2: Point) -> Point:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    x1, y1 = p1
    x2, y2 = p2
    if x1 == x2:
        if (y1 + y2) % c.p == 0:
            return None
        lam = (3 * x1 * x1 + c.a) * pow(2 * y1, -1, c.p) % c.p
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, c.p) % c.p
    x3 = (lam * lam - x1 - x2) % c.p
    return x3, (lam * (x1 - x3) - y1) % c.p


def _mul(c: CurveParams, k: int, point: Point) -> Point:
    result: Point = None
    addend = point
    while k:
        if k & 1:
            result = _add(c, result, addend)
        addend = _add(c, addend, addend)
        k >>= 1
    return result


def verify_digest(c: CurveParams, q: tuple[int, int], digest: bytes, r: int, s: int) -> bool:
    """True when (r, s) is a valid signature of ``digest`` under public point ``q``."""
    if not (1 <= r < c.n and 1 <= s < c.n):
        return False
    if not is_on_curve(c, *q):
        return False
    e = int.from_bytes(digest, "big")
    excess = len(digest) * 8 - c.n.bit_length()
    if excess > 0:  # SEC 1 §4.1.4 step 5: keep the leftmost bits of the hash
        e >>= excess
    w = pow(s, -1, c.n)
    total = _add(c, _mul(c, e * w % c.n, (c.gx, c.gy)), _mul(c, r * w % c.n, q))
    if total is None:
        return False
    return total[0] % c.n == r
