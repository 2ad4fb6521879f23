"""Secrets at rest: the tokens partners gave us are sealed in the database, opened when read,
and resealed under a new key; the SQLite file is created readable by its owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from ocpikit.protocol.ports import Partner, PartnerStatus
from ocpikit.storage.sql import SqlStorage, upgrade
from ocpikit.storage.sql.schema import partners
from ocpikit.storage.sql.secrets import SecretBox, new_key

from .conftest import SQL_BACKENDS

pytestmark = pytest.mark.anyio

TOKEN = "their-token-b-0123456789abcdef"


def _raw(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            value = conn.execute(
                sa.select(partners.c.outbound_token).where(partners.c.id == "DE-MSP")
            ).scalar_one()
            return str(value) if value is not None else None
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
async def test_partner_tokens_are_sealed_opened_and_resealed(database_url: str) -> None:
    old, new = SecretBox([new_key()]), SecretBox([new_key()])
    store = SqlStorage.from_url(database_url, secrets=old, pool_size=2)
    try:
        await store.partners.save(
            Partner(id="DE-MSP", status=PartnerStatus.REGISTERED, outbound_token=TOKEN)
        )
        raw = _raw(database_url)
        assert raw is not None and raw.startswith("fernet:") and TOKEN not in raw
        got = await store.partners.get("DE-MSP")
        assert got is not None and got.outbound_token == TOKEN
        assert await store.partners.reseal(new) == 1
    finally:
        await store.aclose()
    with pytest.raises(ValueError, match="does not open"):
        old.open(_raw(database_url))
    assert new.open(_raw(database_url)) == TOKEN


@pytest.mark.parametrize("database_url", SQL_BACKENDS, indirect=True)
async def test_a_token_stored_before_sealing_is_still_read(database_url: str) -> None:
    plain = SqlStorage.from_url(database_url, pool_size=2)
    try:
        await plain.partners.save(
            Partner(id="DE-MSP", status=PartnerStatus.REGISTERED, outbound_token=TOKEN)
        )
    finally:
        await plain.aclose()
    sealed = SqlStorage.from_url(database_url, secrets=SecretBox([new_key()]), pool_size=2)
    try:
        got = await sealed.partners.get("DE-MSP")
        assert got is not None and got.outbound_token == TOKEN
    finally:
        await sealed.aclose()


def test_the_sqlite_file_is_created_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    upgrade(f"sqlite:///{path}")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
