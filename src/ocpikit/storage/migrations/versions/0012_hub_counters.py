"""A hub's counters per connection (``hub_counters``): forwarded requests by outcome and
conversion losses by loss rule, added to in batches (``ocpikit.operations.hub_counters``) and
read by ``ocpikit hub parties`` and ``ocpikit hub losses``.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.String(32).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "hub_counters",
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("counter", sa.String(200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "counter", name=op.f("pk_hub_counters")),
    )


def downgrade() -> None:
    op.drop_table("hub_counters")
