"""Walking a partner's paginated list (protocol/paging.py): pure, no sockets."""

from __future__ import annotations

from datetime import UTC, datetime

from ocpikit.core.pagination import PageHeaders
from ocpikit.protocol.paging import PageWalk, first_page_url, with_query

BASE = "https://p.test/ocpi/2.2.1/locations"


def meta(
    total: int | None = None, limit: int | None = None, link: str | None = None
) -> PageHeaders:
    return PageHeaders(total_count=total, limit=limit, next_url=link)


def test_first_page_url() -> None:
    assert first_page_url(BASE, "locations") == BASE
    since = datetime(2024, 2, 1, tzinfo=UTC)
    assert (
        first_page_url(BASE, "cdrs", offset=5, limit=10, date_from=since)
        == f"{BASE}?offset=5&limit=10&date_from=2024-02-01T00%3A00%3A00Z"
    )


def test_sessions_are_always_asked_with_a_date_from() -> None:
    assert first_page_url(BASE, "sessions").endswith("?date_from=1970-01-01T00%3A00%3A00Z")


def test_with_query_keeps_an_existing_query() -> None:
    assert with_query(f"{BASE}?a=1", {"b": "2"}) == f"{BASE}?a=1&b=2"
    assert with_query(BASE, {}) == BASE


def test_the_link_header_leads_and_relative_links_are_resolved() -> None:
    walk = PageWalk(BASE)
    assert walk.next_request() == BASE
    step = walk.page_read(2, meta(5, 2, "/ocpi/2.2.1/locations?offset=2&limit=2"))
    assert step.next_url == "https://p.test/ocpi/2.2.1/locations?offset=2&limit=2"
    assert not step.guessed
    assert walk.next_request() == step.next_url


def test_without_a_link_the_next_offset_is_computed_from_the_total() -> None:
    walk = PageWalk(f"{BASE}?date_from=x")
    walk.next_request()
    step = walk.page_read(3, meta(total=7))
    assert step.guessed and step.objects_seen == 3 and step.total_count == 7
    assert step.next_url == f"{BASE}?date_from=x&offset=3&limit=3"
    walk.next_request()
    step = walk.page_read(3, meta(total=7, limit=3))
    assert step.next_url == f"{BASE}?date_from=x&offset=6&limit=3"
    walk.next_request()
    assert walk.page_read(1, meta(total=7)).next_url is None
    assert walk.next_request() is None


def test_an_empty_page_ends_the_walk_even_with_a_link() -> None:
    walk = PageWalk(BASE)
    walk.next_request()
    step = walk.page_read(0, meta(10, 2, f"{BASE}?offset=2"))
    assert step.next_url == f"{BASE}?offset=2"  # reported, but not followed
    assert walk.next_request() is None


def test_a_link_back_to_a_fetched_page_is_followed_once_then_ends_the_walk() -> None:
    walk = PageWalk(BASE)
    walk.next_request()
    walk.page_read(2, meta(None, 2, BASE))
    assert walk.next_request() == BASE  # asked again once (a partner that served a repeat)
    walk.page_read(2, meta(None, 2, BASE), new=0)
    assert walk.next_request() is None


def test_an_offset_start_counts_from_there() -> None:
    walk = PageWalk(f"{BASE}?offset=4", offset=4)
    walk.next_request()
    step = walk.page_read(2, meta(total=8))
    assert step.next_url == f"{BASE}?offset=6&limit=2"
