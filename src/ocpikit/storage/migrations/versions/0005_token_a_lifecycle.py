"""A token A that expires and may be bound to the party that must register with it
(``credentials_tokens.expires_at``, ``expected_party``; docs/security.md).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.String(32).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("credentials_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("expected_party", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentials_tokens", schema=None) as batch_op:
        batch_op.drop_column("expected_party")
        batch_op.drop_column("expires_at")
