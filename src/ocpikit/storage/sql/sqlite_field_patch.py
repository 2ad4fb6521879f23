"""A :class:`~ocpikit.protocol.ports.SetFields` PATCH merged by SQLite itself, in the UPDATE.

Plan: the new values and the indexed timestamp are ready before the write, so the writer thread
runs one ``UPDATE ... SET document = json_patch(document, ?)`` and no Python merge (each
statement and each stretch of Python there is a GIL hand-off with the busy event loop thread).
Consecutive such PATCHes of one group commit (owner given, nothing to push) share one
``UPDATE ... FROM (VALUES ...)`` per part of the run (:func:`~.batch_parts.power_parts`).

Invariant: the stored object is exactly what the plain path stores, i.e. reading the document,
:meth:`SetFields.apply` and :meth:`.objects_sqlite.SqliteObjectStatements.write`, bytes included:
``json_patch`` (RFC 7396) of top-level values that are neither null nor objects replaces
existing keys in place and appends new ones, as ``{**document, **fields}`` serialized by orjson
does. The revision and ``chg`` move as an upsert moves them. The tests compare the two paths.
Built into SQLite from 3.38 (:data:`JSON_PATCH`); older builds take the plain path.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from ocpikit.protocol.ports import (
    ANY_OWNER,
    ObjectKey,
    OutboxOperation,
    OwnerFilter,
    SetFields,
    StoredObject,
)
from ocpikit.storage._common import last_updated_of
from ocpikit.storage.sql.batch_parts import power_parts
from ocpikit.storage.sql.database import Database, cursor
from ocpikit.storage.sql.group_commit import Outcome
from ocpikit.storage.sql.outbox import enqueue
from ocpikit.storage.sql.schema import sqlite_time

__all__ = [
    "JSON_PATCH",
    "FieldPatch",
    "patch_fields",
    "patch_rows",
    "patch_run",
]

#: ``json_patch`` is built into SQLite 3.38 and later
JSON_PATCH = sqlite3.sqlite_version_info >= (3, 38)

#: merges the fields (JSON) into an object of any owner; parameters: :meth:`FieldPatch.of`
SQLITE_PATCH_FIELDS = (
    "UPDATE ocpi_objects SET document = json_patch(document, ?), "
    "last_updated = ?, revision = revision + 1, "
    "chg = (SELECT coalesce(max(chg), 0) + 1 FROM ocpi_objects AS m WHERE m.kind = ?) "
    "WHERE kind = ? AND cc_key = ? AND pid_key = ? AND id_key = ? "
    "RETURNING seq, revision, country_code, party_id, object_id, owner, last_updated, document"
)
#: :data:`SQLITE_PATCH_FIELDS` of an object of the given owner only (one more parameter)
SQLITE_PATCH_FIELDS_OF_OWNER = (
    "UPDATE ocpi_objects SET document = json_patch(document, ?), "
    "last_updated = ?, revision = revision + 1, "
    "chg = (SELECT coalesce(max(chg), 0) + 1 FROM ocpi_objects AS m WHERE m.kind = ?) "
    "WHERE kind = ? AND cc_key = ? AND pid_key = ? AND id_key = ? AND owner IS ? "
    "RETURNING seq, revision, country_code, party_id, object_id, owner, last_updated, document"
)


@dataclass(slots=True)
class FieldPatch:
    """One field PATCH: its key and the parameters of :data:`SQLITE_PATCH_FIELDS_OF_OWNER`
    (those of :data:`SQLITE_PATCH_FIELDS`, then the owner), built before the write."""

    key: ObjectKey
    params: tuple[Any, ...]

    @classmethod
    def of(cls, key: ObjectKey, plan: SetFields, owner: OwnerFilter) -> FieldPatch:
        fields = plan.fields
        return cls(
            key,
            (
                orjson.dumps(fields).decode(),
                sqlite_time(last_updated_of(fields)),
                key.kind,
                *key.norm,
                owner,
            ),
        )


@functools.cache
def patch_rows(n: int) -> str:
    """:data:`SQLITE_PATCH_FIELDS_OF_OWNER` for ``n`` objects at once: the UPDATE joined with
    their rows of parameters (each in that statement's order), returning each row's key
    first."""
    rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * n)
    return (
        "UPDATE ocpi_objects SET document = json_patch(document, p.column1), "
        "last_updated = p.column2, revision = revision + 1, "
        "chg = (SELECT coalesce(max(chg), 0) + 1 FROM ocpi_objects AS m "
        "WHERE m.kind = p.column3) "
        f"FROM (VALUES {rows}) AS p "
        "WHERE ocpi_objects.kind = p.column4 AND ocpi_objects.cc_key = p.column5 "
        "AND ocpi_objects.pid_key = p.column6 AND ocpi_objects.id_key = p.column7 "
        "AND ocpi_objects.owner IS p.column8 "
        "RETURNING kind, cc_key, pid_key, id_key, "
        "seq, revision, country_code, party_id, object_id, owner, last_updated, document"
    )


def _patched(kind: str, row: Sequence[Any]) -> StoredObject:
    """The object a field PATCH returned: ``seq, revision, country_code, party_id, object_id,
    owner, last_updated, document``."""
    seq, revision, cc, pid, oid, owner, stamp, raw = row
    return StoredObject(
        key=ObjectKey(kind, cc, pid, oid),
        owner=owner,
        raw=raw.encode(),
        last_updated=datetime.fromisoformat(stamp),
        seq=seq,
        revision=revision,
    )


def patch_fields(
    db: Database,
    conn: sa.Connection,
    patch: FieldPatch,
    push_to: Sequence[str],
) -> StoredObject | None:
    """One field PATCH (None: no such object, or not of the owner it names), with its
    outbox entries."""
    cur = cursor(conn)
    try:
        if patch.params[-1] is ANY_OWNER:
            row = cur.execute(SQLITE_PATCH_FIELDS, patch.params[:-1]).fetchone()
        else:
            row = cur.execute(SQLITE_PATCH_FIELDS_OF_OWNER, patch.params).fetchone()
    finally:
        cur.close()
    if row is None:
        return None
    stored = _patched(patch.key.kind, row)
    for partner_id in push_to:
        enqueue(db, conn, partner_id, stored.key, OutboxOperation.PUT, row[7], row[1])
    return stored


def patch_run(conn: sa.Connection, items: list[FieldPatch]) -> list[Outcome | None]:
    """The batch runner of a run of field PATCHes, each naming the owner it must have: per
    item its stored object, or None for one left to its own write (which finds nothing: not
    found under that owner)."""
    out: list[Outcome | None] = []
    cur = cursor(conn)
    try:
        for part in power_parts(items):
            params = [value for patch in part for value in patch.params]
            written = {
                tuple(row[:4]): row[4:]
                for row in cur.execute(patch_rows(len(part)), params).fetchall()
            }
            for patch in part:
                row = written.get(patch.key.norm)
                out.append(None if row is None else (True, _patched(patch.key.kind, row)))
    finally:
        cur.close()
    return out
