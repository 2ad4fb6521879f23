"""The demo dataset (what ``ocpikit serve --demo`` stores) as head documents."""

from __future__ import annotations

import copy
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


#: a supplement with every key the check looks for except the per-location ``nuts1``
FULL_SUPPLEMENT: dict[str, Any] = {
    "legal_name": "OK Test GmbH",
    "service_support": "unattended",
    "payment_methods": ["emv"],
    "payment_brands": ["visa"],
    "smart_charging": ["remoteMonitoring"],
}


def complete_location(location: dict[str, Any]) -> dict[str, Any]:
    """``location`` with every AFIR item OCPI can carry filled in."""
    loc = copy.deepcopy(location)
    loc["help_phone"] = "+49301234567"
    loc["directions"] = [{"language": "de", "text": "Parkdeck 2"}]
    loc["parking_places"] = [
        {
            "id": "P1",
            "vehicle_types": ["PERSONAL_VEHICLE", "DISABLED"],
            "max_vehicle_height": 210,
            "restricted_to_type": False,
            "reservation_required": False,
        }
    ]
    loc["energy_mix"] = {"is_green_energy": True}
    for evse in loc["evses"]:
        evse["accepted_service_providers"] = ["DE-ABC"]
        for con in evse["connectors"]:
            con["capabilities"] = ["ISO_15118_2_PLUG_AND_CHARGE"]
    return loc
