"""The smallest PATCHes of a change: what changed per sub-object (or None: a PUT), the
coalescing of two changes, and the bodies taken from the latest state."""

from __future__ import annotations

from typing import Any

from ocpikit.protocol.push_patches import Changes, changes_between, coalesce, patch_requests

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"


def location(status: str = "AVAILABLE", power: int = 11000, stamp: str = T0) -> dict[str, Any]:
    return {
        "id": "L1",
        "name": "x",
        "last_updated": stamp,
        "evses": [
            {
                "uid": "E1",
                "status": status,
                "last_updated": stamp,
                "connectors": [{"id": "1", "max_electric_power": power, "last_updated": stamp}],
            },
            {"uid": "E2", "status": "AVAILABLE", "last_updated": T0, "connectors": []},
        ],
    }


def test_an_evse_status_is_an_evse_change_only() -> None:
    changes = changes_between("Location", location(), location("CHARGING", stamp=T1))
    assert changes is not None
    # the connector only got the new stamp: its EVSE's PATCH covers it
    assert changes.fields[("E1",)] == frozenset({"status", "last_updated"})
    assert () not in changes.fields


def test_a_connector_change_is_a_connector_patch() -> None:
    before, after = location(), location(power=7400, stamp=T1)
    changes = changes_between("Location", before, after)
    assert changes is not None
    assert changes.fields == {("E1", "1"): frozenset({"max_electric_power", "last_updated"})}
    [request] = patch_requests("Location", after, changes, appends=True) or []
    assert request.path == ("E1", "1") and request.name == "Connector"
    assert request.body == {"max_electric_power": 7400, "last_updated": T1}


def test_added_evses_and_removed_fields_are_puts() -> None:
    more = location(stamp=T1)
    more["evses"].append({"uid": "E3", "status": "AVAILABLE", "last_updated": T1})
    assert changes_between("Location", location(), more) is None
    fewer = location(stamp=T1)
    del fewer["name"]
    assert changes_between("Location", location(), fewer) is None
    assert changes_between("Tariff", {"a": 1}, {"a": 2}) is None


def test_session_periods_are_appended_unless_rewritten() -> None:
    p1, p2 = {"start_date_time": T0}, {"start_date_time": T1}
    before = {"id": "S", "kwh": 1, "charging_periods": [p1], "last_updated": T0}
    after = {"id": "S", "kwh": 2, "charging_periods": [p1, p2], "last_updated": T1}
    changes = changes_between("Session", before, after)
    assert changes is not None and changes.appended == {"charging_periods": 1}
    [request] = patch_requests("Session", after, changes, appends=True) or []
    assert request.body == {"kwh": 2, "last_updated": T1, "charging_periods": [p2]}
    [whole] = patch_requests("Session", after, changes, appends=False) or []
    assert whole.body["charging_periods"] == [p1, p2]
    rewritten = {**after, "charging_periods": [p2]}
    assert changes_between("Session", before, rewritten) is None


def test_coalescing() -> None:
    a = Changes.of(["status"], ["E1"])
    b = Changes.of(["name"])
    merged = coalesce("PATCH", a, False, b)
    assert merged is not None and set(merged.fields) == {("E1",), ()}
    assert coalesce(None, None, False, b) == b
    assert coalesce("PUT", None, False, b) is None
    periods = Changes.of([], appended={"charging_periods": 3})
    assert (
        coalesce("PATCH", periods, True, Changes.of([], appended={"charging_periods": 4})) is None
    )
    assert coalesce("PATCH", periods, False, periods) is not None
    assert Changes.loads(merged.dumps()) == merged
