"""Pages of the emulator's GET lists, served right and broken on purpose."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ocpikit.testing.emulator.data import BASE_TIME, Entry
from ocpikit.testing.emulator.paging import PageQuery, QueryError, page_of, parse_query

BASE = "http://127.0.0.1:1/ocpi/2.2.1/sender/locations"
ENTRIES = [
    Entry("NL-ECP", f"L{i}", BASE_TIME + timedelta(minutes=i), {"id": f"L{i}"}) for i in range(25)
]


def _walk(fault: str | None = None, limit: int = 10) -> list[str]:
    """Follow Link headers as a plain client does."""
    ids: list[str] = []
    query = PageQuery(limit=limit)
    for _ in range(100):
        page = page_of(ENTRIES, query, base_url=BASE, max_page=10, fault=fault)
        ids += [e.id for e in page.items]
        link = page.headers.get("Link")
        if not link:
            return ids
        params = dict(p.split("=") for p in link[1 : link.index(">")].split("?")[1].split("&"))
        query = parse_query(list(params.items()))
    raise AssertionError("no end")


def test_correct_pages() -> None:
    page = page_of(ENTRIES, PageQuery(limit=50), base_url=BASE, max_page=10)
    assert page.headers["X-Limit"] == "10" and page.headers["X-Total-Count"] == "25"
    assert page.headers["Link"] == f'<{BASE}?offset=10&limit=10>; rel="next"'
    assert _walk() == [f"L{i}" for i in range(25)]
    last = page_of(ENTRIES, PageQuery(offset=20, limit=10), base_url=BASE, max_page=10)
    assert "Link" not in last.headers and len(last.items) == 5


def test_date_filters_are_inclusive_then_exclusive_and_kept_in_the_link() -> None:
    query = parse_query(
        [("date_from", "2025-01-01T00:05:00Z"), ("date_to", "2025-01-01T00:20:00Z"), ("limit", "5")]
    )
    page = page_of(ENTRIES, query, base_url=BASE, max_page=10)
    assert [e.id for e in page.items] == ["L5", "L6", "L7", "L8", "L9"]
    assert page.headers["X-Total-Count"] == "15"
    assert "date_from=2025-01-01T00%3A05%3A00Z" in page.headers["Link"]


def test_bad_query_parameters_are_named() -> None:
    with pytest.raises(QueryError, match="limit"):
        parse_query([("limit", "ten")])
    with pytest.raises(QueryError, match="date_from"):
        parse_query([("date_from", "yesterday")])


def test_broken_pages() -> None:
    assert len(_walk("one-item")) == 25
    one = page_of(ENTRIES, PageQuery(limit=10), base_url=BASE, max_page=10, fault="one-item")
    assert len(one.items) == 1 and one.headers["X-Limit"] == "1"
    no_link = page_of(ENTRIES, PageQuery(limit=10), base_url=BASE, max_page=10, fault="no-link")
    assert "Link" not in no_link.headers and no_link.headers["X-Total-Count"] == "25"
    bad = page_of(ENTRIES, PageQuery(limit=10), base_url=BASE, max_page=10, fault="bad-link")
    assert bad.headers["Link"].startswith("http") and "rel" not in bad.headers["Link"]
    wrong = page_of(ENTRIES, PageQuery(limit=10), base_url=BASE, max_page=10, fault="wrong-total")
    assert wrong.headers["X-Total-Count"] == "28"
    # repeat: the previous page's last object first, and nothing lost when Links are followed
    ids = _walk("repeat")
    assert ids.count("L9") == 2 and set(ids) == {f"L{i}" for i in range(25)}
