"""The demo dataset (what ``ocpikit serve --demo`` stores) as head documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ocpikit.afir.mobilithek import Dataset
from ocpikit.afir.supplement import parse_supplement
from ocpikit.models import model_for
from ocpikit.server.demo import demo_locations, demo_tariffs

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def head(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = model_for("2.3.0", kind).model_validate(doc).dump()
    return out


#: enough demo locations for every kind the generator makes (each city, AC and DC, both kinds
#: of opening hours); the e2e test validates the whole 300 that ``serve --demo`` loads
DEMO_LOCATIONS = 40


@pytest.fixture(scope="module")
def demo_docs() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    locations = [head("Location", d) for d in demo_locations("DE", "OKT", DEMO_LOCATIONS)]
    tariffs = [head("Tariff", d) for d in demo_tariffs("DE", "OKT")]
    return locations, tariffs


@pytest.fixture
def demo(demo_docs: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> Dataset:
    locations, tariffs = demo_docs
    supplement = parse_supplement({"lang": "de", "legal_name": "OK Test GmbH"})
    return Dataset(locations, tariffs, supplement, NOW)
