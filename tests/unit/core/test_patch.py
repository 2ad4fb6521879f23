from __future__ import annotations

import copy
from typing import Any

import pytest

from ocpikit.core.errors import InvalidOrMissingParameters, MethodNotAllowed, NotFound
from ocpikit.core.patch import (
    PATCH_RULES,
    apply_location_patch,
    apply_patch,
    check_patch,
    merge_patch,
    patch_rule,
)
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0

LU = "2015-06-29T20:39:09Z"


def _location() -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "LOC1",
        "name": "Old name",
        "coordinates": {"latitude": "51.0", "longitude": "3.0"},
        "facilities": ["HOTEL"],
        "last_updated": "2015-01-01T00:00:00Z",
        "evses": [
            {
                "uid": "3256",
                "status": "AVAILABLE",
                "last_updated": "2015-01-01T00:00:00Z",
                "connectors": [
                    {"id": "1", "tariff_ids": ["11"], "last_updated": "2015-01-01T00:00:00Z"},
                    {"id": "2", "tariff_ids": ["12"], "last_updated": "2015-01-01T00:00:00Z"},
                ],
            }
        ],
    }


def test_default_merge_is_recursive_and_replaces_lists() -> None:
    current = {"a": {"b": 1, "c": 2}, "l": [1, 2], "k": "v"}
    merged = merge_patch(current, {"a": {"c": 3}, "l": [9], "new": None})
    assert merged == {"a": {"b": 1, "c": 3}, "l": [9], "k": "v", "new": None}
    assert current == {"a": {"b": 1, "c": 2}, "l": [1, 2], "k": "v"}  # input untouched


def test_merge_copies_what_it_takes_from_the_patch() -> None:
    """Scalars are taken as they are (their own copies); containers are copied, so neither
    the patch nor the current document shares anything mutable with the result."""
    current = {"a": {"b": 1}, "s": "old", "l": [1]}
    patch: dict[str, Any] = {
        "s": "new",
        "n": 1.5,
        "i": 7,
        "t": True,
        "z": None,
        "l": [{"x": 1}],
        "a": {"c": [2]},
        "o": {"p": {"q": 1}},
    }
    merged = merge_patch(current, patch)
    assert merged == {
        "a": {"b": 1, "c": [2]},
        "s": "new",
        "l": [{"x": 1}],
        "n": 1.5,
        "i": 7,
        "t": True,
        "z": None,
        "o": {"p": {"q": 1}},
    }
    merged["l"][0]["x"] = 2
    merged["a"]["c"].append(3)
    merged["o"]["p"]["q"] = 2
    assert patch["l"] == [{"x": 1}] and patch["a"] == {"c": [2]} and patch["o"] == {"p": {"q": 1}}
    assert current == {"a": {"b": 1}, "s": "old", "l": [1]}


def test_session_patch_appends_charging_periods_in_2_2() -> None:
    session = {"id": "S1", "kwh": 1, "charging_periods": [{"start_date_time": "p1"}]}
    patch = {"kwh": 15, "charging_periods": [{"start_date_time": "p2"}], "last_updated": LU}
    out = apply_patch(session, patch, "sessions", "Session", V2_2_1)
    assert [p["start_date_time"] for p in out["charging_periods"]] == ["p1", "p2"]
    assert out["kwh"] == 15
    # An empty list means no change.
    same = apply_patch(
        out, {"charging_periods": [], "last_updated": LU}, "sessions", "Session", V2_3_0
    )
    assert len(same["charging_periods"]) == 2


def test_session_patch_in_2_1_1_replaces_and_needs_no_last_updated() -> None:
    session = {"id": "S1", "charging_periods": [{"start_date_time": "p1"}]}
    out = apply_patch(
        session, {"charging_periods": [{"start_date_time": "p2"}]}, "sessions", "Session", V2_1_1
    )
    assert out["charging_periods"] == [{"start_date_time": "p2"}]


@pytest.mark.parametrize(
    ("module", "obj"),
    [
        ("locations", "Location"),
        ("locations", "EVSE"),
        ("locations", "Connector"),
        ("sessions", "Session"),
        ("tokens", "Token"),
    ],
)
def test_last_updated_required_from_2_2(module: str, obj: str) -> None:
    with pytest.raises(InvalidOrMissingParameters) as info:
        check_patch({"valid": False}, module, obj, V2_2_1)
    assert info.value.path == "last_updated"
    assert info.value.status_code == 2001
    assert "last_updated" in info.value.message
    check_patch({"valid": False}, module, obj, V2_1_1)  # fine in 2.1.1
    check_patch({"valid": False, "last_updated": LU}, module, obj, V2_3_0)


