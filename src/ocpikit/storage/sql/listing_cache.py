"""The listing cache: the positions of a listing's objects and their wire bytes, in memory,
for pages served without a date window (docs/storage.md, "Listing cache").

Plan: a page whose listing has not changed since it was last seen costs one query (the kind's
creation-order epoch and ``max(chg)``), a list slice and a join, whatever its offset: no OFFSET
walk, no per-item lookup, no document read. This module holds no SQL: it reads through a
:class:`ListingSource` (SQLite's is :class:`~.wire_pages.SqliteListingSource`), so its rules are
unit-tested against a fake one.

Invariants:

- Position ``i`` of a listing holds ``seqs[i]`` for as long as the kind's epoch stands: objects
  are only created at the end of creation order (SQLite assigns ``max(rowid)+1`` and has one
  writer), and leaving it (a delete, a move to another owner) bumps the epoch.
- Every write moves the kind's ``max(chg)`` (the ``gen``) in the same transaction, so a listing
  at the reader's epoch and gen is current for that reader's snapshot, across processes.
- A listing is brought up to date from the rows changed since its gen (an update's new
  revision drops that position's bytes, a creation is appended), or read whole when more than
  an eighth of it (and more than a block) changed or its epoch moved.
- A reader older than the listing held (it sees a lower epoch or gen) gets None and serves its
  page without the cache; bytes are only kept for the listing the reader holds.
- The bytes held are bounded by the budget (sum of their lengths), evicted by blocks of
  :data:`BLOCK` positions, least recently served first.
"""

from __future__ import annotations

import bisect
import collections
import threading
from typing import Protocol, cast

__all__ = [
    "BLOCK",
    "REFRESH_SHARE",
    "WIRE_CACHE_BYTES",
    "Listing",
    "ListingCache",
    "ListingShape",
    "ListingSource",
]

#: default budget of the in-process wire bytes of listings (``SqlStorage``)
WIRE_CACHE_BYTES = 256 * 1024 * 1024

#: a listing's positions are refreshed row by row while at most this share of them changed;
#: beyond it, re-read whole
REFRESH_SHARE = 8

#: positions per eviction block of the wire bytes (one LRU entry per block and version)
BLOCK = 128

ListingShape = tuple[str, str, str, str]
"""A listing: kind, owner filter (repr), cc_key, pid_key ("" for no filter)."""


class ListingSource(Protocol):
    """What the cache reads of one listing, in the reader's transaction."""

    def positions(self) -> tuple[list[int], list[int]]:
        """The listing's ``seq``s in ascending order and their revisions."""
        ...

    def changed_since(self, gen: int) -> list[tuple[int, int]]:
        """``(seq, revision)`` of the listing's objects written after ``gen`` (``chg > gen``),
        in ``seq`` order."""
        ...

    def bodies(self, revisions: dict[int, int], version: str | None) -> dict[int, bytes]:
        """The head documents (``version`` None) or the ``version`` wire bytes of the objects
        ``revisions`` maps (seq -> revision), where those are of that revision."""
        ...


class Listing:
    """One listing's objects in creation order as of the kind's ``epoch`` and ``gen``
    (``max(chg)``): ``seqs`` ascending, ``revs`` their revisions, and per version (``""`` for
    head documents) the wire bytes by position where cached (None elsewhere). Position ``i``
    holds ``seqs[i]`` for as long as the epoch stands: objects are only created at the end of
    creation order, and leaving it (a delete, a move to another owner) bumps the epoch."""

    __slots__ = ("bodies", "epoch", "gen", "revs", "seqs")

    def __init__(self, epoch: int, gen: int, seqs: list[int], revs: list[int]) -> None:
        self.epoch = epoch
        self.gen = gen
        self.seqs = seqs
        self.revs = revs
        self.bodies: dict[str, list[bytes | None]] = {}


