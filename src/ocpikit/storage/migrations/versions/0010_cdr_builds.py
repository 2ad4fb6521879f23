"""The queue of CDRs the platform builds for our finished sessions (``cdr_builds``): a trigger
on ``ocpi_objects`` queues a ``pending`` build in the transaction that stores one of our
Sessions (``owner`` NULL) with status ``COMPLETED``, whichever process or tool writes it, once
per session (``ocpikit.protocol.cdr_builds``, docs/cdrs.md). ``cdr_checks`` gets a lease
(``lease_until``) so two processes never check the same CDR at the same time, and a Tariff a
partner stores puts that partner's ``unverifiable`` checks back to ``pending`` (a CDR that
arrived before its tariff is checked again when the tariff arrives) and marks its pending ones
``tariff_changed`` (a check in flight that ends ``unverifiable`` stays pending).

SQLite: no conflict clause in the trigger (an upsert that fires it would impose its own).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.String(32).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
SURROGATE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_TRIGGER = """
CREATE TRIGGER {name} AFTER {event} ON ocpi_objects FOR EACH ROW
WHEN NEW.kind = 'Session' AND NEW.owner IS NULL
    AND json_extract(NEW.document, '$.status') = 'COMPLETED'
BEGIN
    INSERT INTO cdr_builds (session_seq, state, queued_at)
    SELECT NEW.seq, 'pending', NEW.last_updated
    WHERE NOT EXISTS (SELECT 1 FROM cdr_builds WHERE session_seq = NEW.seq);
END
"""
SQLITE_EVENTS = {"cdr_build_on_insert": "INSERT", "cdr_build_on_update": "UPDATE OF revision"}

SQLITE_RECHECK = """
CREATE TRIGGER {name} AFTER {event} ON ocpi_objects FOR EACH ROW
WHEN NEW.kind = 'Tariff' AND NEW.owner IS NOT NULL
BEGIN
    UPDATE cdr_checks SET state = 'pending'
    WHERE owner = NEW.owner AND state = 'done' AND verdict = 'unverifiable';
    UPDATE cdr_checks SET tariff_changed = 1
    WHERE owner = NEW.owner AND state = 'pending' AND tariff_changed = 0;
END
"""
SQLITE_RECHECK_EVENTS = {
    "cdr_recheck_on_tariff_insert": "INSERT",
    "cdr_recheck_on_tariff_update": "UPDATE OF revision",
}

POSTGRES_FUNCTION = """
CREATE FUNCTION ocpikit_cdr_build_queued() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO cdr_builds (session_seq, state, queued_at)
    VALUES (NEW.seq, 'pending', NEW.last_updated)
    ON CONFLICT (session_seq) DO NOTHING;
    RETURN NULL;
END
$$
"""

POSTGRES_TRIGGER = """
CREATE TRIGGER ocpi_objects_cdr_build AFTER INSERT OR UPDATE OF revision ON ocpi_objects
FOR EACH ROW WHEN (
    NEW.kind = 'Session' AND NEW.owner IS NULL AND NEW.document->>'status' = 'COMPLETED'
)
EXECUTE FUNCTION ocpikit_cdr_build_queued()
"""


POSTGRES_RECHECK_FUNCTION = """
CREATE FUNCTION ocpikit_cdr_recheck_on_tariff() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE cdr_checks SET state = 'pending'
    WHERE owner = NEW.owner AND state = 'done' AND verdict = 'unverifiable';
    UPDATE cdr_checks SET tariff_changed = true
    WHERE owner = NEW.owner AND state = 'pending' AND NOT tariff_changed;
    RETURN NULL;
END
$$
"""

POSTGRES_RECHECK_TRIGGER = """
CREATE TRIGGER ocpi_objects_cdr_recheck AFTER INSERT OR UPDATE OF revision ON ocpi_objects
FOR EACH ROW WHEN (NEW.kind = 'Tariff' AND NEW.owner IS NOT NULL)
EXECUTE FUNCTION ocpikit_cdr_recheck_on_tariff()
"""


def upgrade() -> None:
    op.create_table(
        "cdr_builds",
        sa.Column("session_seq", SURROGATE, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("queued_at", UTC_DATETIME, nullable=False),
        sa.Column("lease_until", UTC_DATETIME, nullable=True),
        sa.Column("built_at", UTC_DATETIME, nullable=True),
        sa.Column("cdr_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_seq"],
            ["ocpi_objects.seq"],
            name=op.f("fk_cdr_builds_session_seq_ocpi_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_seq", name=op.f("pk_cdr_builds")),
    )
    op.create_index(op.f("ix_cdr_builds_state_session_seq"), "cdr_builds", ["state", "session_seq"])
    # plain ALTER TABLE ADD COLUMN (SQLite too): a batch copy of the table would trip over the
    # triggers of migration 0009 that name it
    op.add_column("cdr_checks", sa.Column("lease_until", UTC_DATETIME, nullable=True))
    op.add_column(
        "cdr_checks",
        sa.Column("tariff_changed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
        op.execute(POSTGRES_RECHECK_FUNCTION)
        op.execute(POSTGRES_RECHECK_TRIGGER)
        return
    for name, event in SQLITE_EVENTS.items():
        op.execute(SQLITE_TRIGGER.format(name=name, event=event))
    for name, event in SQLITE_RECHECK_EVENTS.items():
        op.execute(SQLITE_RECHECK.format(name=name, event=event))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ocpi_objects_cdr_recheck ON ocpi_objects")
        op.execute("DROP FUNCTION ocpikit_cdr_recheck_on_tariff()")
        op.execute("DROP TRIGGER ocpi_objects_cdr_build ON ocpi_objects")
        op.execute("DROP FUNCTION ocpikit_cdr_build_queued()")
    else:
        for name in [*SQLITE_EVENTS, *SQLITE_RECHECK_EVENTS]:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_column("cdr_checks", "tariff_changed")  # SQLite >= 3.35: ALTER TABLE DROP COLUMN
    op.drop_column("cdr_checks", "lease_until")
    op.drop_index(op.f("ix_cdr_builds_state_session_seq"), table_name="cdr_builds")
    op.drop_table("cdr_builds")
