"""The SQL schema (SQLAlchemy Core tables), the single source the migrations are checked against.

See docs/storage.md for the why of each table and index. Portable between SQLite and
PostgreSQL; where the two differ, a type says so:

- :class:`JsonText`: JSON text on SQLite, ``JSONB`` on PostgreSQL; on the Python side always the
  JSON text (bytes are never parsed by storage, so a page can be served from them directly).
- :class:`UtcDateTime`: fixed-width ISO-8601 text ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` on SQLite
  (sorts and compares correctly as text, parses with the C ``fromisoformat``), ``timestamptz``
  on PostgreSQL; always an aware UTC datetime in Python.
- ``seq``/``id`` surrogate keys: ``INTEGER PRIMARY KEY`` (the rowid) on SQLite, ``BIGINT``
  identity on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from ocpikit.core.types import iso_seconds

__all__ = [
    "JsonText",
    "UtcDateTime",
    "cdr_builds",
    "cdr_checks",
    "commands",
    "credentials_generation",
    "credentials_tokens",
    "exchange_log",
    "hub_counters",
    "metadata",
    "object_counts",
    "object_order",
    "object_routes",
    "object_wire",
    "objects",
    "outbox",
    "partner_parties",
    "partners",
    "platform_facts",
    "pull_resumes",
    "remote_parties",
    "sqlite_time",
    "sqlite_time_text",
    "sync_marks",
]


class JsonText(sa.types.TypeDecorator[str]):
    """JSON held as text in Python; ``JSONB`` on PostgreSQL, ``TEXT`` elsewhere."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.Text())

    def bind_processor(self, dialect: Dialect) -> Any:
        # Pass the JSON text through untouched (no JSONB serializer: it would quote it again);
        # the psycopg dialect renders ``::JSONB`` so PostgreSQL parses it.
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name == "postgresql":
            # Selected without a cast, psycopg has parsed the JSONB; give back text.
            import orjson

            def process(value: Any) -> str | None:
                if value is None or isinstance(value, str):
                    return value
                return orjson.dumps(value).decode()

            return process
        return None


