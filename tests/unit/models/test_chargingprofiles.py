"""ChargingProfiles models (2.2.1, imported unchanged by 2.3.0; no spec JSON examples)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ocpikit.models import OBJECTS
from ocpikit.models.v2_2_1 import chargingprofiles as cp221
from ocpikit.models.v2_3_0 import chargingprofiles as cp230

PROFILE: dict[str, Any] = {
    "start_date_time": "2019-06-24T12:00:00Z",
    "duration": 900,
    "charging_rate_unit": "A",
    "min_charging_rate": 6.5,
    "charging_profile_period": [
        {"start_period": 0, "limit": 16},
        {"start_period": 300, "limit": 8.1},
    ],
}


def loc(exc: pytest.ExceptionInfo[ValidationError]) -> set[tuple[str | int, ...]]:
    return {tuple(e["loc"]) for e in exc.value.errors()}


def test_set_charging_profile_round_trip() -> None:
    body = {"charging_profile": PROFILE, "response_url": "https://msp.example.com/cp/5678"}
    assert cp221.SetChargingProfile.parse(body).dump() == body


def test_active_profile_result() -> None:
    result = {
        "result": "ACCEPTED",
        "profile": {"start_date_time": "2019-06-24T12:00:00Z", "charging_profile": PROFILE},
    }
    assert cp230.ActiveChargingProfileResult.parse(result).dump() == result
    assert cp221.ActiveChargingProfileResult.parse({"result": "UNKNOWN"}).dump() == {
        "result": "UNKNOWN"
    }
    with pytest.raises(ValidationError) as exc:
        cp221.ActiveChargingProfileResult.parse({"result": "ACCEPTED", "profile": {}})
    assert loc(exc) == {("profile", "start_date_time"), ("profile", "charging_profile")}


def test_limit_accepts_at_most_one_fractional_digit() -> None:
    bad = {**PROFILE, "charging_profile_period": [{"start_period": 0, "limit": 8.15}]}
    with pytest.raises(ValidationError) as exc:
        cp221.ChargingProfile.parse(bad)
    assert loc(exc) == {("charging_profile_period", 0, "limit")}
    with pytest.raises(ValidationError) as exc:
        cp221.ChargingProfile.parse({**PROFILE, "min_charging_rate": 6.25})
    assert loc(exc) == {("min_charging_rate",)}


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({**PROFILE, "charging_rate_unit": "kW"}, ("charging_rate_unit",)),
        ({**PROFILE, "duration": 1.5}, ("duration",)),
        ({**PROFILE, "start_date_time": 1561377600}, ("start_date_time",)),
    ],
)
def test_profile_rejects_bad_fields(data: dict[str, Any], path: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        cp221.ChargingProfile.parse(data)
    assert loc(exc) == {path}


def test_response_and_results() -> None:
    assert cp221.ChargingProfileResponse.parse({"result": "TOO_OFTEN", "timeout": 10}).dump() == {
        "result": "TOO_OFTEN",
        "timeout": 10,
    }
    with pytest.raises(ValidationError) as exc:
        cp221.ChargingProfileResponse.parse({"result": "ACCEPTED"})
    assert loc(exc) == {("timeout",)}
    for model in (cp221.ChargingProfileResult, cp221.ClearProfileResult):
        with pytest.raises(ValidationError) as exc:
            model.parse({"result": "TOO_OFTEN"})  # a response type, not a result type
        assert loc(exc) == {("result",)}


def test_unknown_fields_kept() -> None:
    data = {**PROFILE, "numberPhases": 3}  # referenced by the 2.2.1 text, never defined (A12)
    assert cp221.ChargingProfile.parse(data).dump() == data


def test_230_imports_every_class_from_221() -> None:
    assert cp230.OBJECTS == cp221.OBJECTS
    assert set(cp221.OBJECTS) == {
        "ActiveChargingProfile",
        "ActiveChargingProfileResult",
        "ChargingProfile",
        "ChargingProfilePeriod",
        "ChargingProfileResponse",
        "ChargingProfileResult",
        "ClearProfileResult",
        "SetChargingProfile",
    }
    for version in ("2.2.1", "2.3.0"):
        for name, model in cp221.OBJECTS.items():
            assert OBJECTS[version][name] is model
