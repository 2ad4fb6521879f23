"""Credentials, Versions and HubClientInfo conversions 2.1.1 ⇄ 2.2.1 ⇄ 2.3.0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocpikit.convert import LOSS_TABLE, Context, Loss, convert, from_head, to_head
from ocpikit.models import v2_1_1, v2_2_1, v2_3_0

RULE_IDS = {rule.id for rule in LOSS_TABLE}
BUSINESS = {"name": "Example", "website": "https://example.com"}


def _rules(losses: list[Loss]) -> dict[str, str]:
    assert {loss.rule for loss in losses} <= RULE_IDS
    return {loss.path: loss.rule for loss in losses}


def _example(data_dir: Path, version: str, name: str) -> Any:
    return json.loads((data_dir / "spec" / version / "examples" / name).read_text())


CREDENTIALS_211 = {
    "token": "ebf3b399-779f-4497-9b9d-ac6ad3cc44d2",
    "url": "https://example.com/ocpi/emsp/versions",
    "business_details": BUSINESS,
    "party_id": "EXA",
    "country_code": "NL",
}


# --- credentials -------------------------------------------------------------------------------


def test_2_1_1_credentials_round_trip_with_the_role_from_the_context() -> None:
    head, up = to_head(CREDENTIALS_211, "2.1.1", "Credentials", Context(role="EMSP"))
    assert up == []
    assert isinstance(head, v2_3_0.credentials.Credentials)
    assert [(r.role, r.country_code, r.party_id) for r in head.roles] == [
        (v2_3_0.types.Role.EMSP, "NL", "EXA")
    ]
    back, down = from_head(head, "2.1.1", ctx=Context(role="EMSP"))
    assert down == []
    assert back.dump() == CREDENTIALS_211


def test_2_1_1_credentials_without_a_role_assume_cpo() -> None:
    head, up = to_head(CREDENTIALS_211, "2.1.1", "Credentials")
    assert _rules(up) == {"roles[0].role": "2.1.1>2.2.1 Credentials.roles[].role"}
    assert head.dump()["roles"][0]["role"] == "CPO"


def test_several_roles_down_to_2_1_1_keep_this_connections_role(data_dir: Path) -> None:
    data = _example(data_dir, "2.2.1", "credentials_example2.json")
    roles = [r["role"] for r in data["roles"]]
    assert roles == ["CPO", "EMSP"]
    old, losses = convert(data, "Credentials", "2.2.1", "2.1.1", Context(role="EMSP"))
    emsp = data["roles"][1]
    assert (old["party_id"], old["country_code"], old["business_details"]) == (
        emsp["party_id"],
        emsp["country_code"],
        emsp["business_details"],
    )
    assert _rules(losses) == {"roles[0]": "2.2.1>2.1.1 Credentials.roles"}
    v2_1_1.credentials.Credentials.model_validate(old)


def test_party_from_the_context_picks_among_white_label_cpos(data_dir: Path) -> None:
    data = _example(data_dir, "2.2.1", "credentials_example4.json")
    ctx = Context(country_code="NL", party_id="pfc", role="CPO")
    old, losses = convert(data, "Credentials", "2.2.1", "2.1.1", ctx)
    assert old["party_id"] == "PFC"
    assert set(_rules(losses)) == {"roles[0]", "roles[2]"}


@pytest.mark.parametrize("name", ["credentials_example.json", "credentials_example3.json"])
def test_2_2_1_examples_round_trip_through_head(data_dir: Path, name: str) -> None:
    data = _example(data_dir, "2.2.1", name)
    head, up = to_head(data, "2.2.1", "Credentials")
    back, down = from_head(head, "2.2.1")
    assert up == [] and down == []
    assert json.loads(back.dump_json()) == data


def test_hub_role_becomes_hub_party_id_and_back() -> None:
    data = {
        "token": "abc",
        "url": "https://hub.example.com/versions",
        "roles": [
            {"role": "HUB", "business_details": BUSINESS, "party_id": "HUB", "country_code": "DE"}
        ],
    }
    head, up = to_head(data, "2.2.1", "Credentials")
    assert _rules(up) == {"roles[0].role": "2.2.1>2.3.0 Credentials.roles[].role"}
    out = head.dump()
    assert out["hub_party_id"] == "DEHUB"
    assert out["roles"][0]["role"] == "OTHER"
    back, down = from_head(head, "2.2.1")
    assert down == []
    assert back.dump() == data


def test_2_3_0_hub_with_reachable_parties_goes_down_as_one_hub_role() -> None:
    data = {
        "token": "abc",
        "url": "https://hub.example.com/versions",
        "hub_party_id": "DEHUB",
        "roles": [
            {
                "role": "CPO",
                "business_details": {"name": "A"},
                "party_id": "AAA",
                "country_code": "NL",
            },
            {
                "role": "EMSP",
                "business_details": {"name": "B"},
                "party_id": "BBB",
                "country_code": "BE",
            },
        ],
    }
    old, losses = convert(data, "Credentials", "2.3.0", "2.2.1")
    assert old["roles"] == [
        {"role": "HUB", "country_code": "DE", "party_id": "HUB", "business_details": {"name": "A"}}
    ]
    assert set(_rules(losses)) == {"roles[0]", "roles[1]"}
    v2_2_1.credentials.Credentials.model_validate(old)


def test_open_logo_category_becomes_other_going_down() -> None:
    logo = {"url": "https://e.com/l.svg", "category": "BANNER", "type": "svg"}
    data = {
        "token": "abc",
        "url": "https://e.com/versions",
        "roles": [
            {
                "role": "CPO",
                "business_details": {"name": "A", "logo": logo},
                "party_id": "AAA",
                "country_code": "NL",
            }
        ],
    }
    old, losses = convert(data, "Credentials", "2.3.0", "2.2.1")
    assert old["roles"][0]["business_details"]["logo"]["category"] == "OTHER"
    assert _rules(losses) == {
        "roles[0].business_details.logo.category": "2.3.0>2.2.1 Image.category"
    }
    assert logo["category"] == "BANNER"  # input untouched


# --- versions ----------------------------------------------------------------------------------

DETAILS_211 = {
    "version": "2.1.1",
    "endpoints": [
        {"identifier": "credentials", "url": "https://e.com/ocpi/emsp/2.1.1/credentials"},
        {"identifier": "locations", "url": "https://e.com/ocpi/emsp/2.1.1/locations"},
        {"identifier": "tokens", "url": "https://e.com/ocpi/emsp/2.1.1/tokens"},
        {"identifier": "commands", "url": "https://e.com/ocpi/emsp/2.1.1/commands"},
    ],
}


def test_2_1_1_endpoints_get_interface_roles_from_the_party_role() -> None:
    head, up = to_head(DETAILS_211, "2.1.1", "VersionDetails", Context(role="EMSP"))
    assert up == []
    roles = {e.identifier: e.role for e in head.endpoints}  # type: ignore[attr-defined]
    assert roles == {
        "credentials": "SENDER",
        "locations": "RECEIVER",
        "tokens": "SENDER",
        "commands": "SENDER",
    }
    assert head.dump()["version"] == "2.1.1"  # the endpoints still serve 2.1.1
    back, down = from_head(head, "2.1.1", ctx=Context(role="EMSP"))
    assert down == [] and back.dump() == DETAILS_211


def test_2_1_1_party_role_guessed_from_the_url_is_reported() -> None:
    up, losses = convert(DETAILS_211, "VersionDetails", "2.1.1", "2.2.1")
    assert [e["role"] for e in up["endpoints"]] == ["SENDER", "RECEIVER", "SENDER", "SENDER"]
    assert len(losses) == 4
    assert all(loss.rule == "2.1.1>2.2.1 Endpoint.role" for loss in losses)


def test_both_interfaces_down_to_2_1_1_keep_this_connections_role(data_dir: Path) -> None:
    data = _example(data_dir, "2.2.1", "version_details_example2.json")
    data["endpoints"].append(
        {"identifier": "hubclientinfo", "role": "RECEIVER", "url": "https://e.com/hci"}
    )
    old, losses = convert(data, "VersionDetails", "2.2.1", "2.1.1", Context(role="EMSP"))
    kept = {e["identifier"]: e["url"] for e in old["endpoints"]}
    assert kept == {
        "credentials": "https://example.com/ocpi/2.2/credentials",
        "locations": "https://example.com/ocpi/msp/2.2/locations",
        "tokens": "https://example.com/ocpi/msp/2.2/tokens",
    }
    assert set(_rules(losses)) == {"endpoints[1]", "endpoints[2]", "endpoints[5]"}
    v2_1_1.versions.VersionDetails.model_validate(old)


def test_2_3_0_only_modules_are_dropped_for_2_2_1() -> None:
    data = {
        "version": "2.3.0",
        "endpoints": [
            {"identifier": "credentials", "role": "SENDER", "url": "https://e.com/c"},
            {"identifier": "payments", "role": "RECEIVER", "url": "https://e.com/p"},
            {"identifier": "nltnm-tokens", "role": "SENDER", "url": "https://e.com/x"},
        ],
    }
    old, losses = convert(data, "VersionDetails", "2.3.0", "2.2.1")
    assert [e["identifier"] for e in old["endpoints"]] == ["credentials", "nltnm-tokens"]
    assert _rules(losses) == {"endpoints[1]": "2.3.0>2.2.1 Endpoint.identifier"}


# --- hubclientinfo -----------------------------------------------------------------------------


def test_client_info_hub_role_goes_up_as_other() -> None:
    info = {
        "party_id": "HUB",
        "country_code": "DE",
        "role": "HUB",
        "status": "CONNECTED",
        "last_updated": "2019-02-01T13:30:00Z",
    }
    head, losses = to_head(info, "2.2.1", "ClientInfo")
    assert head.dump()["role"] == "OTHER"
    assert _rules(losses) == {"role": "2.2.1>2.3.0 ClientInfo.role"}
    cpo = {**info, "role": "CPO", "party_id": "EXA"}
    head, losses = to_head(cpo, "2.2.1", "ClientInfo")
    back, down = from_head(head, "2.2.1")
    assert losses == [] and down == [] and back.dump() == cpo


def test_every_rule_of_these_modules_is_in_the_loss_table() -> None:
    ids = [rule.id for rule in LOSS_TABLE]
    assert len(ids) == len(set(ids))
    for prefix in (
        "Credentials",
        "Endpoint",
        "VersionDetails",
        "ClientInfo",
        "Location",
        "EVSE",
        "Connector",
    ):
        assert any(f" {prefix}." in i for i in ids), prefix
