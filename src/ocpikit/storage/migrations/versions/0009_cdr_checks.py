"""The queue and results of the checks of partners' CDRs (``cdr_checks``): a trigger on
``ocpi_objects`` queues a ``pending`` check in the transaction that stores a CDR of a partner
(``owner`` set) or writes it again, whichever process or tool writes it, so a crash loses no
check (``ocpikit.protocol.cdr_checks``, docs/cdrs.md).

SQLite: no conflict clause in the trigger (an upsert that fires it would impose its own): an
insert when there is no row, then an update of a row for another revision.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TEXT = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
UTC_DATETIME = sa.String(32).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
SURROGATE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_TRIGGER = """
CREATE TRIGGER {name} AFTER {event} ON ocpi_objects FOR EACH ROW
WHEN NEW.kind = 'CDR' AND NEW.owner IS NOT NULL
BEGIN
    INSERT INTO cdr_checks (object_seq, owner, revision, state, queued_at)
    SELECT NEW.seq, NEW.owner, NEW.revision, 'pending', NEW.last_updated
    WHERE NOT EXISTS (SELECT 1 FROM cdr_checks WHERE object_seq = NEW.seq);
    UPDATE cdr_checks SET state = 'pending', revision = NEW.revision, owner = NEW.owner
    WHERE object_seq = NEW.seq AND revision <> NEW.revision;
END
"""
SQLITE_EVENTS = {"cdr_check_on_insert": "INSERT", "cdr_check_on_update": "UPDATE OF revision"}

POSTGRES_FUNCTION = """
CREATE FUNCTION ocpikit_cdr_check_queued() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO cdr_checks (object_seq, owner, revision, state, queued_at)
    VALUES (NEW.seq, NEW.owner, NEW.revision, 'pending', NEW.last_updated)
    ON CONFLICT (object_seq) DO UPDATE
    SET state = 'pending', revision = EXCLUDED.revision, owner = EXCLUDED.owner
    WHERE cdr_checks.revision <> EXCLUDED.revision;
    RETURN NULL;
END
$$
"""

POSTGRES_TRIGGER = """
CREATE TRIGGER ocpi_objects_cdr_check AFTER INSERT OR UPDATE OF revision ON ocpi_objects
FOR EACH ROW WHEN (NEW.kind = 'CDR' AND NEW.owner IS NOT NULL)
EXECUTE FUNCTION ocpikit_cdr_check_queued()
"""


def upgrade() -> None:
    op.create_table(
        "cdr_checks",
        sa.Column("object_seq", SURROGATE, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("queued_at", UTC_DATETIME, nullable=False),
        sa.Column("checked_at", UTC_DATETIME, nullable=True),
        sa.Column("session_key", sa.String(length=255), nullable=True),
        sa.Column("verdict", sa.String(length=32), nullable=True),
        sa.Column("result", JSON_TEXT, nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("resolved_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["object_seq"],
            ["ocpi_objects.seq"],
            name=op.f("fk_cdr_checks_object_seq_ocpi_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_seq", name=op.f("pk_cdr_checks")),
    )
    op.create_index(op.f("ix_cdr_checks_state_object_seq"), "cdr_checks", ["state", "object_seq"])
    op.create_index(op.f("ix_cdr_checks_owner_session_key"), "cdr_checks", ["owner", "session_key"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
        return
    for name, event in SQLITE_EVENTS.items():
        op.execute(SQLITE_TRIGGER.format(name=name, event=event))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ocpi_objects_cdr_check ON ocpi_objects")
        op.execute("DROP FUNCTION ocpikit_cdr_check_queued()")
    else:
        for name in SQLITE_EVENTS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_index(op.f("ix_cdr_checks_owner_session_key"), table_name="cdr_checks")
    op.drop_index(op.f("ix_cdr_checks_state_object_seq"), table_name="cdr_checks")
    op.drop_table("cdr_checks")
