"""What an exchange was about, for the traffic log's filters (``GET /admin/api/exchanges``):
the OCPI ``module`` and the ``object_id`` (a Session's id, a command's id...) of each row of
``exchange_log``, and indexes to page the log by direction and by object. Rows written before
have neither (NULL). The ``direction`` column (``in``/``out``) is there since 0001; outbound
exchanges are written to it from now on (docs/operations.md).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("module", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("object_id", sa.String(length=255), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_exchange_log_direction_id"), ["direction", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_log_object_id_id"), ["object_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_log_object_id_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_log_direction_id"))
        batch_op.drop_column("object_id")
        batch_op.drop_column("module")
