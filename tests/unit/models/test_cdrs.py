"""CDR models of 2.1.1, 2.2.1 and 2.3.0: spec examples (and their known errata), strict checks
with JSON paths, the tolerances the digest asks for, credit CDRs and signed data."""

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
from ocpikit.models import OBJECTS, OcpiModel
from ocpikit.models.v2_1_1 import cdrs as c211
from ocpikit.models.v2_2_1 import cdrs as c221
from ocpikit.models.v2_3_0 import cdrs as c230

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


@pytest.fixture
def cdr_221(data_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (data_dir / "spec" / "2.2.1" / "examples" / "cdr_example.json").read_text()
    )
    return data


@pytest.fixture
def cdr_230(data_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (data_dir / "spec" / "2.3.0" / "examples" / "cdr_example.json").read_text()
    )
    return data


def test_2_2_1_cdr_example_round_trips(cdr_221: dict[str, Any]) -> None:
    cdr = c221.CDR.parse(cdr_221)
    assert norm(cdr.dump()) == norm(cdr_221)
    assert norm(json.loads(c221.CDR.parse(json.dumps(cdr_221)).dump_json())) == norm(cdr_221)
    assert cdr.total_cost.incl_vat == Decimal("4.40")


def test_2_3_0_cdr_example_erratum(cdr_230: dict[str, Any]) -> None:
    # ERR: the embedded Tariff lacks the required tax_included (DIGEST §8.2)
    with pytest.raises(ValidationError) as exc:
        c230.CDR.parse(cdr_230)
    assert errors(exc) == {("tariffs", 0, "tax_included")}
    fixed = copy.deepcopy(cdr_230)
    fixed["tariffs"][0]["tax_included"] = "NO"
    cdr = c230.CDR.parse(fixed)
    assert norm(cdr.dump()) == norm(fixed)
    assert cdr.total_cost.taxes is not None
    assert cdr.total_cost.taxes[0].amount == Decimal("0.40")


def test_2_1_1_cdr_example(data_dir: Path) -> None:
    (data,) = md_blocks(data_dir / "spec" / "2.1.1" / "examples" / "mod_cdrs.md")
    # ERR: the example's tariff price is the string "2.00", not a number (DIGEST §4.6)
    price_path = ("tariffs", 0, "elements", 0, "price_components", 0, "price")
    with pytest.raises(ValidationError) as exc:
        c211.CDR.parse(data)
    assert errors(exc) == {price_path}
    fixed = copy.deepcopy(data)
    fixed["tariffs"][0]["elements"][0]["price_components"][0]["price"] = 2.00
    cdr = c211.CDR.parse(fixed)
    assert norm(cdr.dump()) == norm(fixed)
    assert cdr.stop_date_time > cdr.start_date_time


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"id": "C" * 40}, ("id",)),
        ({"session_id": "S" * 37}, ("session_id",)),
        ({"auth_method": "RFID"}, ("auth_method",)),
        ({"total_cost": 4.0}, ("total_cost",)),
        ({"total_energy": None}, ("total_energy",)),
        ({"charging_periods": []}, ("charging_periods",)),
        ({"credit": "true", "credit_reference_id": "x"}, ("credit",)),
        ({"invoice_reference_id": "I" * 40}, ("invoice_reference_id",)),
        ({"remark": "r" * 256}, ("remark",)),
        ({"home_charging_compensation": 1}, ("home_charging_compensation",)),
    ],
)
def test_bad_2_2_1_cdr_is_rejected_with_its_path(
    cdr_221: dict[str, Any], changes: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    with pytest.raises(ValidationError) as exc:
        c221.CDR.parse({**cdr_221, **changes})
    assert loc in errors(exc)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("address", "a" * 46),
        ("city", "c" * 46),
        ("postal_code", "p" * 11),
        ("state", "s" * 21),
        ("evse_id", "E" * 49),
        ("connector_standard", "TYPE2"),
        ("connector_format", "PLUG"),
        ("connector_power_type", "AC"),
    ],
)
def test_bad_cdr_location_fields(cdr_221: dict[str, Any], field: str, value: Any) -> None:
    cdr_221["cdr_location"][field] = value
    with pytest.raises(ValidationError) as exc:
        c221.CDR.parse(cdr_221)
    assert errors(exc) == {("cdr_location", field)}


def test_missing_cdr_location_field(cdr_221: dict[str, Any]) -> None:
    del cdr_221["cdr_location"]["evse_id"]  # required in CdrLocation though optional on EVSE
    with pytest.raises(ValidationError) as exc:
        c221.CDR.parse(cdr_221)
    assert errors(exc) == {("cdr_location", "evse_id")}


def test_credit_cdr(cdr_221: dict[str, Any]) -> None:
    credit = {
        **cdr_221,
        "id": "12345-C" + "x" * 32,  # 39 characters: room for the credit suffix
        "credit": True,
        "credit_reference_id": "12345",
        "total_cost": {"excl_vat": -4.00, "incl_vat": -4.40},
    }
    assert c221.CDR.parse(credit).credit is True
    del credit["credit_reference_id"]
    with pytest.raises(ValidationError) as exc:
        c221.CDR.parse(credit)
    assert "credit_reference_id" in str(exc.value)
    # tolerant: a non-credit CDR id longer than 36 is accepted on input (DIGEST §5.1)
    assert c221.CDR.parse({**cdr_221, "id": "N" * 39}).id == "N" * 39