def test_tariff_patch_only_in_2_1_1() -> None:
    tariff = {"id": "12", "currency": "EUR", "elements": [{"price_components": []}]}
    out = apply_patch(tariff, {"currency": "USD"}, "tariffs", "Tariff", V2_1_1)
    assert out["currency"] == "USD"
    for version in (V2_2_1, V2_3_0):
        with pytest.raises(MethodNotAllowed) as info:
            apply_patch(
                tariff, {"currency": "USD", "last_updated": LU}, "tariffs", "Tariff", version
            )
        assert info.value.http_status == 405
        assert "PUT" in info.value.message


def test_cdrs_and_unknown_objects_cannot_be_patched() -> None:
    with pytest.raises(MethodNotAllowed):
        patch_rule("cdrs", "CDR", V2_2_1)
    with pytest.raises(MethodNotAllowed):
        patch_rule("commands", "CommandResult", V2_2_1)
    with pytest.raises(MethodNotAllowed):
        patch_rule("bookings", "Booking", V2_2_1)  # bookings are 2.3.0


def test_rules_are_data_without_overlaps() -> None:
    for version in (V2_1_1, V2_2_1, V2_3_0):
        keys = [(r.module, r.object) for r in PATCH_RULES if r.applies_to(version)]
        assert len(keys) == len(set(keys))


def test_patch_may_not_change_the_identity() -> None:
    token = {"country_code": "DE", "party_id": "MSP", "uid": "012345678", "valid": True}
    out = apply_patch(
        token, {"uid": "012345678", "valid": False, "last_updated": LU}, "tokens", "Token", V2_2_1
    )
    assert out["valid"] is False
    ci = apply_patch(token, {"party_id": "msp", "last_updated": LU}, "tokens", "Token", V2_2_1)
    assert ci["party_id"] == "msp"
    with pytest.raises(InvalidOrMissingParameters) as info:
        apply_patch(token, {"uid": "OTHER", "last_updated": LU}, "tokens", "Token", V2_2_1)
    assert info.value.path == "uid"


def test_location_patch_of_the_location() -> None:
    loc = _location()
    out = apply_location_patch(loc, {"name": "New", "last_updated": LU}, V2_2_1)
    assert out["name"] == "New"
    assert out["coordinates"] == loc["coordinates"]
    assert out["evses"] == loc["evses"]


def test_location_patch_of_an_evse_bubbles_last_updated() -> None:
    loc = _location()
    before = copy.deepcopy(loc)
    out = apply_location_patch(
        loc, {"status": "CHARGING", "last_updated": LU}, V2_2_1, evse_uid="3256"
    )
    assert out["evses"][0]["status"] == "CHARGING"
    assert out["evses"][0]["last_updated"] == LU
    assert out["last_updated"] == LU
    assert len(out["evses"][0]["connectors"]) == 2
    assert loc == before


def test_location_patch_of_a_connector_bubbles_to_evse_and_location() -> None:
    out = apply_location_patch(
        _location(),
        {"tariff_ids": ["15"], "last_updated": LU},
        V2_2_1,
        evse_uid="3256",
        connector_id="2",
    )
    connectors = out["evses"][0]["connectors"]
    assert connectors[1]["tariff_ids"] == ["15"]
    assert connectors[0]["tariff_ids"] == ["11"]
    assert connectors[1]["last_updated"] == LU
    assert out["evses"][0]["last_updated"] == LU
    assert out["last_updated"] == LU


def test_location_patch_finds_ids_case_insensitively() -> None:
    loc = _location()
    loc["evses"][0]["uid"] = "EVSE-a"
    out = apply_location_patch(
        loc, {"status": "REMOVED", "last_updated": LU}, V2_3_0, evse_uid="evse-A"
    )
    assert out["evses"][0]["status"] == "REMOVED"


def test_location_patch_unknown_targets() -> None:
    with pytest.raises(NotFound):
        apply_location_patch(_location(), {"last_updated": LU}, V2_2_1, evse_uid="nope")
    with pytest.raises(NotFound):
        apply_location_patch(
            _location(), {"last_updated": LU}, V2_2_1, evse_uid="3256", connector_id="9"
        )
    with pytest.raises(InvalidOrMissingParameters):
        apply_location_patch(_location(), {"last_updated": LU}, V2_2_1, connector_id="1")


def test_location_connector_patch_needs_last_updated_in_2_2() -> None:
    with pytest.raises(InvalidOrMissingParameters) as info:
        apply_location_patch(
            _location(), {"tariff_ids": ["15"]}, V2_2_1, evse_uid="3256", connector_id="1"
        )
    assert info.value.path == "last_updated"


def test_2_1_1_location_patch_without_last_updated_leaves_parents() -> None:
    out = apply_location_patch(_location(), {"status": "CHARGING"}, V2_1_1, evse_uid="3256")
    assert out["evses"][0]["status"] == "CHARGING"
    assert out["last_updated"] == "2015-01-01T00:00:00Z"
