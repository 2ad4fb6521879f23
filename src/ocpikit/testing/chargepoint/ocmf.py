"""OCMF signed meter values of the simulated charge point (OCMF 1.0, the S.A.F.E. format the
Eichrecht meters write): a begin (``TX: B``) and an end (``TX: E``) reading of a transaction,
each signed with ECDSA secp256r1/SHA-256 by a fixed **test key** (never a real meter's), so a
verifier (``ocpikit ocmf verify``, :mod:`ocpikit.eichrecht`) checks them with
:data:`TEST_PUBLIC_KEY`."""

from __future__ import annotations

import json
from datetime import datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["TEST_PUBLIC_KEY", "signed_reading"]

_KEY = ec.derive_private_key(0x0C91C1_7E57_0C3F_5EED, ec.SECP256R1())
#: the test key's public key, DER SubjectPublicKeyInfo as upper-case hex
TEST_PUBLIC_KEY = (
    _KEY.public_key()
    .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    .hex()
    .upper()
)


def _tm(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S,") + f"{at.microsecond // 1000:03d}+0000 S"


def signed_reading(
    cp_id: str, id_tag: str, kind: str, at: datetime, wh: float, pagination: int
) -> str:
    """One OCMF record (``OCMF|payload|signature``) of the energy register ``wh`` at ``at``,
    ``kind`` ``B`` (begin) or ``E`` (end) of the transaction of ``id_tag``."""
    payload = {
        "FV": "1.0",
        "GI": "ocpikit charge-point simulator",
        "GS": cp_id,
        "GV": "1.0",
        "PG": f"T{pagination}",
        "MV": "ocpikit",
        "MM": "sim",
        "MS": f"{cp_id}-meter",
        "IS": True,
        "IL": "VERIFIED",
        "IF": ["RFID_PLAIN"],
        "IT": "ISO14443",
        "ID": id_tag,
        "RD": [
            {
                "TM": _tm(at),
                "TX": kind,
                "RV": round(wh / 1000, 4),
                "RI": "1-b:1.8.0",
                "RU": "kWh",
                "ST": "G",
            }
        ],
    }
    text = json.dumps(payload, separators=(",", ":"))
    der = _KEY.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
    signature = {"SA": "ECDSA-secp256r1-SHA256", "SD": der.hex().upper()}
    return f"OCMF|{text}|{json.dumps(signature, separators=(',', ':'))}"