def test_signed_data_lengths(cdr_221: dict[str, Any]) -> None:
    value = {"nature": "Start", "plain_data": "p" * 5000, "signed_data": "s" * 5000}
    signed: dict[str, Any] = {
        "encoding_method": "OCMF",
        "encoding_method_version": 1,
        "signed_values": [value],
    }
    cdr = c221.CDR.parse({**cdr_221, "signed_data": signed})
    assert cdr.signed_data is not None
    assert len(cdr.signed_data.signed_values[0].plain_data) == 5000  # errata: 5000, not 512
    bad = copy.deepcopy(signed)
    bad["signed_values"][0]["plain_data"] = "p" * 5001
    bad["signed_values"][0]["nature"] = "n" * 33
    bad["encoding_method_version"] = "1"
    bad["url"] = "u" * 513
    with pytest.raises(ValidationError) as exc:
        c221.CDR.parse({**cdr_221, "signed_data": bad})
    assert errors(exc) == {
        ("signed_data", "signed_values", 0, "plain_data"),
        ("signed_data", "signed_values", 0, "nature"),
        ("signed_data", "encoding_method_version"),
        ("signed_data", "url"),
    }
    with pytest.raises(ValidationError) as exc:
        c221.CDR.parse({**cdr_221, "signed_data": {**signed, "signed_values": []}})
    assert errors(exc) == {("signed_data", "signed_values")}


def test_dimension_types_per_version(cdr_221: dict[str, Any]) -> None:
    period = {
        "start_date_time": "2015-06-29T21:39:09Z",
        "dimensions": [{"type": "FLAT", "volume": 1}],
    }
    assert c211.ChargingPeriod.parse(period).dimensions[0].type is c211.CdrDimensionType.FLAT
    with pytest.raises(ValidationError) as exc:
        c221.CDR.parse({**cdr_221, "charging_periods": [period]})
    assert errors(exc) == {("charging_periods", 0, "dimensions", 0, "type")}
    new = {
        "start_date_time": "2015-06-29T21:39:09Z",
        "dimensions": [{"type": t, "volume": 1} for t in ("RESERVATION_TIME", "MAX_POWER")],
        "tariff_id": "12",
    }
    assert c221.ChargingPeriod.parse(new).tariff_id == "12"
    with pytest.raises(ValidationError) as exc:
        c211.ChargingPeriod.parse(new)
    assert errors(exc) == {("dimensions", 0, "type"), ("dimensions", 1, "type")}


def test_2_3_0_open_and_closed_enums(cdr_230: dict[str, Any]) -> None:
    cdr_230["tariffs"][0]["tax_included"] = "NO"
    cdr_230["cdr_token"]["type"] = "EMAID"
    cdr_230["cdr_location"]["connector_standard"] = "FUTURE_PLUG"
    dumped = c230.CDR.parse(cdr_230).dump()
    assert dumped["cdr_token"]["type"] == "EMAID"
    assert dumped["cdr_location"]["connector_standard"] == "FUTURE_PLUG"
    cdr_230["cdr_location"]["connector_format"] = "FUTURE_FORMAT"  # ConnectorFormat is closed
    with pytest.raises(ValidationError) as exc:
        c230.CDR.parse(cdr_230)
    assert errors(exc) == {("cdr_location", "connector_format")}


def test_2_1_1_cdr_rules(data_dir: Path) -> None:
    (data,) = md_blocks(data_dir / "spec" / "2.1.1" / "examples" / "mod_cdrs.md")
    data["tariffs"][0]["elements"][0]["price_components"][0]["price"] = 2.00  # the erratum
    for changes, loc in (
        ({"id": "x" * 37}, ("id",)),
        ({"auth_method": "COMMAND"}, ("auth_method",)),
        ({"charging_periods": []}, ("charging_periods",)),
        ({"location": None}, ("location",)),
        ({"total_cost": {"excl_vat": 4}}, ("total_cost",)),
    ):
        with pytest.raises(ValidationError) as exc:
            c211.CDR.parse({**data, **changes})
        assert loc in errors(exc), changes


def test_unknown_fields_are_kept(cdr_221: dict[str, Any]) -> None:
    cdr_221["partner_reference"] = "ABC"
    cdr_221["cdr_location"]["parking_level"] = "-1"
    dumped = c221.CDR.parse(cdr_221).dump()
    assert dumped["partner_reference"] == "ABC"
    assert dumped["cdr_location"]["parking_level"] == "-1"


def test_define_once_import_forward() -> None:
    for name in ("ChargingPeriod", "CdrDimension", "SignedData", "SignedValue"):
        assert getattr(c230, name) is getattr(c221, name)
    assert c230.AuthMethod is c221.AuthMethod
    for name in ("CDR", "CdrToken", "CdrLocation"):
        assert getattr(c230, name) is not getattr(c221, name)
    assert OBJECTS["2.2.1"]["ChargingPeriod"] is not OBJECTS["2.1.1"]["ChargingPeriod"]


@pytest.mark.parametrize("module", [c211, c221, c230])
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
