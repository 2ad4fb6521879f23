"""The direct lane path's URL split against ``httpx.URL`` (the reference)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpikit.client.lane_urls import lane_target


def _reference(url: str) -> tuple[bytes, bytes, int | None, bytes, bytes]:
    parsed = httpx.URL(url)
    return parsed.raw_scheme, parsed.raw_host, parsed.port, parsed.netloc, parsed.raw_path


def _fast(url: str) -> tuple[bytes, bytes, int | None, bytes, bytes] | None:
    split = lane_target(url)
    if split is None:
        return None
    o = split.origin
    return o.scheme, o.host, o.port, o.netloc, split.target


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/ocpi/2.2.1/emsp/sessions/NL/CPB/S000001",
        "https://partner.example/ocpi/cpo/2.1.1/locations?offset=50&limit=100",
        "https://partner.example:443/ocpi/x?date_from=2024-01-01T00%3A00%3A00Z",
        "http://partner.example:80/a;b=c/d:e@f",
        "http://partner.example/hub/commands/START_SESSION/0f3a?response_url=x",
    ],
)
def test_a_plain_partner_url_is_split_as_httpx_splits_it(url: str) -> None:
    assert _fast(url) == _reference(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://Partner.example/a",  # httpx lower-cases the host
        "http://user:pw@partner.example/a",
        "http://partner.example",  # no path: httpx says "/"
        "http://partner.example/a b",
        "http://partner.example/a/./b",
        "http://partner.example/a/../b",
        "http://partner.example/a/..",
        "http://partner.example/é",
        "http://partner.example/a#fragment",
        "http://partner.example/a%zz",
        "http://[::1]:8080/a",
        "ftp://partner.example/a",
        "partner.example/a",
    ],
)
def test_anything_else_is_left_to_httpx(url: str) -> None:
    assert _fast(url) is None


_ALPHABET = "aZ09-._~!$&'()*+,;=:@/?#%[]| \"<>\\^`{}éA./"


@settings(max_examples=400, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp"]),
    host=st.sampled_from(["partner.example", "127.0.0.1", "Partner.Example", "a-b.c", "x_y"]),
    port=st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":"]),
    rest=st.text(alphabet=_ALPHABET, max_size=30),
)
def test_a_split_is_what_httpx_gives_or_nothing(
    scheme: str, host: str, port: str, rest: str
) -> None:
    url = f"{scheme}://{host}{port}{rest}"
    fast = _fast(url)
    if fast is None:
        return
    assert fast == _reference(url)


def test_the_generated_urls_reach_both_outcomes() -> None:
    """The property above is not vacuous: plain URLs are split, odd ones left to httpx."""
    assert _fast("http://a-b.c:8080/x/y?z=1") is not None
    assert _fast("http://a-b.c:8080/x/y?z=1 2") is None
