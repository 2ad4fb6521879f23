"""A page of objects read with SQLAlchemy, on both dialects (``list_page``; OCPI 2.2.1
transport §Pagination: offset/limit, a total, a stable order, ``date_from`` inclusive and
``date_to`` exclusive on ``last_updated``).

Invariants: pages come in ``seq`` (creation) order; the page's keys come from a covering index
alone (LIMIT/OFFSET walks index entries, not rows) and only the page's rows are read; nothing
loads a collection. The total of an unfiltered listing is the maintained count
(``ocpi_object_counts``), of a filtered one a ``COUNT(*)`` over the same index range.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ocpikit.core.types import ci_key
from ocpikit.protocol.ports import ANY_OWNER, OwnerFilter, Page
from ocpikit.storage.sql.database import Database
from ocpikit.storage.sql.object_rows import OBJECT_COLUMNS, row_to_object
from ocpikit.storage.sql.schema import object_counts, object_wire, objects

__all__ = ["read_page"]


async def read_page(
    db: Database,
    kind: str,
    *,
    offset: int,
    limit: int,
    date_from: datetime | None,
    date_to: datetime | None,
    owner: OwnerFilter,
    country_code: str | None,
    party_id: str | None,
    version: str | None,
) -> Page:
    """One page of ``kind`` (see the module docstring); ``version`` fills each object's
    ``wire`` with its cached form of the current revision."""
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit must not be negative")
    where: list[sa.ColumnElement[bool]] = [objects.c.kind == kind]
    if owner is not ANY_OWNER:
        where.append(objects.c.owner.is_(None) if owner is None else objects.c.owner == owner)
    if date_from is not None:
        where.append(objects.c.last_updated >= date_from)
    if date_to is not None:
        where.append(objects.c.last_updated < date_to)
    if country_code is not None:
        where.append(objects.c.cc_key == ci_key(country_code))
    if party_id is not None:
        where.append(objects.c.pid_key == ci_key(party_id))

    # The page's keys come from the index alone (LIMIT/OFFSET walks index entries, not
    # rows); only the page's rows are then read.
    page_keys = (
        sa.select(objects.c.seq)
        .where(*where)
        .order_by(objects.c.seq)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    if version is None:
        query = sa.select(*OBJECT_COLUMNS, sa.null().label("wire"))
    else:
        query = sa.select(*OBJECT_COLUMNS, object_wire.c.body.label("wire"))
    joined = objects.join(page_keys, objects.c.seq == page_keys.c.seq)
    if version is not None:
        joined = joined.outerjoin(
            object_wire,
            sa.and_(
                object_wire.c.object_seq == objects.c.seq,
                object_wire.c.version == version,
                object_wire.c.revision == objects.c.revision,
            ),
        )
    query = query.select_from(joined).order_by(objects.c.seq)
    filtered = not (
        date_from is None and date_to is None and country_code is None and party_id is None
    )
    if not filtered:
        # maintained by writes: one row instead of counting index entries
        counted = sa.select(sa.func.coalesce(sa.func.sum(object_counts.c.n), 0)).where(
            object_counts.c.kind == kind
        )
        if owner is not ANY_OWNER:
            counted = counted.where(object_counts.c.owner_key == (owner or ""))
        count: sa.Select[Any] = counted
    else:
        count = sa.select(sa.func.count()).select_from(objects).where(*where)

    def run(conn: sa.Connection) -> Page:
        rows = conn.execute(query).all()
        if 0 < len(rows) < limit or (offset == 0 and len(rows) < limit):
            total = offset + len(rows)  # the last page: no need to count
        else:
            total = conn.execute(count).scalar_one()
        items = [row_to_object(row, row.wire) for row in rows]
        return Page(items=items, total=total, offset=offset, limit=limit)

    # a filtered listing counts its matches (O(matches)): off the event loop
    return await db.read(run, scan=filtered)
