"""A run of object PUTs of one SQLite group commit written by multi-row upserts.

Plan: consecutive PUTs queued in one group (:mod:`.group_commit`, :class:`~.group_commit.Batch`)
are written by one ``INSERT ... VALUES (...), (...) ON CONFLICT DO UPDATE ... RETURNING`` per
part of the run (:func:`~.batch_parts.power_parts`), then one count update per kind and owner
for the objects created. Every statement is a GIL hand-off between the writer thread and the
busy event loop thread, and SQLite's per-statement work is most of a small write's own cost.

Invariant: the run leaves the database and every caller's result exactly as the plain path,
:meth:`.objects_sqlite.SqliteObjectStatements.write` once per PUT in order, would (the tests
compare the two). An object that exists under another owner (it moves owner) is left to its own
write; the group commit ends a run at a key it already holds, so writes of one object keep their
order.
"""

from __future__ import annotations

import collections
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ocpikit.protocol.ports import ObjectKey, StoredObject
from ocpikit.storage.sql.batch_parts import power_parts
from ocpikit.storage.sql.database import cursor
from ocpikit.storage.sql.group_commit import Outcome
from ocpikit.storage.sql.objects_sqlite import SQLITE_COUNT_ADD

__all__ = ["PutItem", "put_rows", "upsert_rows"]


@dataclass(slots=True)
class PutItem:
    """One PUT of a run: its key, the upsert parameters (:func:`.objects_sqlite.object_values`),
    the document, its timestamp and owner."""

    key: ObjectKey
    values: tuple[Any, ...]
    raw: str
    last_updated: datetime
    owner: str | None


@functools.cache
def upsert_rows(n: int) -> str:
    """:data:`.objects_sqlite.SQLITE_UPSERT_SAME_OWNER` for ``n`` objects at once (its row of
    values ``n`` times), returning each row's key too (RETURNING gives rows in no set order)."""
    row = (
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, "
        "(SELECT coalesce(max(chg), 0) + 1 FROM ocpi_objects WHERE kind = ?))"
    )
    return (
        "INSERT INTO ocpi_objects (kind, country_code, party_id, object_id, cc_key, pid_key, "
        "id_key, owner, last_updated, revision, document, chg) VALUES "
        + ", ".join([row] * n)
        + " ON CONFLICT (kind, cc_key, pid_key, id_key) DO UPDATE SET "
        "country_code = excluded.country_code, party_id = excluded.party_id, "
        "object_id = excluded.object_id, owner = excluded.owner, "
        "last_updated = excluded.last_updated, revision = ocpi_objects.revision + 1, "
        "document = excluded.document, chg = excluded.chg "
        "WHERE ocpi_objects.owner IS excluded.owner "
        "RETURNING kind, cc_key, pid_key, id_key, seq, revision"
    )


def put_rows(conn: sa.Connection, items: list[PutItem]) -> list[Outcome | None]:
    """The batch runner of a run of PUTs: per item its stored object, or None for one left to
    its own write (an object of another owner)."""
    out: list[Outcome | None] = []
    created: collections.Counter[tuple[str, str]] = collections.Counter()
    cur = cursor(conn)
    try:
        for part in power_parts(items):
            params = [value for item in part for value in item.values]
            written = {
                (kind, cc, pid, oid): (seq, revision)
                for kind, cc, pid, oid, seq, revision in cur.execute(
                    upsert_rows(len(part)), params
                ).fetchall()
            }
            for item in part:
                row = written.get(item.key.norm)
                if row is None:
                    out.append(None)
                    continue
                seq, revision = row
                if revision == 1:
                    created[(item.key.kind, item.owner or "")] += 1
                stored = StoredObject(
                    key=item.key,
                    owner=item.owner,
                    raw=item.raw.encode(),
                    last_updated=item.last_updated,
                    seq=seq,
                    revision=revision,
                )
                out.append((True, stored))
        for (kind, owner_key), n in created.items():
            cur.execute(SQLITE_COUNT_ADD, (kind, owner_key, n))
    finally:
        cur.close()
    return out
