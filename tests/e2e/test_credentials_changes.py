"""Real processes: while ``ocpikit serve`` answers a partner (its answer cached), another
process unregisters the partner (``ocpikit unregister``) or rotates its token; the server's very
next answer to the old token is 401, on SQLite and on PostgreSQL (docs/security.md)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from ocpikit.protocol.ports import Partner, PartnerStatus, TokenKind
from ocpikit.storage.sql import SqlStorage

from ._nodes import Databases, Instance

pytestmark = pytest.mark.e2e


def _partner(partner_id: str) -> Partner:
    return Partner(id=partner_id, status=PartnerStatus.REGISTERED, local_party=("NL", "CPO"))


def _status(node: Instance, token: str) -> int:
    header = f"Token {base64.b64encode(token.encode()).decode()}"
    r = httpx.get(f"{node.url}/ocpi/versions", headers={"Authorization": header}, timeout=10)
    return r.status_code


def test_unregister_and_rotate_in_another_process_take_effect_at_once(
    tmp_path: Path, databases: Databases
) -> None:
    node = Instance(tmp_path, "NL-CPO:CPO", databases.new(tmp_path))
    try:
        node.start()

        async def seed(storage: SqlStorage) -> None:
            await storage.partners.save(_partner("DE-MSP"), issue=[("token-msp", TokenKind.C)])
            await storage.partners.save(_partner("DE-TWO"), issue=[("token-two", TokenKind.C)])

        node.run(seed)
        for _ in range(3):  # the server now answers these from its cache
            assert _status(node, "token-msp") == 200
            assert _status(node, "token-two") == 200

        result = node.cli("unregister", "DE-MSP")
        assert result.returncode == 0, result.stderr
        assert _status(node, "token-msp") == 401

        async def rotate(storage: SqlStorage) -> None:
            await storage.partners.save(
                _partner("DE-TWO"), issue=[("token-two-new", TokenKind.C)], revoke=["token-two"]
            )

        node.run(rotate)
        assert _status(node, "token-two") == 401
        assert _status(node, "token-two-new") == 200
    finally:
        node.close()
