"""Commands models of 2.1.1, 2.2.1 and 2.3.0 (the spec has no command JSON examples)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ocpikit.models import OBJECTS
from ocpikit.models.v2_1_1 import commands as c211
from ocpikit.models.v2_2_1 import commands as c221
from ocpikit.models.v2_3_0 import commands as c230

TOKEN_211: dict[str, Any] = {
    "uid": "012345678",
    "type": "RFID",
    "auth_id": "DE8ACC12E46L89",
    "issuer": "TheNewMotion",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": "2015-06-29T22:39:09Z",
}
TOKEN_22: dict[str, Any] = {
    "country_code": "DE",
    "party_id": "TNM",
    "uid": "012345678",
    "type": "APP_USER",
    "contract_id": "DE8ACC12E46L89",
    "issuer": "TheNewMotion",
    "valid": True,
    "whitelist": "NEVER",
    "last_updated": "2015-06-29T22:39:09Z",
}
URL = "https://emsp.example.com/ocpi/2.2.1/commands/START_SESSION/1234"


def loc(exc: pytest.ExceptionInfo[ValidationError]) -> set[tuple[str | int, ...]]:
    return {tuple(e["loc"]) for e in exc.value.errors()}


# --- 2.1.1 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ['"ACCEPTED"', '{"result":"ACCEPTED"}'])
def test_211_command_response_accepts_both_shapes_errata_a3(body: str) -> None:
    response = c211.CommandResponse.parse(body)
    assert response.result is c211.CommandResponseType.ACCEPTED
    assert response.dump() == {"result": "ACCEPTED"}  # always sent as the object


def test_211_command_response_rejects_unknown_result() -> None:
    with pytest.raises(ValidationError) as exc:
        c211.CommandResponse.parse('"SUCCESSFUL"')  # used by the 2.1.1 diagrams, not an enum
    assert loc(exc) == {("result",)}


def test_211_reserve_now_int_reservation_id_and_211_token() -> None:
    body = {
        "response_url": URL,
        "token": TOKEN_211,
        "expiry_date": "2015-06-29T23:39:09Z",
        "reservation_id": 42,
        "location_id": "x" * 39,
    }
    assert c211.ReserveNow.parse(body).dump() == body
    with pytest.raises(ValidationError) as exc:
        c211.ReserveNow.parse({**body, "reservation_id": "42"})
    assert loc(exc) == {("reservation_id",)}
    with pytest.raises(ValidationError) as exc:
        c211.ReserveNow.parse({**body, "token": TOKEN_22})  # a 2.2 token is not a 2.1.1 one
    assert ("token", "auth_id") in loc(exc)


def test_211_unlock_and_stop() -> None:
    unlock = {"response_url": URL, "location_id": "L", "evse_uid": "E", "connector_id": "1"}
    assert c211.UnlockConnector.parse(unlock).dump() == unlock
    with pytest.raises(ValidationError) as exc:
        c211.UnlockConnector.parse({k: v for k, v in unlock.items() if k != "evse_uid"})
    assert loc(exc) == {("evse_uid",)}
    with pytest.raises(ValidationError) as exc:
        c211.StopSession.parse({"response_url": URL, "session_id": "x" * 37})
    assert loc(exc) == {("session_id",)}


# --- 2.2.1 / 2.3.0 ----------------------------------------------------------------------------


@pytest.mark.parametrize("module", [c221, c230])
def test_start_session_round_trip_and_connector_rule(module: Any) -> None:
    body = {
        "response_url": URL,
        "token": TOKEN_22,
        "location_id": "LOC1",
        "evse_uid": "3256",
        "connector_id": "1",
        "authorization_reference": "pp-100100-1948213567",
        "x_extension": True,
    }
    assert module.StartSession.parse(body).dump() == body
    with pytest.raises(ValidationError) as exc:
        module.StartSession.parse({k: v for k, v in body.items() if k != "evse_uid"})
    assert "evse_uid is required when connector_id is set" in str(exc.value)


def test_221_command_response_and_result() -> None:
    response = {"result": "ACCEPTED", "timeout": 30, "message": [{"language": "en", "text": "ok"}]}
    assert c221.CommandResponse.parse(response).dump() == response
    with pytest.raises(ValidationError) as exc:
        c221.CommandResponse.parse({"result": "ACCEPTED"})
    assert loc(exc) == {("timeout",)}
    with pytest.raises(ValidationError) as exc:
        c221.CommandResponse.parse({"result": "TIMEOUT", "timeout": 30})  # moved to results
    assert loc(exc) == {("result",)}
    with pytest.raises(ValidationError) as exc:
        c221.CommandResponse.parse({"result": "ACCEPTED", "timeout": "30"})
    assert loc(exc) == {("timeout",)}
    result = {"result": "EVSE_OCCUPIED", "message": [{"language": "en", "text": "busy"}]}
    assert c221.CommandResult.parse(result).dump() == result
    with pytest.raises(ValidationError) as exc:
        c221.CommandResult.parse({"result": "ACCEPTED", "message": [{"language": "en"}]})
    assert loc(exc) == {("message", 0, "text")}


def test_reserve_now_string_reservation_id_and_cancel() -> None:
    body = {
        "response_url": URL,
        "token": {**TOKEN_22, "type": "EMAID"},
        "expiry_date": "2020-01-01T10:00:00Z",
        "reservation_id": "R-1",
        "location_id": "LOC1",
    }
    assert c230.ReserveNow.parse(body).dump() == body
    with pytest.raises(ValidationError) as exc:
        c221.ReserveNow.parse(body)  # EMAID is not a 2.2.1 TokenType
    assert loc(exc) == {("token", "type")}
    cancel = {"response_url": URL, "reservation_id": "R-1"}
    assert c221.CancelReservation.parse(cancel).dump() == cancel
    with pytest.raises(ValidationError) as exc:
        c221.CancelReservation.parse({"response_url": URL})
    assert loc(exc) == {("reservation_id",)}


def test_registry_and_import_forward() -> None:
    assert set(c211.OBJECTS) == {
        "CommandResponse",
        "ReserveNow",
        "StartSession",
        "StopSession",
        "UnlockConnector",
    }
    assert (
        set(c221.OBJECTS)
        == set(c230.OBJECTS)
        == set(c211.OBJECTS)
        | {
            "CancelReservation",
            "CommandResult",
        }
    )
    for name in ("CancelReservation", "CommandResponse", "CommandResult", "StopSession"):
        assert c230.OBJECTS[name] is c221.OBJECTS[name]
    assert (
        c230.OBJECTS["StartSession"] is not c221.OBJECTS["StartSession"]
    )  # embeds the changed 2.3.0 Token
    assert c230.CommandType is c221.CommandType
    for version, module in (("2.1.1", c211), ("2.2.1", c221), ("2.3.0", c230)):
        for name, model in module.OBJECTS.items():
            assert OBJECTS[version][name] is model
