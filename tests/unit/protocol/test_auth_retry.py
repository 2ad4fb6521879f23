"""The Authorization encoding and its 401 retry (protocol/auth_retry.py), and the request
headers (protocol/request_headers.py): pure, no sockets."""

from __future__ import annotations

import base64
import itertools

import pytest

from ocpikit.core.headers import PartyRef
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, Version
from ocpikit.protocol.auth_retry import AuthAttempts, first_encoding
from ocpikit.protocol.request_headers import AuthorizationValues, request_headers


@pytest.mark.parametrize(
    ("version", "switch", "expected"),
    [
        (V2_1_1, None, False),
        (V2_2_1, None, True),
        (V2_3_0, None, True),
        (None, None, True),
        (V2_2_1, False, False),
        (V2_1_1, True, True),
    ],
)
def test_the_first_encoding(version: Version | None, switch: bool | None, expected: bool) -> None:
    assert first_encoding(version, switch) is expected


def test_a_401_calls_for_the_other_encoding_once() -> None:
    attempts = AuthAttempts(first=True)
    assert attempts.encodings() == (True, False)
    assert attempts.retry_after(401)
    assert not attempts.retry_after(200) and not attempts.retry_after(403)
    assert AuthAttempts(first=False, retry=False).encodings() == (False,)


def test_only_a_successful_retry_is_learned() -> None:
    attempts = AuthAttempts(first=True)
    assert attempts.learned(0, 200) is None  # the first encoding worked: nothing new
    assert attempts.learned(1, 401) is None  # neither worked
    assert attempts.learned(1, 200) is False  # the raw token worked
    assert attempts.learned(1, 404) is False  # not a 401: the encoding was accepted


def test_authorization_values_and_no_secret_in_repr() -> None:
    values = AuthorizationValues("tok-123")
    assert values.value(False) == "Token tok-123"
    assert values.value(True) == "Token " + base64.b64encode(b"tok-123").decode()
    assert "tok-123" not in repr(values)
    headers: dict[str, str] = {}
    values.set_on(headers, False)
    assert headers == {"Authorization": "Token tok-123"}


def _ids() -> itertools.count[int]:
    return itertools.count(1)


def test_2_2_functional_module_headers() -> None:
    counter = _ids()
    headers, ids = request_headers(
        V2_2_1,
        "sessions",
        has_body=True,
        from_party=PartyRef("NL", "CPO"),
        to_party=PartyRef("DE", "MSP"),
        id_factory=lambda: f"id-{next(counter)}",
    )
    assert headers == {
        "Accept": "application/json",
        "X-Request-ID": "id-1",
        "X-Correlation-ID": "id-2",
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "CPO",
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "MSP",
        "Content-Type": "application/json",
    }
    assert ids is not None and ids.request_id == "id-1"


def test_a_given_correlation_id_is_kept() -> None:
    headers, _ = request_headers(V2_3_0, "commands", has_body=False, correlation_id="corr-1")
    assert headers["X-Correlation-ID"] == "corr-1"
    assert headers["X-Request-ID"] != "corr-1"
    assert "Content-Type" not in headers


@pytest.mark.parametrize("module", ["credentials", "versions", "hubclientinfo"])
def test_configuration_modules_carry_no_routing_headers(module: str) -> None:
    headers, ids = request_headers(V2_2_1, module, has_body=False, from_party=PartyRef("NL", "CPO"))
    assert ids is not None
    assert not any(name.startswith("OCPI-") for name in headers)


def test_2_1_1_has_neither_ids_nor_routing() -> None:
    headers, ids = request_headers(
        V2_1_1, "sessions", has_body=False, from_party=PartyRef("NL", "CPO")
    )
    assert headers == {"Accept": "application/json"} and ids is None


def test_before_a_version_is_agreed_ids_are_sent() -> None:
    headers, ids = request_headers(None, "versions", has_body=False)
    assert ids is not None and set(headers) == {"Accept", "X-Request-ID", "X-Correlation-ID"}