#: how UtcDateTime stores a datetime in SQLite (sortable text, always microseconds, UTC)
SQLITE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def sqlite_time_text(value: datetime) -> str:
    """``value`` (aware, UTC) as :data:`SQLITE_TIME_FORMAT` text, from its fields rather than
    with ``strftime`` (it runs once per logged request and per object written; the year always
    has four digits, which ``strftime`` does not give before 1000 on glibc and would not
    sort)."""
    return "%s.%06dZ" % (iso_seconds(value), value.microsecond)  # noqa: UP031


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime; ``timestamptz`` on PostgreSQL, sortable ISO text on SQLite."""

    impl = sa.String(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(sa.String(32))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if dialect.name == "postgresql":
            return value
        return sqlite_time_text(value.astimezone(UTC))

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(str(value))


_UTC_DATETIME = UtcDateTime()
_SQLITE_DIALECT = sqlite.dialect()


def sqlite_time(value: datetime) -> str:
    """How :class:`UtcDateTime` stores ``value`` in SQLite (for SQL text bound on the
    driver's cursor)."""
    if value.tzinfo is not UTC:
        text: str = _UTC_DATETIME.process_bind_param(value, _SQLITE_DIALECT)
        return text
    return sqlite_time_text(value)


def _surrogate() -> TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_CC = sa.String(16)  # country_code: CiString(2); lenient so a quirky partner is stored, not lost
_PID = sa.String(16)  # party_id: CiString(3)
_OID = sa.String(255)  # object id / uid: CiString(36..39); lenient
_PARTNER = sa.String(64)

objects = sa.Table(
    "ocpi_objects",
    metadata,
    sa.Column("seq", _surrogate(), primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("country_code", _CC, nullable=False),
    sa.Column("party_id", _PID, nullable=False),
    sa.Column("object_id", _OID, nullable=False),
    sa.Column("cc_key", _CC, nullable=False),
    sa.Column("pid_key", _PID, nullable=False),
    sa.Column("id_key", _OID, nullable=False),
    sa.Column("owner", _PARTNER, nullable=True),
    sa.Column("last_updated", UtcDateTime(), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("document", JsonText(), nullable=False),
    # what a write changed, for the listing cache (docs/storage.md): on SQLite one more than the
    # kind's highest at each create or update, so a serving process sees from max(chg) whether
    # a kind changed and from chg > g what changed; on PostgreSQL the id of the writing
    # transaction (a trigger, migration 0014), so what a snapshot does not see changed since
    # it
    sa.Column("chg", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    sa.UniqueConstraint("kind", "cc_key", "pid_key", "id_key"),
    # Pages in creation order, covering: the date window is checked and the revision (which
    # picks the fresh wire-cache entry) read inside the index, so a page of cached wire bytes
    # never touches the table rows. One per listing filter: all, one owner, one owner and party.
    sa.Index("ix_ocpi_objects_page", "kind", "seq", "last_updated", "revision"),
    sa.Index("ix_ocpi_objects_page_owner", "kind", "owner", "seq", "last_updated", "revision"),
    sa.Index(
        "ix_ocpi_objects_page_party",
        *("kind", "owner", "cc_key", "pid_key", "seq", "last_updated", "revision"),
    ),
    # narrow incremental windows (date_from near now)
    sa.Index(None, "kind", "last_updated"),
    sa.Index("ix_ocpi_objects_chg", "kind", "chg"),
)

object_counts = sa.Table(
    "ocpi_object_counts",
    metadata,
    # X-Total-Count of unfiltered listings without a COUNT(*) over the index (O(n) per page).
    # Changed only when an object is created, deleted or changes owner, so the frequent
    # updates of existing objects never contend on these rows.
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("owner_key", _PARTNER, primary_key=True),  # "" for our own objects
    sa.Column("n", sa.BigInteger(), nullable=False),
)

object_order = sa.Table(
    "ocpi_object_order",
    metadata,
    # Bumped whenever an object of ``kind`` leaves a position in creation order (deleted, or
    # moved to another owner). Objects are only ever created at the end of that order, so
    # while ``epoch`` stands, a position -> seq map of a listing stays true (SQLite pages use
    # one to skip OFFSET walks; see docs/storage.md).
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("epoch", sa.BigInteger(), nullable=False),
)

object_wire = sa.Table(
    "ocpi_object_wire",
    metadata,
    sa.Column(
        "object_seq",
        _surrogate(),
        sa.ForeignKey("ocpi_objects.seq", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("version", sa.String(16), primary_key=True),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=False),
)

partners = sa.Table(
    "partners",
    metadata,
    sa.Column("id", _PARTNER, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.String(16), nullable=True),
    sa.Column("versions_url", sa.Text(), nullable=True),
    sa.Column("roles", JsonText(), nullable=False),
    sa.Column("endpoints", JsonText(), nullable=False),
    sa.Column("outbound_token", sa.Text(), nullable=True),
    sa.Column("local_country_code", _CC, nullable=True),
    sa.Column("local_party_id", _PID, nullable=True),
    sa.Column("settings", JsonText(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

partner_parties = sa.Table(
    "partner_parties",
    metadata,
    sa.Column(
        "partner_id",
        _PARTNER,
        sa.ForeignKey("partners.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("role", sa.String(16), primary_key=True),
    sa.Column("cc_key", _CC, primary_key=True),
    sa.Column("pid_key", _PID, primary_key=True),
    sa.Index(None, "cc_key", "pid_key"),
)

platform_facts = sa.Table(
    "platform_facts",
    metadata,
    # what the running platform records about itself (its effective public base URL, ...), read
    # by the CLI in other processes; see ocpikit.protocol.ports.PlatformFacts
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

hub_counters = sa.Table(
    "hub_counters",
    metadata,
    # a hub's counters per connection: forwarded requests by outcome, conversion losses by rule
    # (ocpikit.operations.hub_counters); added to in batches, never per request
    sa.Column("partner_id", _PARTNER, primary_key=True),
    sa.Column("counter", sa.String(200), primary_key=True),
    sa.Column("count", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

remote_parties = sa.Table(
    "remote_parties",
    metadata,
    # the learned part of the party directory (ocpikit.protocol.parties): parties behind a hub
    # connection; direct parties come from the partners' roles and are not stored here
    sa.Column(
        "partner_id",
        _PARTNER,
        sa.ForeignKey("partners.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("cc_key", _CC, primary_key=True),  # ci_key(country_code)
    sa.Column("pid_key", _PID, primary_key=True),
    sa.Column("role", sa.String(16), primary_key=True),
    sa.Column("country_code", _CC, nullable=False),  # as the hub spelled it
    sa.Column("party_id", _PID, nullable=False),
    sa.Column("learned", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

object_routes = sa.Table(
    "object_routes",
    metadata,
    # the connection an object (a Session) was first routed over, kept until its CDR is out
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("cc_key", _CC, primary_key=True),  # ci_key of each part
    sa.Column("pid_key", _PID, primary_key=True),
    sa.Column("id_key", _OID, primary_key=True),
    sa.Column(
        "partner_id",
        _PARTNER,
        sa.ForeignKey("partners.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

sync_marks = sa.Table(
    "sync_marks",
    metadata,
    sa.Column(
        "partner_id",
        _PARTNER,
        sa.ForeignKey("partners.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("module", sa.String(32), primary_key=True),
    sa.Column("at", UtcDateTime(), nullable=False),
)

pull_resumes = sa.Table(
    "pull_resumes",
    metadata,
    # where an unfinished pull goes on (ocpikit.protocol.ports.PullResume); cleared when it ends
    sa.Column(
        "partner_id",
        _PARTNER,
        sa.ForeignKey("partners.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("module", sa.String(32), primary_key=True),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("date_from", UtcDateTime(), nullable=True),
    sa.Column("page_offset", sa.Integer(), nullable=False),
    sa.Column("pages", sa.Integer(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
)

credentials_tokens = sa.Table(
    "credentials_tokens",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(1), nullable=False),
    sa.Column(
        "partner_id",
        _PARTNER,
        sa.ForeignKey("partners.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("local_country_code", _CC, nullable=True),
    sa.Column("local_party_id", _PID, nullable=True),
    sa.Column("hint", sa.String(8), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("expected_party", sa.String(16), nullable=True),
    sa.Index(None, "partner_id"),
)

credentials_generation = sa.Table(
    "credentials_generation",
    metadata,
    # one row (id 1) whose value triggers raise at every change of ``partners`` or
    # ``credentials_tokens``, whoever makes it (migration 0008; ocpikit.storage.sql.credentials_changes)
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("value", sa.BigInteger(), nullable=False),
)

exchange_log = sa.Table(
    "exchange_log",
    metadata,
    sa.Column("id", _surrogate(), primary_key=True, autoincrement=True),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("partner_id", _PARTNER, nullable=True),  # no FK: the log outlives partners
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("status", sa.Integer(), nullable=True),
    sa.Column("ocpi_status", sa.Integer(), nullable=True),
    sa.Column("duration_ms", sa.Float(), nullable=True),
    sa.Column("request_id", sa.String(255), nullable=True),
    sa.Column("correlation_id", sa.String(255), nullable=True),
    sa.Column("request_headers", JsonText(), nullable=False),
    sa.Column("request_body", sa.LargeBinary(), nullable=True),
    sa.Column("response_headers", JsonText(), nullable=False),
    sa.Column("response_body", sa.LargeBinary(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    # migration 0011: what the exchange was about, for the traffic log's filters
    sa.Column("module", sa.String(32), nullable=True),
    sa.Column("object_id", sa.String(255), nullable=True),
    sa.Index(None, "partner_id", "id"),
    sa.Index(None, "started_at"),
    sa.Index(None, "direction", "id"),
    sa.Index(None, "object_id", "id"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", _surrogate(), primary_key=True, autoincrement=True),
    sa.Column(
        "partner_id",
        _PARTNER,
        sa.ForeignKey("partners.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("country_code", _CC, nullable=False),
    sa.Column("party_id", _PID, nullable=False),
    sa.Column("object_id", _OID, nullable=False),
    sa.Column("cc_key", _CC, nullable=False),
    sa.Column("pid_key", _PID, nullable=False),
    sa.Column("id_key", _OID, nullable=False),
    sa.Column("operation", sa.String(8), nullable=False),
    sa.Column("payload", JsonText(), nullable=True),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("dead_reason", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # a PATCH entry's changed fields (protocol/push_patches.py; migration 0013)
    sa.Column("changes", sa.Text(), nullable=True),
    # one entry per (partner, object): the coalescing key
    sa.UniqueConstraint("partner_id", "kind", "cc_key", "pid_key", "id_key"),
    # the claim query: due entries in order
    sa.Index(None, "state", "next_attempt_at", "id"),
)

cdr_checks = sa.Table(
    "cdr_checks",
    metadata,
    # one row per CDR a partner stored with us, queued by a trigger (migration 0009) in the
    # transaction that stores the CDR (ocpikit.protocol.cdr_checks)
    sa.Column(
        "object_seq",
        _surrogate(),
        sa.ForeignKey("ocpi_objects.seq", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("owner", _PARTNER, nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("queued_at", UtcDateTime(), nullable=False),
    sa.Column("checked_at", UtcDateTime(), nullable=True),
    sa.Column("session_key", _OID, nullable=True),  # ci_key of the CDR's session_id
    sa.Column("verdict", sa.String(32), nullable=True),
    sa.Column("result", JsonText(), nullable=True),
    sa.Column("resolution", sa.String(16), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    sa.Column("resolved_at", UtcDateTime(), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),  # a process is checking it
    # a Tariff of the partner arrived while the check was pending (trigger of migration 0010)
    sa.Column("tariff_changed", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Index(None, "state", "object_seq"),
    sa.Index(None, "owner", "session_key"),
)

cdr_builds = sa.Table(
    "cdr_builds",
    metadata,
    # one row per Session of ours that became COMPLETED, queued by a trigger (migration
    # cdr_builds) in the transaction that stores it (ocpikit.protocol.cdr_builds)
    sa.Column(
        "session_seq",
        _surrogate(),
        sa.ForeignKey("ocpi_objects.seq", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("queued_at", UtcDateTime(), nullable=False),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("built_at", UtcDateTime(), nullable=True),
    sa.Column("cdr_id", _OID, nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Index(None, "state", "session_seq"),
)

commands = sa.Table(
    "commands",
    metadata,
    sa.Column("direction", sa.String(16), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("partner_id", _PARTNER, nullable=True),
    sa.Column("request", JsonText(), nullable=True),
    sa.Column("response_url", sa.Text(), nullable=True),
    sa.Column("response", JsonText(), nullable=True),
    sa.Column("result", JsonText(), nullable=True),
    sa.Column("final", sa.Boolean(), nullable=False),
    sa.Column("deadline", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index(None, "final", "deadline"),
)
