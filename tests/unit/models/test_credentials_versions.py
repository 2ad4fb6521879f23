"""Versions, Credentials, HubClientInfo and the shared types of 2.1.1, 2.2.1 and 2.3.0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ocpikit.models import OBJECTS
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1 import credentials as c211
from ocpikit.models.v2_1_1 import types as t211
from ocpikit.models.v2_1_1 import versions as v211
from ocpikit.models.v2_2_1 import credentials as c221
from ocpikit.models.v2_2_1 import hubclientinfo as h221
from ocpikit.models.v2_2_1 import types as t221
from ocpikit.models.v2_2_1 import versions as v221
from ocpikit.models.v2_3_0 import credentials as c230
from ocpikit.models.v2_3_0 import hubclientinfo as h230
from ocpikit.models.v2_3_0 import types as t230
from ocpikit.models.v2_3_0 import versions as v230

VERSIONS = ["2.2.1", "2.3.0"]


def _example(data_dir: Path, version: str, name: str) -> Any:
    return json.loads((data_dir / "spec" / version / "examples" / name).read_text())


def _locs(err: ValidationError) -> set[tuple[str | int, ...]]:
    return {tuple(e["loc"]) for e in err.errors()}


# --- spec examples -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "name",
    [
        "credentials_example.json",
        "credentials_example2.json",
        "credentials_example3.json",
        "credentials_example4.json",
    ],
)
def test_credentials_examples_round_trip(data_dir: Path, version: str, name: str) -> None:
    data = _example(data_dir, version, name)
    parsed = OBJECTS[version]["Credentials"].model_validate(data)
    assert json.loads(parsed.dump_json()) == data


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("name", "wrapped"),
    [
        ("version_details_example.json", False),
        ("version_details_example2.json", False),
        ("transport_and_format_version_details_example.json", True),
    ],
)
def test_version_details_examples_round_trip(
    data_dir: Path, version: str, name: str, wrapped: bool
) -> None:
    data = _example(data_dir, version, name)
    data = data["data"] if wrapped else data
    parsed = OBJECTS[version]["VersionDetails"].model_validate(data)
    assert json.loads(parsed.dump_json()) == data


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("name", "wrapped"),
    [
        ("versions_info_example.json", False),
        ("transport_and_format_version_info_example.json", True),
    ],
)
def test_versions_list_examples_round_trip(
    data_dir: Path, version: str, name: str, wrapped: bool
) -> None:
    data = _example(data_dir, version, name)
    data = data["data"] if wrapped else data
    model = OBJECTS[version]["Version"]
    assert [model.model_validate(item).dump() for item in data] == data


@pytest.mark.parametrize("version", VERSIONS)
def test_display_text_example_round_trips(data_dir: Path, version: str) -> None:
    data = _example(data_dir, version, "type_displaytext_example.json")
    assert OBJECTS[version]["DisplayText"].model_validate(data).dump() == data


# --- versions ----------------------------------------------------------------------------------


def test_2_1_1_endpoint_has_no_role_and_2_2_1_requires_one() -> None:
    ep = {"identifier": "locations", "url": "https://example.com/ocpi/cpo/2.1.1/locations"}
    assert v211.Endpoint.model_validate(ep).identifier is v211.ModuleID.locations
    with pytest.raises(ValidationError) as err:
        v221.Endpoint.model_validate(ep)
    assert ("role",) in _locs(err.value)
    with pytest.raises(ValidationError) as err:
        v221.Endpoint.model_validate({**ep, "role": "PULLER"})
    assert ("role",) in _locs(err.value)


@pytest.mark.parametrize("module", [v211, v221, v230])
def test_custom_modules_and_newer_versions_are_tolerated(module: Any) -> None:
    """§Custom Modules (every version) allows other identifiers; a versions list may name
    versions newer than the reader."""
    endpoint: dict[str, Any] = {"identifier": "nltnm-tokens", "url": "https://e.com/x"}
    if module is not v211:
        endpoint["role"] = "SENDER"
    details = {"version": "3.0", "endpoints": [endpoint]}
    parsed = module.VersionDetails.model_validate(details)
    assert parsed.dump() == details
    assert module.Version.model_validate({"version": "2.1.1", "url": "https://e.com"}).version == (
        module.VersionNumber.V2_1_1
    )


@pytest.mark.parametrize("module", [v211, v221, v230])
def test_version_details_need_an_endpoint(module: Any) -> None:
    with pytest.raises(ValidationError) as err:
        module.VersionDetails.model_validate({"version": "2.1.1", "endpoints": []})
    assert ("endpoints",) in _locs(err.value)
    with pytest.raises(ValidationError) as err:
        module.Version.model_validate({"version": "2.1.1", "url": "u" * 256})
    assert ("url",) in _locs(err.value)


def test_version_numbers_per_version() -> None:
    assert {m.value for m in v211.VersionNumber} == {"2.0", "2.1", "2.1.1"}
    assert "2.2.1" in {m.value for m in v221.VersionNumber}
    assert "2.3.0" in {m.value for m in v230.VersionNumber}
    assert v230.Endpoint is v221.Endpoint
    assert v230.ModuleID is v221.ModuleID


# --- credentials -------------------------------------------------------------------------------

BUSINESS = {
    "name": "Example Operator",
    "logo": {"url": "https://e.com/l.png", "category": "OPERATOR", "type": "png"},
}


def test_2_1_1_credentials_are_flat() -> None:
    data = {
        "token": "ebf3b399-779f-4497-9b9d-ac6ad3cc44d2",
        "url": "https://example.com/ocpi/cpo/versions",
        "business_details": BUSINESS,
        "party_id": "EXA",
        "country_code": "NL",
    }
    assert c211.Credentials.model_validate(data).dump() == data
    with pytest.raises(ValidationError) as err:
        c211.Credentials.model_validate({**data, "token": "t" * 65, "party_id": "EXAM"})
    assert {("token",), ("party_id",)} <= _locs(err.value)
    with pytest.raises(ValidationError) as err:
        c211.Credentials.model_validate({k: v for k, v in data.items() if k != "business_details"})
    assert ("business_details",) in _locs(err.value)


def _role(role: str, party: str = "EXA", country: str = "NL") -> dict[str, Any]:
    return {"role": role, "business_details": BUSINESS, "party_id": party, "country_code": country}


@pytest.mark.parametrize("module", [c221, c230])
def test_credentials_roles_rules(module: Any) -> None:
    base = {"token": "abc", "url": "https://e.com/versions"}
    with pytest.raises(ValidationError) as err:
        module.Credentials.model_validate({**base, "roles": []})
    assert ("roles",) in _locs(err.value)
    # one party may be CPO and EMSP, but not the same role twice (CiString: case-insensitive)
    module.Credentials.model_validate({**base, "roles": [_role("CPO"), _role("EMSP")]})
    with pytest.raises(ValidationError):
        module.Credentials.model_validate(
            {**base, "roles": [_role("CPO"), _role("CPO", party="exa", country="nl")]}
        )
    with pytest.raises(ValidationError) as err:
        module.Credentials.model_validate({**base, "roles": [_role("OPERATOR")]})
    assert ("roles", 0, "role") in _locs(err.value)


def test_hub_role_exists_only_in_2_2_1() -> None:
    data = {"token": "abc", "url": "https://e.com/versions", "roles": [_role("HUB")]}
    assert c221.Credentials.model_validate(data).roles[0].role is t221.Role.HUB
    with pytest.raises(ValidationError) as err:
        c230.Credentials.model_validate(data)
    assert ("roles", 0, "role") in _locs(err.value)


def test_2_3_0_hub_party_id() -> None:
    data = {
        "token": "abc",
        "url": "https://e.com/versions",
        "hub_party_id": "NLHUB",
        "roles": [_role("CPO")],
    }
    assert c230.Credentials.model_validate(data).dump() == data
    with pytest.raises(ValidationError) as err:
        c230.Credentials.model_validate({**data, "hub_party_id": "NL-HUB"})
    assert ("hub_party_id",) in _locs(err.value)


def test_2_3_0_business_details_logo_category_is_open() -> None:
    role = _role("CPO")
    role["business_details"] = {**BUSINESS, "logo": {**BUSINESS["logo"], "category": "BANNER"}}  # type: ignore[dict-item]
    data = {"token": "abc", "url": "https://e.com/versions", "roles": [role]}
    assert c230.Credentials.model_validate(data).dump() == data
    with pytest.raises(ValidationError) as err:
        c221.Credentials.model_validate(data)
    assert ("roles", 0, "business_details", "logo", "category") in _locs(err.value)


# --- hubclientinfo -----------------------------------------------------------------------------

CLIENT = {
    "party_id": "EXA",
    "country_code": "NL",
    "role": "CPO",
    "status": "CONNECTED",
    "last_updated": "2019-02-01T13:30:00Z",
}


@pytest.mark.parametrize("module", [h221, h230])
def test_client_info(module: Any) -> None:
    assert module.ClientInfo.model_validate(CLIENT).dump() == CLIENT
    with pytest.raises(ValidationError) as err:
        module.ClientInfo.model_validate({**CLIENT, "status": "ONLINE", "party_id": "EXAM"})
    assert {("status",), ("party_id",)} <= _locs(err.value)
    with pytest.raises(ValidationError) as err:
        module.ClientInfo.model_validate({k: v for k, v in CLIENT.items() if k != "last_updated"})
    assert ("last_updated",) in _locs(err.value)


def test_client_info_hub_role_only_in_2_2_1() -> None:
    h221.ClientInfo.model_validate({**CLIENT, "role": "HUB"})
    with pytest.raises(ValidationError):
        h230.ClientInfo.model_validate({**CLIENT, "role": "HUB"})
    assert h230.ConnectionStatus is h221.ConnectionStatus


# --- types -------------------------------------------------------------------------------------


def test_display_text_limits() -> None:
    with pytest.raises(ValidationError) as err:
        t211.DisplayText.model_validate({"language": "eng", "text": "x" * 513})
    assert {("language",), ("text",)} <= _locs(err.value)
    assert t230.DisplayText is t221.DisplayText is t211.DisplayText


def test_price_shapes() -> None:
    p221 = t221.Price.model_validate({"excl_vat": 4.0, "incl_vat": 4.4})
    assert p221.dump() == {"excl_vat": 4, "incl_vat": 4.4}
    with pytest.raises(ValidationError) as err:
        t221.Price.model_validate({"incl_vat": 4.4})
    assert ("excl_vat",) in _locs(err.value)
    data = {"before_taxes": 4, "taxes": [{"name": "VAT", "percentage": 10, "amount": 0.4}]}
    assert t230.Price.model_validate(data).dump() == data
    with pytest.raises(ValidationError) as err:
        t230.Price.model_validate({"before_taxes": 4, "taxes": [{"name": "VAT"}]})
    assert ("taxes", 0, "amount") in _locs(err.value)


@pytest.mark.parametrize(
    "module", [t211, t221, t230, v211, v221, v230, c211, c221, c230, h221, h230]
)
def test_objects_list_every_model_class(module: Any) -> None:
    classes = {
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, OcpiModel) and value is not OcpiModel
    }
    assert classes == set(module.OBJECTS)
