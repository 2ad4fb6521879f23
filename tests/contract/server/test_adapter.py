"""Reading a partner's request from the ASGI scope (``server.adapter``, ``server.query``) and
the made-up message ids (``server.message_ids``): each speed trick against its reference."""

from __future__ import annotations

import random

from ocpikit.server.message_ids import message_id, message_id_plainly
from ocpikit.server.query import parse_query, parse_query_plainly


def test_made_up_message_ids_are_version_4_uuids() -> None:
    import uuid

    from ocpikit.server.message_ids import message_id

    seen = set()
    for _ in range(2000):
        text = message_id()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        seen.add(text)
    assert len(seen) == 2000


def test_message_ids_format_like_the_uuid_module() -> None:
    rng = random.Random(7)
    for bits in [0, (1 << 128) - 1, *(rng.getrandbits(128) for _ in range(500))]:
        assert message_id(bits) == message_id_plainly(bits)


def test_query_parameters_read_like_parse_qsl() -> None:
    from urllib.parse import parse_qsl

    from ocpikit.server.adapter import OcpiRequest

    cases = [
        "",
        "offset=0&limit=100",
        "limit=1&limit=5",  # the last wins
        "date_from=2026-01-01T00:00:00Z&&x",  # empty part, name without a value
        "a=&b=1=2",  # blank value kept, "=" inside a value
        "date_from=2026-01-01T00%3A00%3A00Z&q=a+b",  # quoted: parse_qsl itself
        "type=RFID&country_code=NL;party_id=CPO",
    ]
    for qs in cases:
        scope = {"method": "GET", "headers": [], "query_string": qs.encode()}
        req = OcpiRequest(scope, None, "/ocpi/x", {})  # type: ignore[arg-type]
        assert req.query() == dict(parse_qsl(qs, keep_blank_values=True)), qs
        assert parse_query(qs) == dict(parse_qsl(qs, keep_blank_values=True)), qs
        assert parse_query(qs) == parse_query_plainly(qs), qs


def test_request_headers_first_of_a_repeated_name_wins() -> None:
    from ocpikit.server.adapter import OcpiRequest

    scope = {
        "method": "HEAD",
        "headers": [(b"X-Request-ID", b"a"), (b"x-request-id", b"b"), (b"Host", b"h")],
        "query_string": b"",
    }
    req = OcpiRequest(scope, None, "/ocpi/x", {})  # type: ignore[arg-type]
    assert req.method == "GET"  # HEAD is served as GET
    assert req.headers.get("x-request-id") == "a"
    assert req.headers.items() == [("x-request-id", "a"), ("x-request-id", "b"), ("host", "h")]
    assert req.url == "http://h/ocpi/x"


def test_request_message_ids_read_and_make_up_like_from_headers() -> None:
    from ocpikit.core.headers import LowerHeaders, MessageIds
    from ocpikit.server.message_ids import request_message_ids

    rng = random.Random(11)
    draws = [0, (1 << 256) - 1, *(rng.getrandbits(256) for _ in range(300))]
    cases = [{}, {"x-request-id": "r"}, {"x-correlation-id": " c "}, {"x-request-id": " "}]
    cases += [{"x-request-id": "r", "x-correlation-id": "c"}, {"host": "h"}]
    for bits in draws:
        for headers in cases:
            made = iter([message_id(bits >> 128), message_id(bits & ((1 << 128) - 1))])
            lower = LowerHeaders(headers)
            expected = MessageIds.from_headers(lower, factory=made.__next__)
            assert request_message_ids(lower, bits) == expected, (bits, headers)
    ids = request_message_ids(LowerHeaders())
    assert ids.request_id != ids.correlation_id
