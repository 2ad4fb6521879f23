"""A minimal DER reader: just enough for SubjectPublicKeyInfo and ECDSA-Sig-Value.

Why not ``cryptography``: it refuses SPKIs on curves it does not implement (secp192k1, which
OCMF lists), and its signature decoder rejects the non-minimal INTEGER encodings that some meters
emit. Both structures are tiny, so we read them ourselves and stay strict about lengths.
"""

from __future__ import annotations

from ocpikit.eichrecht.errors import OcmfError

SEQUENCE = 0x30
INTEGER = 0x02
BIT_STRING = 0x03
OID = 0x06


class DerError(OcmfError):
    """Bytes that are not the DER structure we expected."""


def read_tlv(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """Read one tag-length-value at ``pos``; return (tag, value, position after it)."""
    if pos + 2 > len(data):
        raise DerError("truncated DER element")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise DerError("bad DER length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    end = pos + length
    if end > len(data):
        raise DerError("DER element longer than its container")
    return tag, data[pos:end], end


def expect(data: bytes, pos: int, tag: int) -> tuple[bytes, int]:
    found, value, end = read_tlv(data, pos)
    if found != tag:
        raise DerError(f"expected DER tag 0x{tag:02x}, found 0x{found:02x}")
    return value, end


def decode_oid(value: bytes) -> str:
    """Dotted form of an OBJECT IDENTIFIER's content octets."""
    if not value:
        raise DerError("empty OID")
    arcs: list[int] = []
    acc = 0
    for byte in value:
        acc = (acc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(acc)
            acc = 0
    if value[-1] & 0x80:
        raise DerError("truncated OID")
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(a) for a in head + arcs[1:])


def read_sequence_of_two_integers(data: bytes) -> tuple[int, int]:
    """ECDSA-Sig-Value ``SEQUENCE { r INTEGER, s INTEGER }``, tolerating non-minimal integers.

    Leading zero bytes are accepted (they do not change the value); trailing bytes after the
    sequence are not.
    """
    body, end = expect(data, 0, SEQUENCE)
    if end != len(data):
        raise DerError("bytes after the signature sequence")
    r_bytes, pos = expect(body, 0, INTEGER)
    s_bytes, pos = expect(body, pos, INTEGER)
    if pos != len(body):
        raise DerError("extra elements in the signature sequence")
    if not r_bytes or not s_bytes:
        raise DerError("empty INTEGER")
    if r_bytes[0] & 0x80 or s_bytes[0] & 0x80:
        raise DerError("negative INTEGER in signature")
    return int.from_bytes(r_bytes, "big"), int.from_bytes(s_bytes, "big")


def read_spki(data: bytes) -> tuple[str, str | None, bytes]:
    """SubjectPublicKeyInfo → (algorithm OID, curve OID or None, public key bytes)."""
    body, end = expect(data, 0, SEQUENCE)
    if end != len(data):
        raise DerError("bytes after the SubjectPublicKeyInfo")
    algorithm, pos = expect(body, 0, SEQUENCE)
    alg_oid, apos = expect(algorithm, 0, OID)
    curve_oid: str | None = None
    if apos < len(algorithm):
        tag, value, _ = read_tlv(algorithm, apos)
        if tag == OID:
            curve_oid = decode_oid(value)
    bits, pos = expect(body, pos, BIT_STRING)
    if pos != len(body):
        raise DerError("extra elements in the SubjectPublicKeyInfo")
    if not bits or bits[0] != 0:
        raise DerError("public key BIT STRING with unused bits")
    return decode_oid(alg_oid), curve_oid, bits[1:]