class ListingCache:
    """The listings' positions and their items' wire bytes, for SQLite pages without a date
    window (docs/storage.md, "Listing cache"). A page whose listing has not changed since it
    was last seen costs one query (the kind's epoch and ``max(chg)``), a list slice and a
    join, whatever its offset: no OFFSET walk, no per-item lookup, no document read.

    The positions are refreshed when the kind's ``max(chg)`` moved (the rows with a higher
    ``chg``: an update's new revision drops that position's bytes, creations are appended) and
    re-read when its epoch moved. That holds across processes: every write sets ``chg`` in the
    same SQLite transaction. Readers of the same transaction see the same epoch and ``gen`` as
    the listing they use; a reader older than the listing serves the page from SQLite.

    The bytes are bounded by ``budget`` (the sum of their lengths; 0 keeps none), evicted by
    blocks of ``BLOCK`` positions, least recently served first. The positions (two ints per
    object of a listing served) are not counted. ``hits``/``misses`` count page items,
    ``refreshes``/``rereads`` the listings brought up to date row by row or read whole."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.refreshes = 0
        self.rereads = 0
        self._count = 0
        self._lock = threading.Lock()
        self._listings: dict[ListingShape, Listing] = {}
        #: (shape, version, block) -> [bytes, items], least recently served first
        self._blocks: collections.OrderedDict[tuple[ListingShape, str, int], list[int]] = (
            collections.OrderedDict()
        )

    def __len__(self) -> int:
        """Items whose bytes are held."""
        return self._count

    def listing(
        self, source: ListingSource, shape: ListingShape, epoch: int, gen: int
    ) -> Listing | None:
        """The listing as of ``epoch``/``gen`` (this transaction's), refreshed or read from
        ``source`` if it is older; None when the one held is newer than this transaction."""
        with self._lock:
            held = self._listings.get(shape)
            if held is None:
                seen = None
            elif held.epoch == epoch and held.gen == gen:
                return held
            else:
                seen = (held.epoch, held.gen)
        if seen is not None and seen > (epoch, gen):
            return None
        changed: list[tuple[int, int]] | None = None
        if held is not None and seen is not None and seen[0] == epoch:
            changed = source.changed_since(seen[1])
            if len(changed) > max(BLOCK, len(held.seqs) // REFRESH_SHARE):
                changed = None
        fresh = Listing(epoch, gen, *source.positions()) if changed is None else None
        with self._lock:
            now = self._listings.get(shape)
            if now is not held or (held is not None and (held.epoch, held.gen) != seen):
                # another thread refreshed it meanwhile: usable only if it is at ours
                if now is not None and now.epoch == epoch and now.gen == gen:
                    return now
                return None
            if held is not None and changed is not None:
                if self._apply(shape, held, changed):
                    held.gen = gen
                    self.refreshes += 1
                    return held
                fresh = Listing(epoch, gen, *source.positions())
            assert fresh is not None
            self.rereads += 1
            if held is not None:
                self._drop(shape, held)
            self._listings[shape] = fresh
            return fresh

    def _apply(self, shape: ListingShape, held: Listing, changed: list[tuple[int, int]]) -> bool:
        """Apply the rows changed since ``held.gen`` (in seq order); False if one is neither
        a known position nor past the end (cannot happen within an epoch: re-read)."""
        seqs, revs = held.seqs, held.revs
        last = seqs[-1] if seqs else 0
        for seq, revision in changed:
            if seq > last:
                seqs.append(seq)
                revs.append(revision)
                for bodies in held.bodies.values():
                    bodies.append(None)
                last = seq
                continue
            at = bisect.bisect_left(seqs, seq)
            if at == len(seqs) or seqs[at] != seq:
                return False
            if revs[at] != revision:
                revs[at] = revision
                for version, bodies in held.bodies.items():
                    old = bodies[at]
                    if old is not None:
                        bodies[at] = None
                        self._forget(shape, version, at, len(old))
        return True

    def _forget(self, shape: ListingShape, version: str, at: int, length: int) -> None:
        block = (shape, version, at // BLOCK)
        held = self._blocks[block]
        held[0] -= length
        held[1] -= 1
        if held[1] == 0:
            del self._blocks[block]
        self.size -= length
        self._count -= 1

    def _drop(self, shape: ListingShape, listing: Listing) -> None:
        for version, bodies in listing.bodies.items():
            for b in range(0, len(bodies), BLOCK):
                held = self._blocks.pop((shape, version, b // BLOCK), None)
                if held is not None:
                    self.size -= held[0]
                    self._count -= held[1]
        listing.bodies.clear()

    def quick(
        self,
        shape: ListingShape,
        epoch: int,
        gen: int,
        offset: int,
        limit: int,
        version: str | None,
    ) -> tuple[int, list[bytes]] | None:
        """The total and the page's bytes when the listing held is at ``epoch``/``gen`` and
        holds every item of the page, else None."""
        with self._lock:
            listing = self._listings.get(shape)
            if listing is None or listing.epoch != epoch or listing.gen != gen:
                return None
            total = len(listing.seqs)
            if offset >= total or limit == 0:
                return total, []
            v = version or ""
            bodies = listing.bodies.get(v)
            if bodies is None:
                return None
            end = min(offset + limit, total)
            part = bodies[offset:end]
            if None in part:
                return None
            self._touch(shape, v, offset, end)
            self.hits += len(part)
            return total, cast("list[bytes]", part)

    def _touch(self, shape: ListingShape, version: str, offset: int, end: int) -> None:
        blocks = self._blocks
        for b in range(offset // BLOCK, (end - 1) // BLOCK + 1):
            blocks.move_to_end((shape, version, b))

    def page(
        self,
        source: ListingSource,
        shape: ListingShape,
        listing: Listing,
        epoch: int,
        gen: int,
        offset: int,
        limit: int,
        version: str | None,
    ) -> list[bytes | None] | None:
        """The bytes at positions ``offset`` to ``offset + limit`` of ``listing`` as
        :meth:`listing` returned it: held ones, the others read from ``source`` (in the
        caller's transaction) and kept. A version's rows without wire bytes for that revision stay
        None, unkept. None if another thread has refreshed the listing since."""
        v = version or ""
        end = min(offset + limit, len(listing.seqs))
        with self._lock:
            if (
                self._listings.get(shape) is not listing
                or listing.gen != gen
                or listing.epoch != epoch
            ):
                return None
            bodies = listing.bodies.get(v)
            if bodies is None:
                bodies = listing.bodies[v] = [None] * len(listing.seqs)
            part = bodies[offset:end]
            if None not in part:
                self._touch(shape, v, offset, end)
                self.hits += len(part)
                return part
            seqs = listing.seqs[offset:end]
            wanted = {
                seq: listing.revs[offset + i]
                for i, (seq, body) in enumerate(zip(seqs, part, strict=True))
                if body is None
            }
            self.hits += len(part) - len(wanted)
            self.misses += len(wanted)
        fetched = source.bodies(wanted, version)
        with self._lock:
            current = self._listings.get(shape) is listing
            if current and listing.gen == gen and listing.epoch == epoch and self.budget:
                self._keep(shape, listing, v, offset, seqs, fetched)
        return [
            fetched.get(seq) if body is None else body for seq, body in zip(seqs, part, strict=True)
        ]

    def _keep(
        self,
        shape: ListingShape,
        listing: Listing,
        version: str,
        offset: int,
        seqs: list[int],
        fetched: dict[int, bytes],
    ) -> None:
        bodies = listing.bodies[version]
        blocks = self._blocks
        for i, seq in enumerate(seqs):
            body = fetched.get(seq)
            at = offset + i
            if body is None or bodies[at] is not None or len(body) > self.budget:
                continue
            bodies[at] = body
            key = (shape, version, at // BLOCK)
            held = blocks.get(key)
            if held is None:
                held = blocks[key] = [0, 0]
            else:
                blocks.move_to_end(key)
            held[0] += len(body)
            held[1] += 1
            self.size += len(body)
            self._count += 1
        while self.size > self.budget:
            (shape_, version_, b), (length, items) = blocks.popitem(last=False)
            self.size -= length
            self._count -= items
            evicted = self._listings[shape_].bodies[version_]
            start = b * BLOCK
            evicted[start : start + BLOCK] = [None] * len(evicted[start : start + BLOCK])
