"""Session models of 2.1.1, 2.2.1 and 2.3.0 and the 2.2+ Charging Preferences: spec examples
round-trip, bad input is rejected with its JSON path, unknown fields and OpenEnum values are
kept."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ocpikit.core.types import parse_datetime
from ocpikit.models import OcpiModel, v2_1_1, v2_2_1, v2_3_0
from ocpikit.models.v2_1_1 import sessions as s211
from ocpikit.models.v2_2_1 import sessions as s221
from ocpikit.models.v2_3_0 import sessions as s230

_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def norm(value: Any) -> Any:
    """JSON value with numbers as Decimals and timestamps as UTC datetimes (format-tolerant)."""
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str) and _TS.match(value):
        return parse_datetime(value)
    return value


def md_blocks(path: Path) -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", path.read_text(), re.S)
    return [json.loads(b[b.index("{") :]) for b in blocks]


def errors(exc: pytest.ExceptionInfo[ValidationError]) -> set[tuple[str | int, ...]]:
    return {tuple(e["loc"]) for e in exc.value.errors()}


@pytest.mark.parametrize(("version", "model"), [("2.2.1", s221.Session), ("2.3.0", s230.Session)])
def test_session_examples_round_trip(data_dir: Path, version: str, model: type[OcpiModel]) -> None:
    examples = data_dir / "spec" / version / "examples"
    files = sorted(examples.glob("session_example*.json"))
    assert [f.name for f in files] == [
        "session_example_1_simple_start.json",
        "session_example_2_short_finished.json",
    ]
    for path in files:
        data = json.loads(path.read_text())
        assert norm(model.parse(path.read_bytes()).dump()) == norm(data), path.name
    # PATCH bodies are fragments, validated with the Session's field types
    for path in sorted(examples.glob("session_patch*.json")):
        data = json.loads(path.read_text())
        assert norm(model.parse_patch(data)) == norm(data), path.name


def test_2_1_1_session_examples(data_dir: Path) -> None:
    patch, starting, finished = md_blocks(
        data_dir / "spec" / "2.1.1" / "examples" / "mod_sessions.md"
    )
    for data in (starting, finished):
        session = s211.Session.parse(data)
        assert norm(session.dump()) == norm(data)
        assert isinstance(session.location, OcpiModel)
    assert s211.Session.parse(finished).end_datetime is not None
    assert norm(s211.Session.parse_patch(patch)) == {"total_cost": Decimal("0.6")}


def _session_221(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "country_code": "BE",
        "party_id": "BEC",
        "id": "101",
        "start_date_time": "2015-06-29T22:39:09Z",
        "kwh": 0,
        "cdr_token": {
            "country_code": "NL",
            "party_id": "TST",
            "uid": "123abc",
            "type": "RFID",
            "contract_id": "NL-TST-C12345678-S",
        },
        "auth_method": "COMMAND",
        "location_id": "LOC1",
        "evse_uid": "#NA",
        "connector_id": "#NA",
        "currency": "EUR",
        "status": "RESERVATION",
        "last_updated": "2015-06-29T22:39:09Z",
    }
    data.update(changes)
    return data


def test_reservation_session_with_na_ids() -> None:
    session = s221.Session.parse(_session_221())
    assert session.status is s221.SessionStatus.RESERVATION
    assert session.evse_uid == "#NA"


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"status": "RESERVED"}, ("status",)),  # the prose's name; the enum says RESERVATION
        ({"country_code": "BEL"}, ("country_code",)),
        ({"party_id": "BECC"}, ("party_id",)),
        ({"id": "x" * 37}, ("id",)),
        ({"kwh": "lots"}, ("kwh",)),
        ({"kwh": True}, ("kwh",)),
        ({"currency": "EURO"}, ("currency",)),
        ({"start_date_time": 1435617549}, ("start_date_time",)),
        ({"auth_method": "APP"}, ("auth_method",)),
        ({"total_cost": 2.5}, ("total_cost",)),
        ({"total_cost": {"incl_vat": 2.5}}, ("total_cost", "excl_vat")),
        (
            {"charging_periods": [{"start_date_time": "2015-06-29T22:39:09Z"}]},
            ("charging_periods", 0, "dimensions"),
        ),
        (
            {"charging_periods": [{"start_date_time": "2015-06-29T22:39:09Z", "dimensions": []}]},
            ("charging_periods", 0, "dimensions"),
        ),
        (
            {
                "charging_periods": [
                    {
                        "start_date_time": "2015-06-29T22:39:09Z",
                        "dimensions": [{"type": "FLAT", "volume": 1}],
                    }
                ]
            },
            ("charging_periods", 0, "dimensions", 0, "type"),
        ),
    ],
)
def test_bad_2_2_1_session_is_rejected_with_its_path(
    changes: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    with pytest.raises(ValidationError) as exc:
        s221.Session.parse(_session_221(**changes))
    assert loc in errors(exc)


def test_missing_and_bad_token_fields() -> None:
    data = _session_221()
    del data["cdr_token"]["contract_id"]
    data["cdr_token"]["type"] = "EMAID"
    with pytest.raises(ValidationError) as exc:
        s221.Session.parse(data)
    assert errors(exc) == {("cdr_token", "contract_id"), ("cdr_token", "type")}


def test_2_3_0_open_enum_token_type_is_kept() -> None:
    data = _session_221(total_cost={"before_taxes": 1, "taxes": [{"name": "QST", "amount": 0.1}]})
    data["cdr_token"]["type"] = "LICENSE_PLATE"
    session = s230.Session.parse(data)
    assert session.cdr_token.type == "LICENSE_PLATE"
    assert session.dump()["cdr_token"]["type"] == "LICENSE_PLATE"
    data["cdr_token"]["type"] = "RFID"
    assert s230.Session.parse(data).cdr_token.type is v2_3_0.tokens.TokenType.RFID
    # the 2.2.1 Price shape is not a 2.3.0 Price
    with pytest.raises(ValidationError) as exc:
        s230.Session.parse(_session_221(total_cost={"excl_vat": 1}))
    assert ("total_cost", "before_taxes") in errors(exc)


def test_2_1_1_session_rejects_2_2_values(data_dir: Path) -> None:
    _, starting, _ = md_blocks(data_dir / "spec" / "2.1.1" / "examples" / "mod_sessions.md")
    for changes, loc in (
        ({"status": "RESERVATION"}, ("status",)),
        ({"auth_method": "COMMAND"}, ("auth_method",)),
        ({"auth_id": "x" * 37}, ("auth_id",)),
        ({"total_cost": {"excl_vat": 1}}, ("total_cost",)),
    ):
        with pytest.raises(ValidationError) as exc:
            s211.Session.parse({**starting, **changes})
        assert loc in errors(exc), changes
    broken = copy.deepcopy(starting)
    del broken["location"]["evses"][0]["connectors"][0]["standard"]
    with pytest.raises(ValidationError) as exc:
        s211.Session.parse(broken)
    assert errors(exc) == {("location", "evses", 0, "connectors", 0, "standard")}


def test_unknown_fields_are_kept() -> None:
    data = _session_221(vendor_flag=True)
    data["cdr_token"]["visual_number"] = "1234"
    dumped = s221.Session.parse(data).dump()
    assert dumped["vendor_flag"] is True
    assert dumped["cdr_token"]["visual_number"] == "1234"


def test_charging_preferences() -> None:
    prefs = {"profile_type": "GREEN", "departure_time": "2024-01-01T18:00:00Z", "energy_need": 30}
    assert norm(s230.ChargingPreferences.parse(prefs).dump()) == norm(prefs)
    assert "discharge_allowed" not in s230.ChargingPreferences.parse(prefs).dump()
    with pytest.raises(ValidationError) as exc:
        s221.ChargingPreferences.parse({"profile_type": "ECO", "discharge_allowed": "yes"})
    assert errors(exc) == {("profile_type",), ("discharge_allowed",)}
    assert s221.ChargingPreferencesResponse("ENERGY_NEED_REQUIRED").value == "ENERGY_NEED_REQUIRED"


def test_define_once_import_forward() -> None:
    assert s230.ChargingPreferences is s221.ChargingPreferences
    assert s230.SessionStatus is s221.SessionStatus
    assert s230.ProfileType is s221.ProfileType
    assert v2_3_0.OBJECTS["Session"] is not v2_2_1.OBJECTS["Session"]
    assert v2_2_1.OBJECTS["ChargingPreferences"] is v2_3_0.OBJECTS["ChargingPreferences"]
    assert "ChargingPreferences" not in v2_1_1.OBJECTS


@pytest.mark.parametrize("module", [s211, s221, s230])
def test_objects_lists_every_class_of_the_module(module: Any) -> None:
    defined = {
        name
        for name, obj in vars(module).items()
        if isinstance(obj, type)
        and issubclass(obj, OcpiModel)
        and obj.__module__ == module.__name__
    }
    assert defined <= set(module.OBJECTS)
    assert all(cls.__name__ == name for name, cls in module.OBJECTS.items())
