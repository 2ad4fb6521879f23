"""Tariff-corpus helpers: the case list is read at collection time so that a new case file in
``tests/data/tariff-cases`` (listed in its INDEX.json) becomes a new test without code changes."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.testdata import TARIFF_CASES, json_index

CASES_DIR = TARIFF_CASES


def case_index() -> list[dict[str, Any]]:
    """Every case of the corpus's INDEX.json (the count is checked)."""
    return json_index(CASES_DIR, "tariff cases")


def load_case(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CASES_DIR / name).read_text())
    return data


def at(value: Any, decimals: int) -> Decimal:
    """A number at ``decimals`` places, half-up (the corpus compares at stated decimals)."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
