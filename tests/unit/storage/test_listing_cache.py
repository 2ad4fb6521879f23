"""The listing cache's rules without SQLite: a fake :class:`ListingSource` plays the database
(objects with a ``seq``, a revision and the ``chg`` of their last write), so each rule of
``storage/sql/listing_cache.py`` is checked on its own: positions kept, refreshed from the
changed rows or read whole, stale bytes dropped, older readers refused, the budget kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from ocpikit.storage.sql.listing_cache import BLOCK, ListingCache, ListingShape

SHAPE: ListingShape = ("Location", "None", "", "")
V = "2.2.1"


@dataclass
class FakeSource:
    """The listing's objects: seq -> [revision, chg]; bodies are derived from both."""

    rows: dict[int, list[int]] = field(default_factory=dict)
    chg: int = 0
    calls: list[str] = field(default_factory=list)

    def write(self, seq: int) -> None:
        """Create or update ``seq`` (a write moves the kind's ``max(chg)``)."""
        self.chg += 1
        row = self.rows.get(seq)
        if row is None:
            self.rows[seq] = [1, self.chg]
        else:
            row[0] += 1
            row[1] = self.chg

    @staticmethod
    def body(seq: int, revision: int, version: str | None) -> bytes:
        return f"{version}:{seq}:{revision}".encode()

    def positions(self) -> tuple[list[int], list[int]]:
        self.calls.append("positions")
        seqs = sorted(self.rows)
        return seqs, [self.rows[s][0] for s in seqs]

    def changed_since(self, gen: int) -> list[tuple[int, int]]:
        self.calls.append("changed")
        return [(s, r[0]) for s, r in sorted(self.rows.items()) if r[1] > gen]

    def bodies(self, revisions: dict[int, int], version: str | None) -> dict[int, bytes]:
        self.calls.append(f"bodies:{len(revisions)}")
        return {
            seq: self.body(seq, rev, version)
            for seq, rev in revisions.items()
            if seq in self.rows and self.rows[seq][0] == rev
        }


def page(
    cache: ListingCache, src: FakeSource, epoch: int, offset: int, limit: int
) -> list[bytes | None] | None:
    listing = cache.listing(src, SHAPE, epoch, src.chg)
    assert listing is not None
    return cache.page(src, SHAPE, listing, epoch, src.chg, offset, limit, V)


def expected(src: FakeSource, offset: int, limit: int) -> list[bytes]:
    seqs = sorted(src.rows)[offset : offset + limit]
    return [src.body(s, src.rows[s][0], V) for s in seqs]


def filled(n: int) -> FakeSource:
    src = FakeSource()
    for seq in range(1, n + 1):
        src.write(seq)
    return src


def test_a_page_seen_twice_is_served_from_memory() -> None:
    src, cache = filled(300), ListingCache(1 << 20)
    assert page(cache, src, 1, 100, 50) == expected(src, 100, 50)
    assert src.calls == ["positions", "bodies:50"] and cache.misses == 50
    src.calls.clear()
    assert cache.quick(SHAPE, 1, src.chg, 100, 50, V) == (300, expected(src, 100, 50))
    assert page(cache, src, 1, 100, 50) == expected(src, 100, 50)
    assert src.calls == [] and cache.hits == 100 and len(cache) == 50


def test_an_update_drops_only_that_position_and_a_creation_is_appended() -> None:
    src, cache = filled(300), ListingCache(1 << 20)
    page(cache, src, 1, 0, 100)
    src.write(7)  # an update: new revision
    src.write(301)  # a creation: at the end
    assert cache.quick(SHAPE, 1, src.chg, 0, 100, V) is None  # the gen moved
    src.calls.clear()
    assert page(cache, src, 1, 0, 100) == expected(src, 0, 100)
    assert src.calls == ["changed", "bodies:1"]  # refreshed row by row, one item read again
    assert (cache.refreshes, cache.rereads) == (1, 1)
    listing = cache.listing(src, SHAPE, 1, src.chg)
    assert listing is not None and listing.seqs[-1] == 301 and len(listing.seqs) == 301


def test_a_new_epoch_or_many_changes_read_the_listing_whole() -> None:
    src, cache = filled(2000), ListingCache(1 << 20)
    page(cache, src, 1, 0, 10)
    del src.rows[5]  # a delete bumps the epoch
    assert page(cache, src, 2, 0, 10) == expected(src, 0, 10)
    assert cache.rereads == 2 and "changed" not in src.calls
    for seq in range(1, 2000, 4):  # more than an eighth of the listing, and than a block
        if seq in src.rows:
            src.write(seq)
    assert len([s for s in src.rows if src.rows[s][1] > 2000]) > max(BLOCK, 2000 // 8)
    src.calls.clear()
    assert page(cache, src, 2, 0, 10) == expected(src, 0, 10)
    assert src.calls[:2] == ["changed", "positions"] and cache.rereads == 3


def test_a_creation_before_listed_objects_is_placed_at_its_seq() -> None:
    """PostgreSQL: identity values of concurrent transactions commit in any order, so a
    creation may land before objects already listed; the bytes of its block and of every later
    one are dropped (their positions shift), earlier blocks keep theirs."""
    src = FakeSource()
    for seq in range(1, 3 * BLOCK + 1):
        if seq != 2 * BLOCK + 5:  # its transaction commits last
            src.write(seq)
    cache = ListingCache(1 << 20)
    n = len(src.rows)
    assert page(cache, src, 1, 0, n) == expected(src, 0, n)
    assert len(cache) == n
    src.write(2 * BLOCK + 5)
    src.write(3)  # and an update in the first block
    src.calls.clear()
    assert page(cache, src, 1, 0, BLOCK) == expected(src, 0, BLOCK)
    assert src.calls == ["changed", "bodies:1"]  # only the update read again
    assert (cache.refreshes, cache.rereads) == (1, 1)
    assert len(cache) == 2 * BLOCK  # the third block's bytes went; its positions shifted
    assert page(cache, src, 1, 0, n + 1) == expected(src, 0, n + 1)
    assert src.calls[-1] == f"bodies:{BLOCK}"
    assert cache.size == sum(
        len(b) for bodies in cache._listings[SHAPE].bodies.values() for b in bodies if b
    )


def test_a_reader_older_than_the_listing_held_gets_none() -> None:
    src, cache = filled(10), ListingCache(1 << 20)
    old_gen = src.chg
    src.write(3)
    page(cache, src, 1, 0, 10)
    assert cache.listing(src, SHAPE, 1, old_gen) is None
    assert cache.listing(src, SHAPE, 0, src.chg) is None
    listing = cache.listing(src, SHAPE, 1, src.chg)
    assert listing is not None
    assert cache.page(src, SHAPE, listing, 1, old_gen, 0, 10, V) is None


def test_the_bytes_held_stay_within_the_budget() -> None:
    src = filled(1000)
    one = len(src.body(1, 1, V))
    cache = ListingCache(one * 300)
    for offset in range(0, 1000, 100):
        assert page(cache, src, 1, offset, 100) == expected(src, offset, 100)
        assert cache.size <= cache.budget
    assert 0 < len(cache) <= 300
    assert cache.quick(SHAPE, 1, src.chg, 0, 100, V) is None  # the oldest blocks went first
    assert cache.quick(SHAPE, 1, src.chg, 900, 100, V) == (1000, expected(src, 900, 100))
    off = ListingCache(0)
    assert page(off, src, 1, 0, 100) == expected(src, 0, 100)
    assert len(off) == 0 and off.size == 0
