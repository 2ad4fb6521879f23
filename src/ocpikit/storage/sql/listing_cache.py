"""The listing cache: the positions of a listing's objects and their wire bytes, in memory,
for pages served without a date window (docs/storage.md, "Listing cache").

Plan: a page whose listing has not changed since it was last seen costs one query (has the
kind's creation-order epoch or this listing's rows changed?), a list slice and a join, whatever
its offset: no OFFSET walk, no per-item lookup, no document read. This module holds no SQL: it
reads through a :class:`ListingSource` (SQLite's is :class:`~.wire_pages.SqliteListingSource`,
PostgreSQL's :class:`~.postgres_wire_pages.PostgresListingSource`), so its rules are unit-tested
against a fake one.

A listing's ``gen`` says which changes it holds: on SQLite the kind's ``max(chg)`` (every write
sets ``chg`` one higher; writers are serialized), on PostgreSQL the snapshot the listing was
last brought up to date in (every write stamps ``chg`` with its transaction id, and "changed
since" means "written by a transaction that snapshot does not see").

Invariants:

- Position ``i`` of a listing holds ``seqs[i]`` for as long as the kind's epoch stands: an
  object leaving the creation order (a delete, a move to another owner) bumps the epoch, and a
  creation is placed at its ``seq``: at the end (SQLite assigns ``max(rowid)+1`` and has one
  writer) or, where ``seq`` values commit out of order (PostgreSQL), before the last ones, which
  drops the bytes of the block it lands in and of every later one (their positions shift).
- Every write changes what the reader's snapshot counts as changed (``max(chg)``, or a ``chg``
  it does not see) in the same transaction, so a listing at the reader's epoch with no change
  since its gen is current for that reader's snapshot, across processes.
- A listing is brought up to date from the rows changed since its gen (an update's new
  revision drops that position's bytes, a creation is placed at its ``seq``), or read whole
  when more than an eighth of it (and more than a block) changed or its epoch moved.
- A reader older than the listing held (SQLite: it sees a lower epoch or gen) gets None and
  serves its page without the cache; bytes are only kept for the listing the reader holds.
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

Gen = int | str
"""What a listing holds of its kind's changes: SQLite's ``max(chg)``, PostgreSQL's snapshot."""

Seen = tuple[int, Gen]
"""A listing's ``(epoch, gen)`` as a reader saw it."""


class ListingSource(Protocol):
    """What the cache reads of one listing, in the reader's transaction."""

    def positions(self) -> tuple[list[int], list[int]]:
        """The listing's ``seq``s in ascending order and their revisions."""
        ...

    def changed_since(self, gen: int) -> list[tuple[int, int]]:
        """``(seq, revision)`` of the listing's objects written after ``gen`` (``chg > gen``),
        in ``seq`` order (SQLite; PostgreSQL reads its changes with the listing's state)."""
        ...

    def bodies(self, revisions: dict[int, int], version: str | None) -> dict[int, bytes]:
        """The head documents (``version`` None) or the ``version`` wire bytes of the objects
        ``revisions`` maps (seq -> revision), where those are of that revision."""
        ...


class Listing:
    """One listing's objects in creation order as of the kind's ``epoch`` and ``gen``
    (:data:`Gen`): ``seqs`` ascending, ``revs`` their revisions, and per version (``""`` for
    head documents) the wire bytes by position where cached (None elsewhere). Position ``i``
    holds ``seqs[i]`` for as long as the epoch stands (see the module's invariants)."""

    __slots__ = ("bodies", "epoch", "gen", "revs", "seqs")

    def __init__(self, epoch: int, gen: Gen, seqs: list[int], revs: list[int]) -> None:
        self.epoch = epoch
        self.gen = gen
        self.seqs = seqs
        self.revs = revs
        self.bodies: dict[str, list[bytes | None]] = {}


