"""The envelope bytes of an answer (``server.replies``): the one-copy join of cached wire
bytes against its reference."""

from __future__ import annotations

import orjson

from ocpikit.server.replies import join_array, join_array_plainly


def test_join_array_builds_what_the_plain_join_builds() -> None:
    head, tail = b'{"data":', b',"status_code":1000}'
    for items in ([], [b"{}"], [b'{"a":1}', b'{"b":2}'], [b"1", b"2", b"3", b"4"]):
        joined = join_array(head, items, tail)
        assert joined == join_array_plainly(head, items, tail)
        assert orjson.loads(joined)["data"] == [orjson.loads(i) for i in items]
