"""How SQLite stores a timestamp: sortable text, the same from every write path."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.dialects import sqlite

from ocpikit.storage.sql.schema import (
    SQLITE_TIME_FORMAT,
    UtcDateTime,
    sqlite_time,
    sqlite_time_text,
)


def test_time_text_is_strftimes_form_and_sorts_like_the_instants() -> None:
    rng = random.Random(7)
    start = datetime(1000, 1, 1, tzinfo=UTC)
    values = [start + timedelta(microseconds=rng.randrange(10**17)) for _ in range(2000)]
    values += [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)]
    for value in values:
        assert sqlite_time_text(value) == value.strftime(SQLITE_TIME_FORMAT)
    texts = [sqlite_time_text(v) for v in values]
    assert sorted(texts) == [sqlite_time_text(v) for v in sorted(values)]


def test_years_before_1000_keep_four_digits() -> None:
    assert sqlite_time_text(datetime(5, 3, 4, 1, 2, 3, 45, tzinfo=UTC)) == (
        "0005-03-04T01:02:03.000045Z"
    )


def test_every_write_path_stores_the_same_text() -> None:
    bind = UtcDateTime().process_bind_param
    dialect = sqlite.dialect()
    plus_two = timezone(timedelta(hours=2))
    for value in (
        datetime(2026, 11, 24, 20, 1, 2, 345678, tzinfo=UTC),
        datetime(2026, 11, 24, 22, 1, 2, tzinfo=plus_two),
        datetime(2026, 11, 24, 20, 1, 2),  # naive: UTC
    ):
        assert sqlite_time(value) == bind(value, dialect)
    assert sqlite_time(datetime(2026, 11, 24, 22, 1, 2, tzinfo=plus_two)) == (
        "2026-11-24T20:01:02.000000Z"
    )