class ListingCache:
    """The listings' positions and their items' wire bytes, for pages without a date window
    (docs/storage.md, "Listing cache"). A page whose listing has not changed since it was last
    seen costs one query (the kind's epoch and whether the listing changed since its ``gen``),
    a list slice and a join, whatever its offset: no OFFSET walk, no per-item lookup, no
    document read.

    The positions are refreshed when rows changed since the listing's ``gen`` (an update's new
    revision drops that position's bytes, creations are placed at their ``seq``) and re-read
    when its epoch moved. That holds across processes: every write marks its rows in its own
    transaction. SQLite's readers (:meth:`listing`) of the same transaction see the same
    epoch and ``gen`` as the listing they use, and one older than the listing serves its page
    from the database; PostgreSQL's (:meth:`held`, :meth:`advance`) bring a listing up to date
    one at a time per listing, each from the snapshot of its own transaction.

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
        """SQLite: the listing as of ``epoch``/``gen`` (this transaction's), refreshed or read
        from ``source`` if it is older; None when the one held is newer than this
        transaction."""
        held = self.held(shape)
        if held is not None and held[1] == (epoch, gen):
            return held[0]
        if held is not None and cast("tuple[int, int]", held[1]) > (epoch, gen):
            return None
        changed: list[tuple[int, int]] | None = None
        if held is not None and held[1][0] == epoch:
            changed = source.changed_since(cast("int", held[1][1]))
            if not self.refreshable(held[0], len(changed)):
                changed = None
        positions = source.positions() if changed is None else None
        return self.advance(shape, held, epoch, gen, changed, positions)

    def held(self, shape: ListingShape) -> tuple[Listing, Seen] | None:
        """The listing held for ``shape`` and its ``(epoch, gen)`` now, if any."""
        with self._lock:
            listing = self._listings.get(shape)
            return None if listing is None else (listing, (listing.epoch, listing.gen))

    @staticmethod
    def refreshable(listing: Listing, changes: int) -> bool:
        """Whether ``changes`` rows are few enough to bring ``listing`` up to date row by
        row (else it is read whole)."""
        return changes <= max(BLOCK, len(listing.seqs) // REFRESH_SHARE)

    def advance(
        self,
        shape: ListingShape,
        held: tuple[Listing, Seen] | None,
        epoch: int,
        gen: Gen,
        changed: list[tuple[int, int]] | None,
        positions: tuple[list[int], list[int]] | None,
    ) -> Listing | None:
        """The listing of ``shape`` brought from ``held`` (as :meth:`held` gave it) to
        ``epoch``/``gen``: ``changed`` (the rows changed since, in ``seq`` order, at the same
        epoch) applied, else replaced by ``positions`` (``seqs`` and revisions). When another
        reader moved it meanwhile: that listing if it is at ``epoch``/``gen``, else None."""
        with self._lock:
            now = self._listings.get(shape)
            listing = held[0] if held is not None else None
            moved = held is not None and (held[0].epoch, held[0].gen) != held[1]
            if now is not listing or moved:
                # another reader moved it meanwhile: usable only if it is at ours
                if now is not None and now.epoch == epoch and now.gen == gen:
                    return now
                return None
            if listing is not None and changed is not None:
                assert listing.epoch == epoch, "changes apply within an epoch"
                self._apply(shape, listing, changed)
                listing.gen = gen
                self.refreshes += 1
                return listing
            assert positions is not None
            fresh = Listing(epoch, gen, *positions)
            self.rereads += 1
            if listing is not None:
                self._drop(shape, listing)
            self._listings[shape] = fresh
            return fresh

    def _apply(self, shape: ListingShape, held: Listing, changed: list[tuple[int, int]]) -> None:
        """Apply the rows changed since ``held.gen`` (in seq order): an update's new revision
        drops that position's bytes, a creation is placed at its ``seq``."""
        seqs, revs = held.seqs, held.revs
        for seq, revision in changed:
            if not seqs or seq > seqs[-1]:
                seqs.append(seq)
                revs.append(revision)
                for bodies in held.bodies.values():
                    bodies.append(None)
                continue
            at = bisect.bisect_left(seqs, seq)
            if seqs[at] == seq:
                if revs[at] != revision:
                    revs[at] = revision
                    for version, bodies in held.bodies.items():
                        old = bodies[at]
                        if old is not None:
                            bodies[at] = None
                            self._forget(shape, version, at, len(old))
                continue
            # created before objects already listed (PostgreSQL: identity values of concurrent
            # transactions commit in any order): the positions from ``at`` on shift by one, so
            # the bytes of its block and of every later one are dropped
            self._drop(shape, held, at - at % BLOCK)
            seqs.insert(at, seq)
            revs.insert(at, revision)
            for bodies in held.bodies.values():
                bodies.insert(at, None)

    def _forget(self, shape: ListingShape, version: str, at: int, length: int) -> None:
        block = (shape, version, at // BLOCK)
        held = self._blocks[block]
        held[0] -= length
        held[1] -= 1
        if held[1] == 0:
            del self._blocks[block]
        self.size -= length
        self._count -= 1

    def _drop(self, shape: ListingShape, listing: Listing, start: int = 0) -> None:
        """Forget the bytes of ``listing`` from position ``start`` (a block boundary) on."""
        for version, bodies in listing.bodies.items():
            for b in range(start, len(bodies), BLOCK):
                held = self._blocks.pop((shape, version, b // BLOCK), None)
                if held is not None:
                    self.size -= held[0]
                    self._count -= held[1]
            bodies[start:] = [None] * (len(bodies) - start)
        if start == 0:
            listing.bodies.clear()

    def quick(
        self,
        shape: ListingShape,
        epoch: int,
        gen: Gen,
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
        gen: Gen,
        offset: int,
        limit: int,
        version: str | None,
    ) -> list[bytes | None] | None:
        """The bytes at positions ``offset`` to ``offset + limit`` of ``listing`` as
        :meth:`listing` returned it: held ones, the others read from ``source`` (in the
        caller's transaction) and kept. A version's rows without wire bytes for that revision stay
        None, unkept. None if another thread has refreshed the listing since."""
        missing = self.missing(shape, listing, epoch, gen, offset, limit, version)
        if missing is None:
            return None
        part, seqs, wanted = missing
        if not wanted:
            return part
        fetched = source.bodies(wanted, version)
        return self.fill(shape, listing, epoch, gen, offset, version, part, seqs, fetched)

    def missing(
        self,
        shape: ListingShape,
        listing: Listing,
        epoch: int,
        gen: Gen,
        offset: int,
        limit: int,
        version: str | None,
    ) -> tuple[list[bytes | None], list[int], dict[int, int]] | None:
        """The bytes held at positions ``offset`` to ``offset + limit`` of ``listing`` (None
        where missing), those positions' seqs, and the missing items' revisions by seq (for
        :meth:`ListingSource.bodies`, then :meth:`fill`); None if the listing moved on from
        ``epoch``/``gen``."""
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
            seqs = listing.seqs[offset:end]
            if None not in part:
                self._touch(shape, v, offset, end)
                self.hits += len(part)
                return part, seqs, {}
            wanted = {
                seq: listing.revs[offset + i]
                for i, (seq, body) in enumerate(zip(seqs, part, strict=True))
                if body is None
            }
            self.hits += len(part) - len(wanted)
            self.misses += len(wanted)
            return part, seqs, wanted

    def fill(
        self,
        shape: ListingShape,
        listing: Listing,
        epoch: int,
        gen: Gen,
        offset: int,
        version: str | None,
        part: list[bytes | None],
        seqs: list[int],
        fetched: dict[int, bytes],
    ) -> list[bytes | None]:
        """``part`` and ``seqs`` (from :meth:`missing`) completed with the ``fetched`` bytes by
        seq, which are kept while the listing is still at ``epoch``/``gen``."""
        with self._lock:
            current = self._listings.get(shape) is listing
            if current and listing.gen == gen and listing.epoch == epoch and self.budget:
                self._keep(shape, listing, version or "", offset, seqs, fetched)
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
