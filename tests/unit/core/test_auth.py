from __future__ import annotations

import pytest

from ocpikit.core.auth import (
    TokenEncoding,
    authorization_header,
    decode_base64_token,
    encode_by_default,
    encode_token,
    parse_authorization,
    token_candidates,
)
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0

TOKEN = "ebf3b399-779f-4497-9b9d-ac6ad3cc44d2"


def test_version_defaults_for_encoding() -> None:
    assert encode_by_default(V2_1_1) is False
    assert encode_by_default(V2_2_1) is True
    assert encode_by_default(V2_3_0) is True
    assert encode_by_default("2.2") is True


def test_encode_raw_and_base64() -> None:
    assert authorization_header(TOKEN, base64_encode=False) == f"Token {TOKEN}"
    assert (
        authorization_header(TOKEN, base64_encode=True)
        == "Token ZWJmM2IzOTktNzc5Zi00NDk3LTliOWQtYWM2YWQzY2M0NGQy"
    )


def test_base64_is_rfc4648_of_utf8() -> None:
    assert encode_token("example-token", base64_encode=True) == "ZXhhbXBsZS10b2tlbg=="
    assert encode_token("ä", base64_encode=True) == "w6Q="  # UTF-8 bytes, padded


def test_spec_examples_encode_a_trailing_newline_errata_a1() -> None:
    # The spec pairs "example-token" with ZXhhbXBsZS10b2tlbgo=, which is "example-token\n".
    assert encode_token("example-token", base64_encode=True) != "ZXhhbXBsZS10b2tlbgo="
    assert decode_base64_token("ZXhhbXBsZS10b2tlbgo=") == "example-token\n"
    # A partner that copied the spec still finds its token, and the repair is named.
    candidates = token_candidates("Token ZXhhbXBsZS10b2tlbgo=")
    assert [c.token for c in candidates] == ["ZXhhbXBsZS10b2tlbgo=", "example-token"]
    assert candidates[1].encoding is TokenEncoding.BASE64_TRAILING_NEWLINE
    header = "Token ZWJmM2IzOTktNzc5Zi00NDk3LTliOWQtYWM2YWQzY2M0NGQyCg=="
    assert token_candidates(header)[-1].token == TOKEN


def test_raw_token_comes_first_then_decoded() -> None:
    encoded = encode_token(TOKEN, base64_encode=True)
    candidates = token_candidates(f"Token {encoded}")
    assert [(c.token, c.encoding) for c in candidates] == [
        (encoded, TokenEncoding.RAW),
        (TOKEN, TokenEncoding.BASE64),
    ]


def test_raw_token_that_is_not_base64_has_one_candidate() -> None:
    assert [c.token for c in token_candidates(f"Token {TOKEN}")] == [TOKEN]


@pytest.mark.parametrize("scheme", ["Token", "token", "TOKEN", "tOkEn"])
def test_scheme_is_case_insensitive(scheme: str) -> None:
    assert parse_authorization(f"{scheme} abc") == "abc"
    assert token_candidates(f"  {scheme}   abc  ")[0].token == "abc"


@pytest.mark.parametrize("value", [None, "", "Token", "Token   ", "Bearer abc", "abc"])
def test_missing_or_foreign_headers_give_nothing(value: str | None) -> None:
    assert parse_authorization(value) is None
    assert token_candidates(value) == []


def test_binary_base64_is_not_a_token() -> None:
    # The 2.2.1 header example decodes to binary bytes: only the raw reading is offered.
    value = "Token IpbJOXxkxOAuKR92z0nEcmVF3Qw09VG7I7d/WCg0koM="
    assert [c.encoding for c in token_candidates(value)] == [TokenEncoding.RAW]


@pytest.mark.parametrize("text", ["abc", "abc=", "!!!!", "YWJj\n", "YQ", ""])
def test_invalid_base64_is_refused(text: str) -> None:
    assert decode_base64_token(text) is None


def test_tokens_never_appear_in_repr() -> None:
    candidate = token_candidates(f"Token {TOKEN}")[0]
    assert TOKEN not in repr(candidate)


def test_refuses_to_build_headers_for_unusable_tokens() -> None:
    with pytest.raises(ValueError):
        authorization_header("", base64_encode=False)
    with pytest.raises(ValueError):
        authorization_header("a b", base64_encode=True)
