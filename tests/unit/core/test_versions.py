"""``Version``'s comparisons, written out one by one (not derived by ``total_ordering``): each
agrees with comparing the numeric keys, against a ``Version`` or a version string."""

from __future__ import annotations

import itertools
import operator

import pytest

from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, Version

_VERSIONS = [V2_1_1, V2_2_1, V2_3_0, Version("2.2"), Version("3.0"), Version("2.2.1")]
_OPS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", _OPS)
def test_comparisons_follow_the_numeric_key(op: object) -> None:
    assert callable(op)
    for a, b in itertools.product(_VERSIONS, repeat=2):
        assert op(a, b) is op(a.key, b.key)
        assert op(a, b.text) is op(a.key, b.key)


def test_other_types_are_not_comparable() -> None:
    assert V2_2_1 != 3
    assert V2_2_1 != None  # noqa: E711
    for op in _OPS[2:]:
        with pytest.raises(TypeError):
            op(V2_2_1, 3)
