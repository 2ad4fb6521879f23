"""The exchange log's redaction sees through JSON escapes: a ``token`` key or a secret spelled
with ``\\uXXXX`` escapes is redacted like a plain one."""

from __future__ import annotations

import orjson
import pytest

from ocpikit.storage.redaction import REDACTED, _redact_body

SECRET = "4bc7e1b0-secret-token"


@pytest.mark.parametrize(
    ("body", "known"),
    [
        # a partner's new token in its credentials: not a known secret, found by its key
        (rb'{"tok\u0065n": "4bc7e1b0-secret-token", "url": "https://x"}', ()),
        (rb'{"\u0074\u006f\u006b\u0065\u006e": "4bc7e1b0-secret-token"}', ()),
        (rb'{"data": {"roles": [], "token": "4bc7e1b0-secr\u0065t-token"}}', ()),
        # a known secret, spelled with an escape
        (rb'{"note": "4bc7e1b0-s\u0065cret-token"}', (SECRET,)),
    ],
)
def test_escaped_keys_and_values_are_redacted(body: bytes, known: tuple[str, ...]) -> None:
    out = _redact_body(body, known, 10_000)
    assert out is not None
    assert SECRET.encode() not in out
    assert b"secret" not in orjson.dumps(orjson.loads(out))
    assert REDACTED.encode() in out


def test_a_body_that_is_not_json_loses_its_escapes() -> None:
    out = _redact_body(rb"token=\u0034bc7e1b0-secret-token", (SECRET,), 10_000)
    assert out is not None and b"\\u0034" not in out


def test_plain_bodies_keep_their_bytes() -> None:
    body = b'{"id": "L1",  "name": "Caf\xc3\xa9"}'
    assert _redact_body(body, (SECRET,), 10_000) == body
