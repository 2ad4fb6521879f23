"""The ``ocpi_objects`` table as SQLAlchemy constructs, shared by both dialects: the key and
the columns an object is read with, the per-kind bookkeeping a write keeps (the counts of
``ocpi_object_counts``, the creation-order epoch of ``ocpi_object_order``), delete, and the
cached wire forms (docs/storage.md, "Objects").

Invariants every object write keeps, whatever its dialect: ``revision`` counts writes (1 on
creation), ``seq`` (creation order) never changes, the count of ``(kind, owner)`` changes only
on a creation, a delete or an owner move, and the kind's epoch is bumped whenever an object
leaves its place in creation order (a delete, a move to another owner).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from ocpikit.protocol.ports import ObjectKey, OutboxOperation, StoredObject, WireEntry, WirePage
from ocpikit.storage.sql.database import Database
from ocpikit.storage.sql.outbox import enqueue
from ocpikit.storage.sql.schema import object_counts, object_order, object_wire, objects

__all__ = [
    "KEY_COLUMNS",
    "OBJECT_COLUMNS",
    "bump_count",
    "bump_order",
    "delete_object",
    "key_where",
    "row_to_object",
    "store_wire_params",
    "store_wire_statement",
    "wire_page",
]

KEY_COLUMNS = (objects.c.kind, objects.c.cc_key, objects.c.pid_key, objects.c.id_key)
OBJECT_COLUMNS = (
    objects.c.seq,
    objects.c.kind,
    objects.c.country_code,
    objects.c.party_id,
    objects.c.object_id,
    objects.c.owner,
    objects.c.last_updated,
    objects.c.revision,
    sa.cast(objects.c.document, sa.Text).label("document"),
)


def key_where(key: ObjectKey) -> list[sa.ColumnElement[bool]]:
    return [col == part for col, part in zip(KEY_COLUMNS, key.norm, strict=True)]


def row_to_object(row: sa.Row[Any], wire: bytes | None = None) -> StoredObject:
    """A row of :data:`OBJECT_COLUMNS` as a stored object."""
    return StoredObject(
        key=ObjectKey(row.kind, row.country_code, row.party_id, row.object_id),
        owner=row.owner,
        raw=row.document.encode(),
        last_updated=row.last_updated,
        seq=row.seq,
        revision=row.revision,
        wire=wire,
    )


def bump_count(db: Database, conn: sa.Connection, kind: str, owner: str | None, delta: int) -> None:
    """Add ``delta`` to the number of objects of ``kind`` owned by ``owner``."""
    ins = db.insert(object_counts).values(kind=kind, owner_key=owner or "", n=delta)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=[object_counts.c.kind, object_counts.c.owner_key],
            set_={"n": object_counts.c.n + delta},
        )
    )


def bump_order(db: Database, conn: sa.Connection, kind: str) -> None:
    """An object of ``kind`` left its place in creation order: position maps are void."""
    ins = db.insert(object_order).values(kind=kind, epoch=1)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=[object_order.c.kind], set_={"epoch": object_order.c.epoch + 1}
        )
    )


def delete_object(
    db: Database, conn: sa.Connection, key: ObjectKey, push_to: Sequence[str]
) -> bool:
    """Remove the object, its count and its cached forms, bump its kind's epoch, and queue a
    ``DELETE`` for each partner of ``push_to``; False when it did not exist."""
    row = conn.execute(
        sa.delete(objects)
        .where(*key_where(key))
        .returning(objects.c.seq, objects.c.revision, objects.c.owner)
    ).one_or_none()
    if row is None:
        return False
    bump_count(db, conn, key.kind, row.owner, -1)
    bump_order(db, conn, key.kind)
    conn.execute(sa.delete(object_wire).where(object_wire.c.object_seq == row.seq))
    for partner_id in push_to:
        enqueue(db, conn, partner_id, key, OutboxOperation.DELETE, None, row.revision + 1)
    return True


def store_wire_statement(db: Database) -> Any:
    """The statement that caches a form of an object (parameters: :func:`store_wire_params`):
    it replaces the object's form of that version, and only while the object is still at the
    entry's revision."""
    source = sa.select(
        objects.c.seq,
        sa.bindparam("ver", type_=sa.String()),
        objects.c.revision,
        sa.bindparam("body", type_=sa.LargeBinary()),
    ).where(
        objects.c.kind == sa.bindparam("k"),
        objects.c.cc_key == sa.bindparam("cc"),
        objects.c.pid_key == sa.bindparam("pid"),
        objects.c.id_key == sa.bindparam("oid"),
        objects.c.revision == sa.bindparam("rev"),
    )
    ins = db.insert(object_wire).from_select(["object_seq", "version", "revision", "body"], source)
    return ins.on_conflict_do_update(
        index_elements=[object_wire.c.object_seq, object_wire.c.version],
        set_={"revision": ins.excluded.revision, "body": ins.excluded.body},
    )


def store_wire_params(entries: Iterable[WireEntry]) -> list[dict[str, Any]]:
    """The parameters of :func:`store_wire_statement`, one set per entry."""
    return [
        {
            "k": e.key.kind,
            "cc": e.key.norm[1],
            "pid": e.key.norm[2],
            "oid": e.key.norm[3],
            "rev": e.revision,
            "ver": e.version,
            "body": e.body,
        }
        for e in entries
    ]


def wire_page(
    conn: sa.Connection,
    rows: list[tuple[int, bytes | None]],
    total: int,
    offset: int,
    limit: int,
) -> WirePage:
    """A page of wire bytes; rows missing from the wire cache are read as stored objects."""
    missing = [seq for seq, body in rows if body is None]
    items: list[bytes | StoredObject] = [body for _seq, body in rows if body is not None]
    if missing:
        found = {
            r.seq: row_to_object(r)
            for r in conn.execute(sa.select(*OBJECT_COLUMNS).where(objects.c.seq.in_(missing)))
        }
        items = [found[seq] if body is None else body for (seq, body) in rows]
    return WirePage(items=items, total=total, offset=offset, limit=limit)
