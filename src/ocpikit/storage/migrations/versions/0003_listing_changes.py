"""A kind's change counter on each object (``chg``) and its index.

SQLite writes set ``chg`` to one more than the kind's highest, so ``max(chg)`` of a kind moves
with every create or update and ``chg > g`` finds what changed since ``g``: the serving
process keeps each listing's positions and wire bytes in memory and refreshes only those rows
(docs/storage.md, "Listing cache"). Existing rows start at 0.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ocpi_objects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("chg", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_index("ix_ocpi_objects_chg", ["kind", "chg"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ocpi_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_ocpi_objects_chg")
        batch_op.drop_column("chg")
