"""Tokens and commands across 2.1.1 ⇄ 2.2.1 ⇄ 2.3.0: round trips and declared losses."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocpikit.convert import LOSS_TABLE, Context, convert, from_head, to_head
from ocpikit.convert.v2_1_1__v2_2_1 import commands as step1_commands
from ocpikit.convert.v2_1_1__v2_2_1 import tokens as step1_tokens
from ocpikit.convert.v2_2_1__v2_3_0 import tokens as step2_tokens
from ocpikit.models.v2_1_1.commands import CommandResponse as CommandResponse211

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TOKEN_211: dict[str, Any] = {
    "uid": "012345678",
    "type": "RFID",
    "auth_id": "DE8ACC12E46L89",
    "visual_number": "DF000-2001-8999",
    "issuer": "TheNewMotion",
    "valid": True,
    "whitelist": "ALLOWED",
    "language": "nl",
    "last_updated": "2015-06-29T22:39:09Z",
}
URL = "https://emsp.example.com/ocpi/commands/1"


def ctx(**kwargs: Any) -> Context:
    return Context(country_code="NL", party_id="TNM", now=NOW, **kwargs)


def rules(losses: list[Any]) -> dict[str, str]:
    return {loss.path: loss.rule for loss in losses}


def md_tokens(data_dir: Path) -> list[dict[str, Any]]:
    blocks = re.findall(
        r"```json\n(.*?)```", (data_dir / "spec/2.1.1/examples/mod_tokens.md").read_text(), re.S
    )
    return [json.loads(b[b.index("{") :]) for b in blocks if '"uid"' in b]


# --- round trips ------------------------------------------------------------------------------


def test_211_token_examples_round_trip_through_head(data_dir: Path) -> None:
    for token in md_tokens(data_dir):
        head, up = to_head(token, "2.1.1", "Token", ctx())
        assert up == []
        assert head.dump()["contract_id"] == token["auth_id"]
        assert (head.dump()["country_code"], head.dump()["party_id"]) == ("NL", "TNM")
        back, down = from_head(head, "2.1.1", ctx=ctx())
        assert back.dump() == token
        assert down == []


@pytest.mark.parametrize(
    "name", ["token_example_1_app_user", "token_example_2_full_rfid", "token_put_example"]
)
def test_221_token_examples_round_trip_through_head(data_dir: Path, name: str) -> None:
    token = json.loads((data_dir / f"spec/2.2.1/examples/{name}.json").read_text())
    head, up = to_head(token, "2.2.1", "Token")
    back, down = from_head(head, "2.2.1")
    assert back.dump() == token
    assert up == down == []


def test_221_token_down_to_211_reports_every_loss(data_dir: Path) -> None:
    token = json.loads(
        (data_dir / "spec/2.2.1/examples/token_example_2_full_rfid.json").read_text()
    )
    token["type"] = "APP_USER"
    old, losses = convert(token, "Token", "2.2.1", "2.1.1", Context())
    assert rules(losses) == {
        "country_code": "2.2.1>2.1.1 Token.country_code",
        "party_id": "2.2.1>2.1.1 Token.party_id",
        "type": "2.2.1>2.1.1 Token.type",
        "group_id": "2.2.1>2.1.1 Token.group_id",
        "default_profile_type": "2.2.1>2.1.1 Token.default_profile_type",
        "energy_contract": "2.2.1>2.1.1 Token.energy_contract",
    }
    assert old["type"] == "OTHER" and old["auth_id"] == token["contract_id"]
    lost = {"country_code", "party_id", "group_id", "default_profile_type", "energy_contract"}
    assert not lost & set(old)
    # the owner is not reported when the URL (ctx) carries the same one
    _, losses = convert(
        token, "Token", "2.2.1", "2.1.1", Context(country_code="de", party_id="tnm")
    )
    assert "country_code" not in rules(losses) and "party_id" not in rules(losses)


def test_211_token_without_owner_gets_placeholders() -> None:
    head, losses = to_head(TOKEN_211, "2.1.1", "Token", Context(now=NOW))
    assert (head.dump()["country_code"], head.dump()["party_id"]) == ("XX", "XXX")
    assert rules(losses) == {
        "country_code": "2.1.1>2.2.1 Token.country_code",
        "party_id": "2.1.1>2.2.1 Token.party_id",
    }
    assert {loss.rule for loss in losses} <= {rule.id for rule in LOSS_TABLE}
    assert all(
        rule.kind == "defaulted" for rule in LOSS_TABLE if rule.id in {loss.rule for loss in losses}
    )


def test_head_emaid_token_goes_down_as_other() -> None:
    head_token = {**step1_tokens.up_token(TOKEN_211, ctx(), ""), "type": "EMAID"}
    old, losses = convert(head_token, "Token", "2.3.0", "2.2.1")
    assert old["type"] == "OTHER"
    assert rules(losses) == {"type": "2.3.0>2.2.1 Token.type"}


# --- AuthorizationInfo / LocationReferences ---------------------------------------------------


def test_211_authorization_info_up_rebuilds_token_from_lookup() -> None:
    cached = step1_tokens.up_token(TOKEN_211, ctx(), "")
    info = {"allowed": "ALLOWED", "location": {"location_id": "LOC1", "evse_uids": ["E1"]}}
    head, losses = to_head(
        info, "2.1.1", "AuthorizationInfo", ctx(lookup={"token": lambda: cached})
    )
    assert head.dump()["token"] == cached
    assert losses == []
    back, down = from_head(head, "2.1.1", ctx=ctx())
    assert back.dump() == info and down == []


def test_211_authorization_info_up_defaults_a_minimal_token() -> None:
    info = {
        "allowed": "BLOCKED",
        "location": {"location_id": "LOC1", "evse_uids": ["E1"], "connector_ids": ["1", "2"]},
        "info": {"language": "en", "text": "blocked"},
    }
    known = {"uid": "012345678", "type": "RFID"}  # what the authorize request URL named
    head, losses = to_head(info, "2.1.1", "AuthorizationInfo", ctx(lookup={"token": lambda: known}))
    token = head.dump()["token"]
    assert token["uid"] == "012345678" and token["contract_id"] == "012345678"
    assert (token["country_code"], token["party_id"], token["valid"]) == ("NL", "TNM", False)
    assert token["last_updated"] == "2026-01-02T03:04:05Z"
    assert rules(losses) == {
        "token": "2.1.1>2.2.1 AuthorizationInfo.token",
        "location.connector_ids": "2.1.1>2.2.1 LocationReferences.connector_ids",
    }
    back, _ = from_head(head, "2.1.1", ctx=ctx())
    expected = {**info, "location": {"location_id": "LOC1", "evse_uids": ["E1"]}}
    assert back.dump() == expected  # the original except the reported connector_ids


def test_authorization_info_down_loses_reference() -> None:
    head_info = {
        "allowed": "ALLOWED",
        "token": {**step1_tokens.up_token(TOKEN_211, ctx(), ""), "type": "EMAID"},
        "authorization_reference": "REF1",
    }
    old, losses = convert(head_info, "AuthorizationInfo", "2.3.0", "2.1.1", ctx())
    assert old == {"allowed": "ALLOWED"}
    assert rules(losses) == {
        "token.type": "2.3.0>2.2.1 Token.type",
        "authorization_reference": "2.2.1>2.1.1 AuthorizationInfo.authorization_reference",
    }


# --- commands ---------------------------------------------------------------------------------


def test_211_start_session_round_trip() -> None:
    body = {"response_url": URL, "token": TOKEN_211, "location_id": "LOC1", "evse_uid": "E1"}
    head, up = to_head(body, "2.1.1", "StartSession", ctx())
    assert head.dump()["token"]["contract_id"] == TOKEN_211["auth_id"]
    back, down = from_head(head, "2.1.1", ctx=ctx())
    assert back.dump() == body
    assert up == down == []


def test_start_session_down_loses_connector_and_reference() -> None:
    head = {
        "response_url": URL,
        "token": step1_tokens.up_token(TOKEN_211, ctx(), ""),
        "location_id": "LOC1",
        "evse_uid": "E1",
        "connector_id": "2",
        "authorization_reference": "pp-1",
    }
    old, losses = from_head(head, "2.1.1", "StartSession", ctx())
    assert old.dump() == {
        "response_url": URL,
        "token": TOKEN_211,
        "location_id": "LOC1",
        "evse_uid": "E1",
    }
    assert rules(losses) == {
        "connector_id": "2.2.1>2.1.1 StartSession.connector_id",
        "authorization_reference": "2.2.1>2.1.1 StartSession.authorization_reference",
    }


def test_211_reserve_now_round_trip_and_reservation_id_mapping() -> None:
    body = {
        "response_url": URL,
        "token": TOKEN_211,
        "expiry_date": "2015-06-30T22:39:09Z",
        "reservation_id": 1234,
        "location_id": "LOC1",
    }
    head, up = to_head(body, "2.1.1", "ReserveNow", ctx())
    assert head.dump()["reservation_id"] == "1234"
    back, down = from_head(head, "2.1.1", ctx=ctx())
    assert back.dump() == body and up == down == []
    textual = {**head.dump(), "reservation_id": "R-77"}
    old, losses = from_head(textual, "2.1.1", "ReserveNow", ctx())
    again, _ = from_head(textual, "2.1.1", "ReserveNow", ctx())
    assert isinstance(old.dump()["reservation_id"], int)
    assert old.dump()["reservation_id"] == again.dump()["reservation_id"]  # stable
    assert rules(losses) == {"reservation_id": "2.2.1>2.1.1 ReserveNow.reservation_id"}
    mapped, losses = from_head(
        textual,
        "2.1.1",
        "ReserveNow",
        ctx(lookup={"reservation_id": lambda rid: {"reservation_id": 9}}),
    )
    assert mapped.dump()["reservation_id"] == 9 and losses == []
    _, losses = from_head({**textual, "reservation_id": "007"}, "2.1.1", "ReserveNow", ctx())
    assert rules(losses) == {"reservation_id": "2.2.1>2.1.1 ReserveNow.reservation_id"}


def test_command_response_sync() -> None:
    head, losses = to_head({"result": "ACCEPTED"}, "2.1.1", "CommandResponse")
    assert head.dump() == {"result": "ACCEPTED", "timeout": step1_commands.DEFAULT_TIMEOUT}
    assert rules(losses) == {"timeout": "2.1.1>2.2.1 CommandResponse.timeout"}
    back, losses = from_head(head, "2.1.1")
    assert back.dump() == {"result": "ACCEPTED"}
    assert rules(losses) == {"timeout": "2.2.1>2.1.1 CommandResponse.timeout"}
    head, losses = to_head(CommandResponse211.parse('"TIMEOUT"'), "2.1.1")
    assert head.dump()["result"] == "REJECTED"
    assert rules(losses)["result"] == "2.1.1>2.2.1 CommandResponse.result"


@pytest.mark.parametrize(
    ("old", "new", "lossy"),
    [
        ("ACCEPTED", "ACCEPTED", False),
        ("REJECTED", "REJECTED", False),
        ("NOT_SUPPORTED", "NOT_SUPPORTED", False),
        ("TIMEOUT", "TIMEOUT", False),
        ("UNKNOWN_SESSION", "REJECTED", True),
    ],
)
def test_async_result_up(old: str, new: str, lossy: bool) -> None:
    body = CommandResponse211.parse(f'"{old}"').dump()  # errata A3: bare string accepted
    result, losses = convert(body, "CommandResult", "2.1.1", "2.3.0")
    assert result == {"result": new}
    assert bool(losses) is lossy
    if not lossy:
        assert convert(result, "CommandResult", "2.3.0", "2.1.1")[0] == body


@pytest.mark.parametrize(
    "result",
    ["CANCELED_RESERVATION", "EVSE_OCCUPIED", "EVSE_INOPERATIVE", "FAILED", "UNKNOWN_RESERVATION"],
)
def test_async_result_down(result: str) -> None:
    body = {"result": result, "message": [{"language": "en", "text": "x"}]}
    old, losses = convert(body, "CommandResult", "2.3.0", "2.1.1")
    assert CommandResponse211.parse(old).dump() == {"result": "REJECTED"}
    assert rules(losses) == {
        "result": "2.2.1>2.1.1 CommandResult.result",
        "message": "2.2.1>2.1.1 CommandResult.message",
    }


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("StopSession", {"response_url": URL, "session_id": "S1"}),
        (
            "UnlockConnector",
            {"response_url": URL, "location_id": "L", "evse_uid": "E", "connector_id": "1"},
        ),
    ],
)
def test_unchanged_commands_round_trip(name: str, body: dict[str, Any]) -> None:
    for version in ("2.1.1", "2.2.1"):
        head, up = to_head(body, version, name)
        back, down = from_head(head, version)
        assert back.dump() == body and up == down == []


def test_221_commands_round_trip_through_head() -> None:
    token = step1_tokens.up_token(TOKEN_211, ctx(), "")
    for name, body in (
        (
            "StartSession",
            {
                "response_url": URL,
                "token": token,
                "location_id": "L",
                "evse_uid": "E",
                "connector_id": "1",
                "authorization_reference": "A",
            },
        ),
        (
            "ReserveNow",
            {
                "response_url": URL,
                "token": token,
                "expiry_date": "2020-01-01T00:00:00Z",
                "reservation_id": "R1",
                "location_id": "L",
            },
        ),
        ("CancelReservation", {"response_url": URL, "reservation_id": "R1"}),
        (
            "CommandResponse",
            {
                "result": "UNKNOWN_SESSION",
                "timeout": 10,
                "message": [{"language": "en", "text": "?"}],
            },
        ),
        ("CommandResult", {"result": "EVSE_OCCUPIED"}),
    ):
        head, up = to_head(body, "2.2.1", name)
        back, down = from_head(head, "2.2.1")
        assert back.dump() == body and up == down == []


def test_loss_rules_are_unique_and_declared() -> None:
    mine = [*step1_tokens.RULES, *step1_commands.RULES, *step2_tokens.RULES]
    assert len({rule.id for rule in mine}) == len(mine)
    assert set(mine) <= set(LOSS_TABLE)
