"""Our page walk (``ocpikit.protocol.paging``) against every sequence of the emulator's broken
pages (``ocpikit.testing.emulator.paging``): one-item pages, no or malformed ``Link``, a wrong
``X-Total-Count``, an object repeated instead of a new one, in any order. Every object is read,
except where a partner serves the same repeat twice in a row at the same offset (no client can
get the displaced object then)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from ocpikit.core.pagination import PageHeaders
from ocpikit.core.versions import V2_2_1
from ocpikit.protocol.paging import PageWalk
from ocpikit.testing.emulator.paging import page_of, parse_query

BASE = "http://partner.test/locations"
KINDS = ("one-item", "no-link", "bad-link", "wrong-total", "repeat", None)


@dataclass
class Entry:
    id: str
    last_updated: datetime


ENTRIES = [Entry(f"L{i:02d}", datetime(2024, 1, 1, tzinfo=UTC)) for i in range(50)]


def walk_all(faults: tuple[str | None, ...]) -> set[str]:
    walk = PageWalk(f"{BASE}?limit=10")
    seen: set[str] = set()
    asked = 0
    while (url := walk.next_request()) is not None:
        assert asked < 500, "the walk does not end"
        fault = faults[asked] if asked < len(faults) else None
        asked += 1
        query = parse_query(parse_qsl(urlsplit(url).query))
        page = page_of(ENTRIES, query, base_url=BASE, max_page=10, fault=fault)
        meta = PageHeaders.parse(page.headers.items(), V2_2_1)
        fresh = {e.id for e in page.items} - seen
        seen |= fresh
        walk.page_read(len(page.items), meta, new=len(fresh))
    return seen


def test_every_sequence_of_broken_pages_is_read_whole() -> None:
    everything = {e.id for e in ENTRIES}
    for faults in itertools.product(KINDS, repeat=4):
        if any(a == b == "repeat" for a, b in itertools.pairwise(faults)):
            continue
        assert walk_all(faults) == everything, faults


def test_a_repeat_on_every_page_still_reads_everything_and_ends() -> None:
    assert walk_all(("repeat",) * 400) == {e.id for e in ENTRIES}


def test_one_item_pages_then_a_repeat_on_every_page_end() -> None:
    # one-item pages leave a Link with limit=1; a repeat then links back to its own offset on
    # every page: the walk asks each page at most twice, then goes on past the repeat
    # (walk_all bounds the requests)
    assert walk_all(("one-item",) * 3 + ("repeat",) * 400) == {e.id for e in ENTRIES}
