"""Migrations: an empty database is brought to the schema the code expects, idempotently."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ocpikit.storage import upgrade
from ocpikit.storage.sql import current_revision, head_revision
from ocpikit.storage.sql.schema import metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sub' / 'fresh.db'}"  # the directory does not exist yet
        return
    base = request.getfixturevalue("pg_schema_url")  # skips with the reason when unreachable
    schema = f"ocpikit_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            sa.make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_upgrade_from_empty_matches_the_schema_and_is_idempotent(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()
    upgrade(empty_url)  # nothing to do, no error
    assert current_revision(empty_url) == head_revision()

    engine = sa.create_engine(empty_url)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert {t.name for t in metadata.sorted_tables} | {"alembic_version"} == tables
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    assert diffs == [], "the migrations and ocpikit.storage.sql.schema disagree"
