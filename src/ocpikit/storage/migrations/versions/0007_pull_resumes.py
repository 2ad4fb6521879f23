"""Where an unfinished pull goes on (``pull_resumes``): the partner's next-page URL after the
last page stored whole, the window it asked for, and when that pull started
(``ocpikit.protocol.ports.PullResume``; docs/client.md "Pulls that survive an unreliable
partner").

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.String(32).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pull_resumes",
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("module", sa.String(32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("date_from", UTC_DATETIME, nullable=True),
        sa.Column("page_offset", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_pull_resumes_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "module", name=op.f("pk_pull_resumes")),
    )


def downgrade() -> None:
    op.drop_table("pull_resumes")
