from __future__ import annotations

import pytest

from ocpikit.core.status import STATUS_CODES, StatusCategory, category_of, is_success, lookup
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, Version


def test_table_holds_every_standard_code() -> None:
    assert sorted(STATUS_CODES) == [
        1000,
        2000,
        2001,
        2002,
        2003,
        2004,
        3000,
        3001,
        3002,
        3003,
        4000,
        4001,
        4002,
        4003,
    ]


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (1000, StatusCategory.SUCCESS),
        (2001, StatusCategory.CLIENT),
        (3003, StatusCategory.SERVER),
        (4002, StatusCategory.HUB),
    ],
)
def test_category_follows_first_digit(code: int, category: StatusCategory) -> None:
    assert lookup(code).category is category
    assert category_of(code) is category


def test_meanings_are_human_text() -> None:
    assert lookup(2003).meaning == "Unknown Location"
    assert lookup(3002).name == "UNSUPPORTED_VERSION"


def test_default_http_statuses() -> None:
    assert lookup(1000).http_status == 200
    assert lookup(2001).http_status == 400
    assert lookup(2004).http_status == 404  # errata A24: unknown token is HTTP 404 + 2004
    assert lookup(3000).http_status == 500
    assert lookup(4002).http_status == 504


def test_versions_each_code_exists_in() -> None:
    for code in (1000, 2000, 2001, 2002, 2003, 3000, 3001, 3002, 3003):
        assert lookup(code).exists_in(V2_1_1)
    assert not lookup(2004).exists_in(V2_1_1)
    assert lookup(2004).exists_in(V2_2_1)
    assert lookup(2004).exists_in("2.3.0")
    for code in (4000, 4001, 4002, 4003):
        assert not lookup(code).exists_in(V2_1_1)
        assert lookup(code).exists_in(V2_3_0)


def test_future_versions_keep_the_newest_known_codes() -> None:
    assert lookup(4001).exists_in(Version("2.4"))
    assert not lookup(4001).exists_in(Version("2.0"))


@pytest.mark.parametrize("code", [1901, 2999, 3950, 4900])
def test_custom_codes_are_tolerated(code: int) -> None:
    row = lookup(code)
    assert row.custom
    assert not row.known
    assert row.category is category_of(code)
    assert not row.exists_in(V2_1_1)  # custom ranges came with 2.2
    assert row.exists_in(V2_2_1)


def test_unlisted_non_custom_code_is_described_by_range() -> None:
    row = lookup(2042)
    assert not row.custom
    assert not row.known
    assert row.category is StatusCategory.CLIENT
    assert row.http_status == 400


def test_custom_success_is_success() -> None:
    assert lookup(1905).is_success
    assert is_success(1905)
    assert not is_success(2000)


@pytest.mark.parametrize("code", [0, 200, 404, 999, 5000, 10000, -1000])
def test_non_ocpi_numbers_are_rejected(code: int) -> None:
    assert category_of(code) is None
    with pytest.raises(ValueError, match="not an OCPI status code"):
        lookup(code)


def test_bool_is_not_a_status_code() -> None:
    assert category_of(True) is None
