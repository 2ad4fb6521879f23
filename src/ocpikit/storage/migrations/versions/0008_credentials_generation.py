"""A generation of the credentials (``credentials_generation``): one row whose value triggers
raise at every change of ``partners`` or ``credentials_tokens``, in the transaction that makes
the change, whichever process or tool makes it. On PostgreSQL the same trigger also sends a
notification on the channel ``ocpikit_credentials``, delivered at commit. A serving process
reads either to forget its cached authentications at once (docs/security.md,
``ocpikit.storage.sql.credentials_changes``).

PostgreSQL: the trigger is a deferred constraint trigger, so the row is locked only at commit,
after every other statement of the transaction (two credentials transactions cannot deadlock on
it).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("partners", "credentials_tokens")
# SQLite: no conflict clause in the trigger (an upsert that fires it would impose its own)
EVENTS = ("INSERT", "UPDATE", "DELETE")

SQLITE_TRIGGER = """
CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW
BEGIN
    INSERT INTO credentials_generation (id, value)
    SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM credentials_generation WHERE id = 1);
    UPDATE credentials_generation SET value = value + 1 WHERE id = 1;
END
"""

POSTGRES_FUNCTION = """
CREATE FUNCTION ocpikit_credentials_changed() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO credentials_generation (id, value) VALUES (1, 1)
    ON CONFLICT (id) DO UPDATE SET value = credentials_generation.value + 1;
    PERFORM pg_notify('ocpikit_credentials', '');
    RETURN NULL;
END
$$
"""

POSTGRES_TRIGGER = """
CREATE CONSTRAINT TRIGGER {table}_credentials_changed
AFTER INSERT OR UPDATE OR DELETE ON {table}
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION ocpikit_credentials_changed()
"""


def upgrade() -> None:
    op.create_table(
        "credentials_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials_generation")),
    )
    op.execute("INSERT INTO credentials_generation (id, value) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for table in TABLES:
            op.execute(POSTGRES_TRIGGER.format(table=table))
        return
    for table in TABLES:
        for event in EVENTS:
            name = f"{table}_{event.lower()}_credentials_changed"
            op.execute(SQLITE_TRIGGER.format(name=name, event=event, table=table))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_credentials_changed ON {table}")
        op.execute("DROP FUNCTION ocpikit_credentials_changed()")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER {table}_{event.lower()}_credentials_changed")
    op.drop_table("credentials_generation")
