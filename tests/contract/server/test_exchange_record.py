"""The exchange log's record of a request to the OCPI routes (``server/exchange_record.py``)
against its reference: the whole exchange, then the policy (``compact``)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from ocpikit.core.headers import MessageIds
from ocpikit.operations.exchange_log import LogPolicy, compact
from ocpikit.protocol.ports import CredentialsToken, Partner, PartnerStatus, TokenKind
from ocpikit.server.adapter import OcpiRequest
from ocpikit.server.auth import Authenticated
from ocpikit.server.exchange_record import inbound_exchange, inbound_exchange_plainly

AT = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
PAGE = b'{"data": [' + b'{"id": "LOC", "token": "abc"},' * 900 + b'], "status_code": 1000}'


def _auth(partner: bool) -> Authenticated:
    record = CredentialsToken("d" * 64, TokenKind.C, "DE-MSP", None, "tok", AT)
    who = Partner("DE-MSP", PartnerStatus.REGISTERED) if partner else None
    return Authenticated("secret-token", record, who)


def _request(method: str, path: str, params: dict[str, str], query: bytes) -> OcpiRequest:
    scope = {
        "method": method,
        "headers": [(b"host", b"us.test"), (b"authorization", b"Token secret-token")],
        "query_string": query,
        "scheme": "https",
        "root_path": "",
    }
    return OcpiRequest(scope, None, path, params)  # type: ignore[arg-type]


REQUESTS = [
    ("GET", "/ocpi/versions", {}, b"", "versions"),
    (
        "GET",
        "/ocpi/2.3.0/cpo/locations/L1",
        {"version": "2.3.0", "location_id": "L1"},
        b"",
        "locations",
    ),
    ("GET", "/ocpi/2.3.0/cpo/locations", {"version": "2.3.0"}, b"limit=10", "locations"),
    (
        "PUT",
        "/ocpi/2.3.0/emsp/sessions/NL/CPO/S1",
        {"country_code": "NL", "session_id": "S1"},
        b"",
        "sessions",
    ),
    ("POST", "/ocpi/2.3.0/credentials", {"version": "2.3.0"}, b"", "credentials"),
    ("GET", "/ocpi/2.3.0/emsp/tokens/NL/CPO/T1", {"token_uid": "T1", "uid": "x"}, b"", "tokens"),
    ("GET", "/ocpi/nothing", {}, b"", None),
]
BODIES = [None, b"", b'{"id": "S1"}', b'{"token": "' + b"t" * 60 + b'"}', PAGE]
ANSWERS = [b"", b'{"status_code":1000}', b'{"status_message":"' + b"m" * 2000 + b'"}', PAGE]


@pytest.mark.parametrize("policy", [LogPolicy(), LogPolicy(bodies="all"), None])
def test_the_record_is_the_whole_exchange_under_the_policy(policy: LogPolicy | None) -> None:
    cases = itertools.product(REQUESTS, BODIES, ANSWERS, (200, 201, 404, 500), (True, False))
    for (method, path, params, query, module), sent, answer, status, known in cases:
        request = _request(method, path, params, query)
        auth = _auth(partner=module != "versions") if known else None
        ids = MessageIds("r1", "c1") if known else None
        headers = {"X-Request-ID": "r1", "X-Total-Count": "9"}
        args = dict(
            started_at=AT, duration_ms=1.5, auth=auth, ids=ids, status=status, headers=headers
        )
        whole = inbound_exchange_plainly(request, sent, **args, body=answer, module=module)
        record, compacted = inbound_exchange(
            request, sent, **args, body=answer, module=module, policy=policy
        )
        expected = whole if policy is None else compact(whole, policy)
        assert record == expected, (method, path, status)
        assert compacted == (expected is not whole)
