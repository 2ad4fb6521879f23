"""Tokens models of 2.1.1, 2.2.1 and 2.3.0: spec examples, strictness, tolerance."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ocpikit.models import OBJECTS, v2_1_1, v2_2_1, v2_3_0
from ocpikit.models.v2_1_1 import tokens as t211
from ocpikit.models.v2_2_1 import tokens as t221
from ocpikit.models.v2_3_0 import tokens as t230

_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def norm(value: Any) -> Any:
    """JSON value with numbers as Decimal and timestamps as UTC instants (format-tolerant)."""
    from ocpikit.core.types import parse_datetime

    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, str) and _TS.match(value):
        return parse_datetime(value)
    return value


def md_json_blocks(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of the ```json blocks of a 2.1.1 Markdown chapter (a block may start
    with a "PUT To URL: ..." line, which is skipped)."""
    blocks = re.findall(r"```json\n(.*?)```", path.read_text(), re.S)
    return [json.loads(block[block.index("{") :]) for block in blocks]


def loc(exc: pytest.ExceptionInfo[ValidationError]) -> set[tuple[str | int, ...]]:
    return {tuple(e["loc"]) for e in exc.value.errors()}


TOKEN_221: dict[str, Any] = {
    "country_code": "DE",
    "party_id": "TNM",
    "uid": "12345678905880",
    "type": "RFID",
    "contract_id": "DE8ACC12E46L89",
    "issuer": "TheNewMotion",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": "2018-12-10T17:25:10Z",
}


# --- spec examples ----------------------------------------------------------------------------


def test_211_markdown_examples_round_trip(data_dir: Path) -> None:
    blocks = md_json_blocks(data_dir / "spec/2.1.1/examples/mod_tokens.md")
    full = [b for b in blocks if "uid" in b]
    assert len(full) == 2  # PUT example and Token example
    for block in full:
        assert norm(t211.Token.parse(block).dump()) == norm(block)
    patch = next(b for b in blocks if "uid" not in b)  # PATCH {"valid": false}
    assert t211.Token.parse_patch(patch) == {"valid": False}


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
@pytest.mark.parametrize(
    "name", ["token_example_1_app_user", "token_example_2_full_rfid", "token_put_example"]
)
def test_token_examples_round_trip(data_dir: Path, version: str, name: str) -> None:
    data = json.loads((data_dir / f"spec/{version}/examples/{name}.json").read_text())
    model = OBJECTS[version]["Token"]
    assert norm(model.parse(data).dump()) == norm(data)


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
def test_token_patch_and_envelope_examples(data_dir: Path, version: str) -> None:
    examples = data_dir / f"spec/{version}/examples"
    model = OBJECTS[version]["Token"]
    patch = json.loads((examples / "token_patch_example.json").read_text())
    assert norm(model.parse_patch(patch)) == norm(patch)
    single = json.loads((examples / "transport_and_format_get_token_example.json").read_text())
    assert norm(model.parse(single["data"]).dump()) == norm(single["data"])
    listed = json.loads((examples / "transport_and_format_get_token_list_example.json").read_text())
    for item in listed["data"]:
        assert norm(model.parse(item).dump()) == norm(item)


# --- strictness -------------------------------------------------------------------------------


def test_211_token_has_no_owner_and_uses_auth_id() -> None:
    data = {k: v for k, v in TOKEN_221.items() if k not in ("country_code", "party_id")}
    with pytest.raises(ValidationError) as exc:
        t211.Token.parse(data)
    assert ("auth_id",) in loc(exc)
    data["auth_id"] = data.pop("contract_id")
    data["type"] = "APP_USER"  # not a 2.1.1 value
    with pytest.raises(ValidationError) as exc:
        t211.Token.parse(data)
    assert loc(exc) == {("type",)}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("party_id", "TNMX"),  # CiString(3)
        ("country_code", "DEU"),  # CiString(2)
        ("uid", "x" * 37),  # CiString(36)
        ("issuer", "x" * 65),  # string(64)
        ("valid", "true"),  # boolean, not a string
        ("whitelist", "SOMETIMES"),  # closed enum
        ("last_updated", 1544462710),  # DateTime is a string
        ("type", "EMAID"),  # 2.3.0 only
    ],
)
def test_221_token_rejects_bad_fields_with_their_path(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        t221.Token.parse({**TOKEN_221, field: value})
    assert {path[0] for path in loc(exc)} == {field}


def test_221_token_nested_error_path() -> None:
    data = {**TOKEN_221, "energy_contract": {"contract_id": "1"}}
    with pytest.raises(ValidationError) as exc:
        t221.Token.parse(data)
    assert loc(exc) == {("energy_contract", "supplier_name")}
    with pytest.raises(ValidationError) as exc:
        t221.Token.parse({**TOKEN_221, "default_profile_type": "SLOW"})
    assert loc(exc) == {("default_profile_type",)}


def test_authorization_info_requires_token_from_221_on() -> None:
    assert t211.AuthorizationInfo.parse({"allowed": "ALLOWED"}).dump() == {"allowed": "ALLOWED"}
    for model in (t221.AuthorizationInfo, t230.AuthorizationInfo):
        with pytest.raises(ValidationError) as exc:
            model.parse({"allowed": "ALLOWED"})
        assert loc(exc) == {("token",)}
    info = t221.AuthorizationInfo.parse(
        {
            "allowed": "NOT_ALLOWED",
            "token": TOKEN_221,
            "location": {"location_id": "LOC1", "evse_uids": ["E1"]},
            "authorization_reference": "REF1",
            "info": {"language": "en", "text": "no"},
        }
    )
    assert info.allowed is t221.AllowedType.NOT_ALLOWED


def test_location_references_lengths() -> None:
    assert t211.LocationReferences.parse({"location_id": "x" * 39, "connector_ids": ["1"]})
    with pytest.raises(ValidationError) as exc:
        t221.LocationReferences.parse({"location_id": "x" * 37})
    assert loc(exc) == {("location_id",)}
    with pytest.raises(ValidationError) as exc:
        t221.LocationReferences.parse({"location_id": "L", "evse_uids": ["x" * 37]})
    assert loc(exc) == {("evse_uids", 0)}


# --- tolerance --------------------------------------------------------------------------------


def test_unknown_fields_kept_on_dump() -> None:
    data = {**TOKEN_221, "x_vendor": {"tier": 2}}
    assert t221.Token.parse(data).dump() == data
    assert t230.Token.parse(data).dump() == data


def test_230_token_type_is_open() -> None:
    emaid = t230.Token.parse({**TOKEN_221, "type": "EMAID"})
    assert emaid.type is t230.TokenType.EMAID
    plate = t230.Token.parse({**TOKEN_221, "type": "LICENSE_PLATE"})
    assert plate.type == "LICENSE_PLATE"
    assert plate.dump()["type"] == "LICENSE_PLATE"
    # but not any JSON value
    with pytest.raises(ValidationError) as exc:
        t230.Token.parse({**TOKEN_221, "type": 7})
    assert {path[0] for path in loc(exc)} == {"type"}


def test_define_once_import_forward() -> None:
    assert t230.LocationReferences is t221.LocationReferences
    assert t230.EnergyContract is t221.EnergyContract
    assert t230.WhitelistType is t221.WhitelistType is t211.WhitelistType
    assert t230.OBJECTS["Token"] is not t221.OBJECTS["Token"]  # TokenType changed
    for version, module in (("2.1.1", v2_1_1), ("2.2.1", v2_2_1), ("2.3.0", v2_3_0)):
        for name, model in module.tokens.OBJECTS.items():
            assert OBJECTS[version][name] is model
            assert model.__name__ == name
