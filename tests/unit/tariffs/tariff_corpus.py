"""Tariff-corpus helpers: the case list is read at collection time so that a new case file in
``../shared/tariff-cases`` (listed in its INDEX.json) becomes a new test without code changes."""

from __future__ import annotations

import json
import os
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CASES_DIR = (
    Path(os.environ.get("OCPIKIT_SHARED", ROOT.parent / "shared")).resolve() / "tariff-cases"
)


def case_index() -> list[dict[str, Any]]:
    index = CASES_DIR / "INDEX.json"
    if not index.is_file():
        return []
    entries: list[dict[str, Any]] = json.loads(index.read_text())
    return entries


def load_case(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CASES_DIR / name).read_text())
    return data


def at(value: Any, decimals: int) -> Decimal:
    """A number at ``decimals`` places, half-up (the corpus compares at stated decimals)."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
