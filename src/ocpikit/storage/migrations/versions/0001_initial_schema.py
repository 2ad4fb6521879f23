"""Initial schema: OCPI objects with the wire cache, partners, credentials tokens, exchange log,
outbox, commands and sync marks (docs/storage.md).

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# The types exactly as ocpikit.storage.sql.schema renders them in DDL, spelled out here so this
# migration never changes when the application's types evolve.
JSON_TEXT = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
UTC_DATETIME = sa.String(32).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
SURROGATE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _create_commands()
    _create_exchange_log()
    _create_ocpi_object_counts_ocpi_objects()
    _create_partners_credentials_tokens()
    _create_ocpi_object_wire_outbox()
    _create_partner_parties()
    _create_sync_marks()


def _create_commands() -> None:
    op.create_table(
        "commands",
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("command", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("request", JSON_TEXT, nullable=True),
        sa.Column("response_url", sa.Text(), nullable=True),
        sa.Column("response", JSON_TEXT, nullable=True),
        sa.Column("result", JSON_TEXT, nullable=True),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("deadline", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("direction", "id", name=op.f("pk_commands")),
    )
    with op.batch_alter_table("commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commands_final_deadline"), ["final", "deadline"], unique=False
        )


def _create_exchange_log() -> None:
    op.create_table(
        "exchange_log",
        sa.Column("id", SURROGATE, autoincrement=True, nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("ocpi_status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("request_id", sa.String(length=255), nullable=True),
        sa.Column("correlation_id", sa.String(length=255), nullable=True),
        sa.Column("request_headers", JSON_TEXT, nullable=False),
        sa.Column("request_body", sa.LargeBinary(), nullable=True),
        sa.Column("response_headers", JSON_TEXT, nullable=False),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_log")),
    )
    with op.batch_alter_table("exchange_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_log_partner_id_id"), ["partner_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_log_started_at"), ["started_at"], unique=False
        )


def _create_ocpi_object_counts_ocpi_objects() -> None:
    op.create_table(
        "ocpi_object_counts",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("owner_key", sa.String(length=64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "owner_key", name=op.f("pk_ocpi_object_counts")),
    )
    op.create_table(
        "ocpi_objects",
        sa.Column("seq", SURROGATE, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("country_code", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("cc_key", sa.String(length=16), nullable=False),
        sa.Column("pid_key", sa.String(length=16), nullable=False),
        sa.Column("id_key", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("last_updated", UTC_DATETIME, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("document", JSON_TEXT, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ocpi_objects")),
        sa.UniqueConstraint(
            "kind",
            "cc_key",
            "pid_key",
            "id_key",
            name=op.f("uq_ocpi_objects_kind_cc_key_pid_key_id_key"),
        ),
    )
    with op.batch_alter_table("ocpi_objects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocpi_objects_kind_last_updated"), ["kind", "last_updated"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ocpi_objects_kind_owner_seq_last_updated"),
            ["kind", "owner", "seq", "last_updated"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ocpi_objects_kind_seq_last_updated"),
            ["kind", "seq", "last_updated"],
            unique=False,
        )


def _create_partners_credentials_tokens() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=True),
        sa.Column("versions_url", sa.Text(), nullable=True),
        sa.Column("roles", JSON_TEXT, nullable=False),
        sa.Column("endpoints", JSON_TEXT, nullable=False),
        sa.Column("outbound_token", sa.Text(), nullable=True),
        sa.Column("local_country_code", sa.String(length=16), nullable=True),
        sa.Column("local_party_id", sa.String(length=16), nullable=True),
        sa.Column("settings", JSON_TEXT, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
    )
    op.create_table(
        "credentials_tokens",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("local_country_code", sa.String(length=16), nullable=True),
        sa.Column("local_party_id", sa.String(length=16), nullable=True),
        sa.Column("hint", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_credentials_tokens_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_credentials_tokens")),
    )
    with op.batch_alter_table("credentials_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credentials_tokens_partner_id"), ["partner_id"], unique=False
        )


def _create_ocpi_object_wire_outbox() -> None:
    op.create_table(
        "ocpi_object_wire",
        sa.Column("object_seq", SURROGATE, nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_seq"],
            ["ocpi_objects.seq"],
            name=op.f("fk_ocpi_object_wire_object_seq_ocpi_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_seq", "version", name=op.f("pk_ocpi_object_wire")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", SURROGATE, autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("country_code", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("cc_key", sa.String(length=16), nullable=False),
        sa.Column("pid_key", sa.String(length=16), nullable=False),
        sa.Column("id_key", sa.String(length=255), nullable=False),
        sa.Column("operation", sa.String(length=8), nullable=False),
        sa.Column("payload", JSON_TEXT, nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", UTC_DATETIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_outbox_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "partner_id",
            "kind",
            "cc_key",
            "pid_key",
            "id_key",
            name=op.f("uq_outbox_partner_id_kind_cc_key_pid_key_id_key"),
        ),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_state_next_attempt_at_id"),
            ["state", "next_attempt_at", "id"],
            unique=False,
        )


def _create_partner_parties() -> None:
    op.create_table(
        "partner_parties",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("cc_key", sa.String(length=16), nullable=False),
        sa.Column("pid_key", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_parties_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "partner_id", "role", "cc_key", "pid_key", name=op.f("pk_partner_parties")
        ),
    )
    with op.batch_alter_table("partner_parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_parties_cc_key_pid_key"), ["cc_key", "pid_key"], unique=False
        )


def _create_sync_marks() -> None:
    op.create_table(
        "sync_marks",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_sync_marks_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "module", name=op.f("pk_sync_marks")),
    )


def downgrade() -> None:
    op.drop_table("ocpi_object_counts")
    op.drop_table("sync_marks")
    with op.batch_alter_table("partner_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_parties_cc_key_pid_key"))

    op.drop_table("partner_parties")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_state_next_attempt_at_id"))

    op.drop_table("outbox")
    op.drop_table("ocpi_object_wire")
    with op.batch_alter_table("credentials_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_tokens_partner_id"))

    op.drop_table("credentials_tokens")
    op.drop_table("partners")
    with op.batch_alter_table("ocpi_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocpi_objects_kind_seq_last_updated"))
        batch_op.drop_index(batch_op.f("ix_ocpi_objects_kind_owner_seq_last_updated"))
        batch_op.drop_index(batch_op.f("ix_ocpi_objects_kind_last_updated"))

    op.drop_table("ocpi_objects")
    with op.batch_alter_table("exchange_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_log_started_at"))
        batch_op.drop_index(batch_op.f("ix_exchange_log_partner_id_id"))

    op.drop_table("exchange_log")
    with op.batch_alter_table("commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commands_final_deadline"))

    op.drop_table("commands")
