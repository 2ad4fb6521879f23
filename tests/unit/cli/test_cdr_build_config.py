"""``[cdrs] build`` and ``[cdrs] decimals``: their defaults, and a wrong value is a
configuration error naming the key (``ocpikit serve`` exits 2 on it)."""

from __future__ import annotations

from typing import Any

import pytest

from ocpikit.cli.flows import cdr_build_mode, cdr_decimals
from ocpikit.server.settings import Settings


def _settings(extra: dict[str, Any]) -> Settings:
    return Settings(
        parties=(), base_url="http://x", database_url="memory://", admin_token="t", extra=extra
    )


def test_defaults_leave_cdrs_to_the_operator() -> None:
    assert cdr_build_mode(_settings({})) == "off"
    assert cdr_decimals(_settings({})) == 2


def test_the_values() -> None:
    assert cdr_build_mode(_settings({"cdrs": {"build": "auto"}})) == "auto"
    assert cdr_decimals(_settings({"cdrs": {"decimals": 4}})) == 4


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ({"build": "yes"}, r"\[cdrs\] build"),
        ({"decimals": 9}, r"\[cdrs\] decimals"),
        ({"decimals": "2"}, r"\[cdrs\] decimals"),
    ],
)
def test_a_wrong_value_names_the_key(table: dict[str, Any], match: str) -> None:
    settings = _settings({"cdrs": table})
    with pytest.raises(ValueError, match=match):
        cdr_build_mode(settings)
        cdr_decimals(settings)
