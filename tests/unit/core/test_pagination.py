from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from ocpikit.core.errors import InvalidOrMissingParameters
from ocpikit.core.pagination import (
    Page,
    PageHeaders,
    PageParams,
    in_window,
    link_header,
    make_page,
    next_page_url,
    parse_link_header,
)
from ocpikit.core.versions import V2_1_1, V2_2_1

T0 = datetime(2020, 1, 1, tzinfo=UTC)
T1 = datetime(2020, 1, 2, tzinfo=UTC)


def test_defaults() -> None:
    params = PageParams.from_query({}, max_limit=50)
    assert (params.offset, params.limit, params.date_from, params.date_to) == (0, 50, None, None)


def test_limit_is_capped_by_the_server_maximum() -> None:
    assert PageParams.from_query({"limit": "1000"}, max_limit=100).limit == 100
    assert PageParams.from_query({"limit": "10"}, max_limit=100).limit == 10
    assert PageParams.from_query({"limit": "0"}, max_limit=100).limit == 0
    assert PageParams.from_query({}, max_limit=100, default_limit=20).limit == 20


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"offset": "-1"}, "offset"),
        ({"limit": "ten"}, "limit"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2020-01-02T00:00:00Z", "date_to": "2020-01-01T00:00:00Z"}, "date_to"),
    ],
)
def test_bad_parameters_are_2001_naming_the_parameter(query: dict[str, str], path: str) -> None:
    with pytest.raises(InvalidOrMissingParameters) as info:
        PageParams.from_query(query)
    assert info.value.path == path
    assert path in info.value.message
    assert info.value.http_status == 400


def test_sessions_require_date_from() -> None:
    with pytest.raises(InvalidOrMissingParameters) as info:
        PageParams.from_query({}, require_date_from=True)
    assert info.value.path == "date_from"


def test_dates_are_parsed_as_utc() -> None:
    params = PageParams.from_query(
        {"date_from": "2020-01-01T00:00:00", "date_to": "2020-01-02T00:00:00Z"}
    )
    assert params.date_from == T0
    assert params.date_to == T1
    assert params.to_query()["date_from"] == "2020-01-01T00:00:00Z"


def test_date_from_inclusive_date_to_exclusive() -> None:
    assert in_window(T0, T0, T1)
    assert not in_window(T1, T0, T1)
    assert in_window(T1, T1, None)  # the next window starts where the previous ended
    assert in_window(T0, None, None)
    assert PageParams(date_from=T0, date_to=T1).matches(T0)


def test_next_link_keeps_the_original_filters() -> None:
    url = "https://www.server.com/ocpi/cpo/2.2.1/cdrs/?date_from=2019-01-01T00:00:00Z&offset=0&limit=50&country_code=NL"
    nxt = next_page_url(url, offset=50, limit=50)
    parts = urlsplit(nxt)
    assert parts.path == "/ocpi/cpo/2.2.1/cdrs/"
    assert parse_qs(parts.query) == {
        "date_from": ["2019-01-01T00:00:00Z"],
        "country_code": ["NL"],
        "offset": ["50"],
        "limit": ["50"],
    }


def test_next_link_keeps_filters_as_spelled_and_replaces_encoded_paging_names() -> None:
    url = "https://x/ocpi/2.2.1/cpo/cdrs?date_from=2019-01-01T00%3A00%3A00Z&off%73et=7&a=&limit=5"
    assert (
        next_page_url(url, offset=12, limit=5)
        == "https://x/ocpi/2.2.1/cpo/cdrs?date_from=2019-01-01T00%3A00%3A00Z&a=&offset=12&limit=5"
    )
    assert next_page_url("https://x/t", offset=1, limit=2) == "https://x/t?offset=1&limit=2"


def test_link_header_form() -> None:
    assert (
        link_header("https://x/cdrs?offset=150&limit=50")
        == '<https://x/cdrs?offset=150&limit=50>; rel="next"'
    )


@pytest.mark.parametrize(
    "value",
    [
        '<https://x/a?offset=2&limit=2>; rel="next"',
        "<https://x/a?offset=2&limit=2>; rel=next",
        "<https://x/a?offset=2&limit=2>;rel='next'",
        '  <https://x/a?offset=2&limit=2> ;  REL = "Next" ',
        '<https://x/a?offset=0>; rel="first", <https://x/a?offset=2&limit=2>; rel="next"',
        '<https://x/a?offset=2&limit=2>; title="a, b"; rel="next last"',
    ],
)
def test_parse_link_header_is_tolerant(value: str) -> None:
    assert parse_link_header(value)["next"] == "https://x/a?offset=2&limit=2"


def test_parse_link_header_without_next() -> None:
    assert parse_link_header(None) == {}
    assert parse_link_header("") == {}
    assert "next" not in parse_link_header('<https://x/a>; rel="prev"')


def test_x_limit_means_the_server_maximum_only_from_2_2() -> None:
    headers = {"x-total-count": "120", "X-Limit": "50", "link": '<https://x/n>; rel="next"'}
    new = PageHeaders.parse(headers, V2_2_1)
    assert (new.total_count, new.limit, new.next_url) == (120, 50, "https://x/n")
    assert new.server_max_limit == 50
    old = PageHeaders.parse(headers, V2_1_1)
    assert old.limit == 50
    assert old.server_max_limit is None


def test_sloppy_count_headers_are_ignored() -> None:
    parsed = PageHeaders.parse({"X-Total-Count": "many", "X-Limit": "-1"}, "2.2.1")
    assert parsed.total_count is None
    assert parsed.limit is None
    assert parsed.next_url is None


def test_make_page_middle_and_last() -> None:
    url = "https://x/ocpi/2.2.1/locations?date_from=2020-01-01T00:00:00Z"
    params = PageParams(offset=0, limit=2)
    first = make_page(["a", "b"], params=params, total_count=3, url=url)
    assert first.has_next
    assert first.next_offset == 2
    assert first.headers()["X-Total-Count"] == "3"
    assert first.headers()["X-Limit"] == "2"
    link = parse_link_header(first.headers()["Link"])["next"]
    assert parse_qs(urlsplit(link).query) == {
        "date_from": ["2020-01-01T00:00:00Z"],
        "offset": ["2"],
        "limit": ["2"],
    }
    last = make_page(["c"], params=PageParams(offset=2, limit=2), total_count=3, url=link)
    assert not last.has_next
    assert "Link" not in last.headers()


def test_empty_page_has_no_next_link() -> None:
    page: Page[str] = make_page(
        [], params=PageParams(offset=10, limit=5), total_count=3, url="https://x/l"
    )
    assert not page.has_next
    assert page.headers() == {"X-Limit": "5", "X-Total-Count": "3"}
