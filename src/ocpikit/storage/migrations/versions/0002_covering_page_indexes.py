"""Covering page indexes (revision inside, one per listing filter) and the creation-order epoch.

Pages of cached wire bytes are then read from the index and the wire cache alone, and a
listing of one party's objects walks its own index instead of filtering the kind's.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = {
    "ix_ocpi_objects_page": ["kind", "seq", "last_updated", "revision"],
    "ix_ocpi_objects_page_owner": [
        "kind",
        "owner",
        "seq",
        "last_updated",
        "revision",
    ],
    "ix_ocpi_objects_page_party": [
        "kind",
        "owner",
        "cc_key",
        "pid_key",
        "seq",
        "last_updated",
        "revision",
    ],
}
_OLD = {
    "ix_ocpi_objects_kind_seq_last_updated": ["kind", "seq", "last_updated"],
    "ix_ocpi_objects_kind_owner_seq_last_updated": ["kind", "owner", "seq", "last_updated"],
}


def upgrade() -> None:
    op.create_table(
        "ocpi_object_order",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_ocpi_object_order")),
    )
    with op.batch_alter_table("ocpi_objects", schema=None) as batch_op:
        for name, cols in _NEW.items():
            batch_op.create_index(name, cols, unique=False)
        for name in _OLD:
            batch_op.drop_index(batch_op.f(name))


def downgrade() -> None:
    with op.batch_alter_table("ocpi_objects", schema=None) as batch_op:
        for name, cols in _OLD.items():
            batch_op.create_index(batch_op.f(name), cols, unique=False)
        for name in _NEW:
            batch_op.drop_index(name)
    op.drop_table("ocpi_object_order")
