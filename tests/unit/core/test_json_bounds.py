"""Bounds on partner JSON (``ocpikit.core.json_bounds``): the walk names the field; the raw-bytes
screen never lets through a body the walk refuses."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpikit.core.errors import InvalidOrMissingParameters
from ocpikit.core.json_bounds import MAX_DEPTH, check_json_bounds, find_violation


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def _dumps(body: Any) -> bytes | None:
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:  # beyond what orjson writes: the walk alone decides
        return None


@pytest.mark.parametrize(
    ("body", "path", "why"),
    [
        ({"evses": [{"n": 2**63}]}, "evses[0].n", "out of range"),
        ({"x": -(2**64)}, "x", "out of range"),
        ({"x": 1e19}, "x", "out of range"),
        ({"name": "a\x00b"}, "name", "U+0000"),
        ({"ext": {"k\x00": 1}}, "ext", "key contains U+0000"),
        ({"deep": _nested(MAX_DEPTH)}, "deep" + ".a" * (MAX_DEPTH - 1), "nested deeper"),
    ],
)
def test_each_bound_is_refused_naming_the_field(body: Any, path: str, why: str) -> None:
    assert find_violation(body) is not None
    for raw in (None, _dumps(body)):
        with pytest.raises(InvalidOrMissingParameters) as exc:
            check_json_bounds(body, raw)
        assert exc.value.status_code == 2001
        assert exc.value.path == path
        assert why in exc.value.problems[0]


@pytest.mark.parametrize(
    "body",
    [
        {"n": 2**63 - 1, "f": -9.2e18, "s": "\\u0000 is only text here", "e": 1.5e-300},
        _nested(MAX_DEPTH - 1),
        [{"a": [1, 2, {"b": None}]}] * 100,
    ],
)
def test_bodies_inside_the_bounds_pass(body: Any) -> None:
    assert find_violation(body) is None
    check_json_bounds(body, orjson.dumps(body))


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64).filter(lambda n: -(2**64) < n < 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from("ab[{\x00e9"), max_size=6)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet="ab\x00", max_size=3), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(body=_json, wrap=st.integers(min_value=0, max_value=MAX_DEPTH + 2))
def test_the_screen_never_passes_what_the_walk_refuses(body: Any, wrap: int) -> None:
    for _ in range(wrap):
        body = [body]
    raw = _dumps(body)
    refused_by_walk = find_violation(body) is not None
    try:
        check_json_bounds(body, raw)
        refused = False
    except InvalidOrMissingParameters:
        refused = True
    assert refused == refused_by_walk


_text = st.text(alphabet=st.sampled_from('0189eE"\\ {'), max_size=24)
_numbers = st.integers(min_value=-(2**64), max_value=2**64).filter(
    lambda n: -(2**64) < n < 2**64
) | st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(
    body=st.lists(
        st.dictionaries(st.sampled_from(["uid", 'a"1e9', "b\\0"]), _text | _numbers, max_size=4),
        max_size=4,
    )
)
def test_digits_and_exponents_inside_strings_are_no_numbers_yet_never_hide_one(
    body: Any,
) -> None:
    raw = _dumps(body)
    refused_by_walk = find_violation(body) is not None
    try:
        check_json_bounds(body, raw)
        refused = False
    except InvalidOrMissingParameters:
        refused = True
    assert refused == refused_by_walk


@pytest.mark.parametrize(
    "body",
    [
        {"uid": "1234E5678", "contract_id": "DE-MSP-1234567890123456789012"},
        {"n": 1, "s": "0e0"},
    ],
)
def test_a_number_look_alike_inside_a_string_needs_no_walk(body: Any) -> None:
    from ocpikit.core import json_bounds

    assert not json_bounds._may_violate(orjson.dumps(body))
