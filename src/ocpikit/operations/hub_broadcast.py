"""How a hub's broadcast is written: the receiver handler of the module stores the object (the
same validation, ownership and id checks as any receiver), and every write it makes also queues
the object for every receiving connection **in the same transaction** (the ``push_to`` of
:class:`~ocpikit.protocol.ports.ObjectRepository`; OCPI 2.2.1 transport_and_format §Broadcast
Push; docs/hubs.md "ocpikit as a hub"). A crash after the write cannot lose the queue entries.

:class:`BroadcastObjects` is the object repository the handler sees: before each write it asks
the hub's plan (:data:`Plan`) what the object becomes (a 2.1.1 Session or CDR gets its
``cdr_token`` filled) and where it goes, and passes the receivers along with the write.

With ``[hub] store = false`` a whole object (PUT, CDR POST) is not kept: it only goes to the
outbox, one entry per receiver, with a revision derived from its bytes (an entry delivered while
a newer state was queued is not taken for the newer one). Partial writes and deletions of a
non-stored object are the relay's (:mod:`ocpikit.operations.hub_relay`).
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from ocpikit.protocol.ports import (
    ANY_OWNER,
    Merge,
    ObjectKey,
    OutboxOperation,
    OwnerFilter,
    PatchPlan,
    Storage,
    StoredObject,
)

__all__ = ["BroadcastObjects", "BroadcastStorage", "Plan", "payload_revision"]

#: the hub's plan for one write: ``(key, head document or None)`` -> the document to write (the
#: same or completed) and the connections that receive it
Plan = Callable[
    [ObjectKey, "dict[str, Any] | None"], Awaitable[tuple["dict[str, Any] | None", list[str]]]
]


def payload_revision(raw: bytes) -> int:
    """The outbox revision of a non-stored object: 1 + the CRC-32 of its bytes, in 31 bits (the
    same state, the same revision)."""
    return 1 + (zlib.crc32(raw) & 0x3FFFFFFE)


class BroadcastObjects:
    """``storage.objects`` for the receiver handler of one broadcast; what it does not write
    is the real repository's. ``written``/``targets``: the last write and its receivers."""

    def __init__(self, inner: Any, outbox: Any, plan: Plan, *, store: bool) -> None:
        self._inner = inner
        self._outbox = outbox
        self._plan = plan
        self._store = store
        self.written: StoredObject | None = None
        self.targets: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get(self, key: ObjectKey, *, version: str | None = None) -> StoredObject | None:
        if not self._store and key.kind != "Token":
            return None  # nothing is kept: a CDR POSTed again goes again
        return await self._inner.get(key, version=version)  # type: ignore[no-any-return]

    async def put(
        self,
        key: ObjectKey,
        document: Mapping[str, Any] | bytes | str,
        *,
        last_updated: datetime,
        owner: str | None,
        push_to: Sequence[str] = (),
    ) -> StoredObject:
        doc = dict(document) if isinstance(document, Mapping) else orjson.loads(document)
        planned, targets = await self._plan(key, doc)
        raw = orjson.dumps(planned if planned is not None else doc)
        self.targets = targets
        if self._store or key.kind == "Token":
            stored: StoredObject = await self._inner.put(
                key, raw, last_updated=last_updated, owner=owner, push_to=[*push_to, *targets]
            )
        else:
            revision = payload_revision(raw)
            for partner_id in targets:
                await self._outbox.enqueue(
                    partner_id, key, OutboxOperation.PUT, raw, revision=revision
                )
            stored = StoredObject(
                key=key, owner=owner, raw=raw, last_updated=last_updated, seq=0, revision=1
            )
        self.written = stored
        return stored

    async def patch(
        self,
        key: ObjectKey,
        plan: PatchPlan | Merge,
        *,
        push_to: Sequence[str] = (),
        owner: OwnerFilter = ANY_OWNER,
    ) -> StoredObject | None:
        current = await self._inner.get(key) if key.kind in ("Session", "CDR") else None
        _, targets = await self._plan(key, current.document if current is not None else None)
        result: StoredObject | None = await self._inner.patch(
            key, plan, push_to=[*push_to, *targets], owner=owner
        )
        self.written, self.targets = result, targets if result is not None else []
        return result

    async def delete(self, key: ObjectKey, *, push_to: Sequence[str] = ()) -> bool:
        _, targets = await self._plan(key, None)
        done: bool = await self._inner.delete(key, push_to=[*push_to, *targets])
        self.targets = targets if done else []
        return done


class BroadcastStorage:
    """The storage of one broadcast: ``objects`` is a :class:`BroadcastObjects`, the rest the
    real storage's."""

    def __init__(self, inner: Storage, objects: BroadcastObjects) -> None:
        self._inner = inner
        self.objects = objects

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
