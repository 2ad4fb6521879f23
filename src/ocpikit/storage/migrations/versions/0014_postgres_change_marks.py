"""PostgreSQL: every write of an object stamps ``ocpi_objects.chg`` with the id of the
transaction that makes it (a trigger, so whichever process or tool writes), so a serving
process finds what changed since the snapshot it last read a listing in: the rows whose ``chg``
that snapshot does not see (``ocpikit.storage.sql.postgres_wire_pages``, docs/storage.md,
"Listing cache"). Rows written before keep ``chg`` 0, which every snapshot sees.

SQLite sets ``chg`` in its own statements (one writer: one more than the kind's highest):
nothing changes there.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_FUNCTION = """
CREATE FUNCTION ocpikit_object_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.chg := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$
"""

POSTGRES_TRIGGER = """
CREATE TRIGGER ocpi_objects_changed BEFORE INSERT OR UPDATE ON ocpi_objects
FOR EACH ROW EXECUTE FUNCTION ocpikit_object_changed()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(POSTGRES_FUNCTION)
    op.execute(POSTGRES_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER ocpi_objects_changed ON ocpi_objects")
    op.execute("DROP FUNCTION ocpikit_object_changed()")
