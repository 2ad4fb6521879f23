"""Helpers: sign OCMF records with fresh keys so tests can tamper with them freely."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

Signer = Callable[..., tuple[str, str]]


@pytest.fixture
def sign() -> Signer:
    """sign(payload_text, curve=ec.SECP256R1(), sa=None) → (OCMF string, SPKI hex)."""

    def _sign(
        text: str, curve: ec.EllipticCurve | None = None, sa: str | None = None
    ) -> tuple[str, str]:
        curve = curve or ec.SECP256R1()
        key = ec.generate_private_key(curve)
        der = key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
        name = {"secp256r1": "secp256r1", "brainpoolP384r1": "brainpoolP384r1"}.get(
            curve.name, curve.name
        )
        signature = {"SA": sa or f"ECDSA-{name}-SHA256", "SD": der.hex().upper()}
        spki = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return f"OCMF|{text}|{json.dumps(signature)}", spki.hex()

    return _sign
