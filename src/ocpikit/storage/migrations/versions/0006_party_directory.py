"""The party directory: parties learned behind hub connections (``remote_parties``) and the
connection a routed object keeps (``object_routes``); see ocpikit.protocol.parties.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.String(32).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "remote_parties",
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("cc_key", sa.String(16), nullable=False),
        sa.Column("pid_key", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("country_code", sa.String(16), nullable=False),
        sa.Column("party_id", sa.String(16), nullable=False),
        sa.Column("learned", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_remote_parties_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "partner_id", "cc_key", "pid_key", "role", name=op.f("pk_remote_parties")
        ),
    )
    op.create_table(
        "object_routes",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("cc_key", sa.String(16), nullable=False),
        sa.Column("pid_key", sa.String(16), nullable=False),
        sa.Column("id_key", sa.String(255), nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_object_routes_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "kind", "cc_key", "pid_key", "id_key", name=op.f("pk_object_routes")
        ),
    )


def downgrade() -> None:
    op.drop_table("object_routes")
    op.drop_table("remote_parties")
