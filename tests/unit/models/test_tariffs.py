"""Tariff models of 2.1.1, 2.2.1 and 2.3.0: spec examples round-trip, bad input is rejected with
its JSON path, unknown fields are kept, and classes are defined once and imported forward."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ocpikit.core.types import parse_datetime
from ocpikit.models import OBJECTS, OcpiModel, v2_1_1, v2_2_1, v2_3_0
from ocpikit.models.v2_1_1 import tariffs as t211
from ocpikit.models.v2_2_1 import tariffs as t221
from ocpikit.models.v2_3_0 import tariffs as t230

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
    """The ```json blocks of a 2.1.1 Markdown chapter (the text before the first ``{`` is a
    request line such as ``PATCH To URL: ...``)."""
    blocks = re.findall(r"```json\n(.*?)```", path.read_text(), re.S)
    return [json.loads(b[b.index("{") :]) for b in blocks]


def errors(exc: pytest.ExceptionInfo[ValidationError]) -> set[tuple[str | int, ...]]:
    return {tuple(e["loc"]) for e in exc.value.errors()}


TARIFF_ERRATA = {
    # the PUT example has no last_updated, which Tariff requires (DIGEST §8.2 ERR)
    "tariff_put_example.json": ("last_updated",),
}


@pytest.mark.parametrize(("version", "model"), [("2.2.1", t221.Tariff), ("2.3.0", t230.Tariff)])
def test_every_tariff_example_round_trips(
    data_dir: Path, version: str, model: type[OcpiModel]
) -> None:
    files = sorted((data_dir / "spec" / version / "examples").glob("tariff*.json"))
    assert len(files) == {"2.2.1": 20, "2.3.0": 22}[version]
    for path in files:
        data = json.loads(path.read_text())
        if path.name in TARIFF_ERRATA:
            with pytest.raises(ValidationError) as exc:
                model.parse(data)
            assert errors(exc) == {TARIFF_ERRATA[path.name]}, path.name
            continue
        parsed = model.parse(path.read_bytes())
        assert norm(parsed.dump()) == norm(data), path.name
        assert norm(json.loads(parsed.dump_json())) == norm(data), path.name


def test_2_1_1_tariff_examples(data_dir: Path) -> None:
    blocks = md_blocks(data_dir / "spec" / "2.1.1" / "examples" / "mod_tariffs.md")
    full = [b for b in blocks if "elements" in b and "id" in b and "last_updated" in b]
    assert len(full) == 5  # simple, alt text, alt url, complex, free of charge
    for data in full:
        assert norm(t211.Tariff.parse(data).dump()) == norm(data)
    # the PUT example lacks last_updated (a spec error) and the PATCH body is a fragment
    put, patch = blocks[0], blocks[1]
    with pytest.raises(ValidationError) as exc:
        t211.Tariff.parse(put)
    assert errors(exc) == {("last_updated",)}
    assert norm(t211.Tariff.parse_patch(patch)) == norm(patch)


def _tariff_230(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "country_code": "DE",
        "party_id": "ALL",
        "id": "T1",
        "currency": "EUR",
        "elements": [
            {
                "price_components": [{"type": "TIME", "price": 2.0, "vat": 10, "step_size": 60}],
                "restrictions": {"start_time": "08:00", "end_time": "00:00"},
            }
        ],
        "tax_included": "NO",
        "last_updated": "2024-01-01T00:00:00Z",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("path", "value", "loc"),
    [
        (("elements", 0, "price_components", 0, "price"), "two", ("price",)),
        (("elements", 0, "price_components", 0, "step_size"), "60", ("step_size",)),
        (("elements", 0, "price_components", 0, "step_size"), 60.5, ("step_size",)),
        (("elements", 0, "price_components", 0, "type"), "KWH", ("type",)),
        (("elements", 0, "restrictions", "start_time"), "24:00", ("start_time",)),
        (("elements", 0, "restrictions", "start_time"), "8:00", ("start_time",)),
        (("elements", 0, "restrictions", "end_time"), "08:000", ("end_time",)),
    ],
)
def test_bad_values_are_rejected_with_their_path(
    path: tuple[str | int, ...], value: Any, loc: tuple[str, ...]
) -> None:
    data = _tariff_230()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as exc:
        t230.Tariff.parse(data)
    assert path in errors(exc)


def test_restriction_dates_follow_the_2_2_regex() -> None:
    restrictions = {"start_date": "2015-12-24", "end_date": "2015-12-27"}
    assert t221.TariffRestrictions.parse(restrictions).dump() == restrictions
    with pytest.raises(ValidationError) as exc:
        t221.TariffRestrictions.parse({"start_date": "2015-13-01"})
    assert errors(exc) == {("start_date",)}
    # 2.1.1 gives no date regex: only the length is checked
    assert t211.TariffRestrictions.parse({"start_date": "24-12-2015"}).start_date == "24-12-2015"
    with pytest.raises(ValidationError) as exc:
        t211.TariffRestrictions.parse({"start_date": "2015-12-24T00"})
    assert errors(exc) == {("start_date",)}


def test_required_fields_and_cardinalities() -> None:
    with pytest.raises(ValidationError) as exc:
        t230.Tariff.parse(_tariff_230(elements=[]))
    assert errors(exc) == {("elements",)}
    data = _tariff_230()
    del data["tax_included"]
    with pytest.raises(ValidationError) as exc:
        t230.Tariff.parse(data)
    assert errors(exc) == {("tax_included",)}
    with pytest.raises(ValidationError) as exc:
        t230.Tariff.parse(_tariff_230(country_code="DEU", id="x" * 37))
    assert errors(exc) == {("country_code",), ("id",)}
    with pytest.raises(ValidationError) as exc:
        t221.Tariff.parse({**_tariff_230(), "min_price": {"incl_vat": 1}})
    assert ("min_price", "excl_vat") in errors(exc)


def test_tax_included_values_including_na() -> None:
    for value in ("YES", "NO", "N/A"):
        tariff = t230.Tariff.parse(_tariff_230(tax_included=value))
        assert tariff.dump()["tax_included"] == value
    assert t230.Tariff.parse(_tariff_230(tax_included="N/A")).tax_included is t230.TaxIncluded.NA
    with pytest.raises(ValidationError) as exc:
        t230.Tariff.parse(_tariff_230(tax_included="MAYBE"))
    assert errors(exc) == {("tax_included",)}


def test_price_limit_and_preauthorize_amount() -> None:
    tariff = t230.Tariff.parse(
        _tariff_230(min_price={"before_taxes": 0.5}, preauthorize_amount=25, max_price=None)
    )
    assert tariff.min_price == t230.PriceLimit(before_taxes=Decimal("0.5"))
    assert tariff.preauthorize_amount == Decimal(25)
    assert tariff.dump()["max_price"] is None  # null stays null
    with pytest.raises(ValidationError) as exc:
        t230.Tariff.parse(_tariff_230(min_price={"excl_vat": 0.5}))
    assert ("min_price", "before_taxes") in errors(exc)


def test_vat_absent_differs_from_zero() -> None:
    without = t221.PriceComponent.parse({"type": "ENERGY", "price": 0.25, "step_size": 1})
    zero = t221.PriceComponent.parse({"type": "ENERGY", "price": 0.25, "vat": 0, "step_size": 1})
    assert "vat" not in without.dump()
    assert zero.dump()["vat"] == 0


def test_unknown_fields_are_kept_and_dumped() -> None:
    data = _tariff_230(x_partner_note="hello")
    data["elements"][0]["price_components"][0]["extra"] = {"a": 1}
    assert t230.Tariff.parse(data).dump() == t230.Tariff.parse(data).dump_obj()
    dumped = t230.Tariff.parse(data).dump()
    assert dumped["x_partner_note"] == "hello"
    assert dumped["elements"][0]["price_components"][0]["extra"] == {"a": 1}


def test_2_2_1_reservation_and_current_restrictions() -> None:
    r = t221.TariffRestrictions.parse(
        {"reservation": "RESERVATION_EXPIRES", "min_current": 32, "max_current": 64}
    )
    assert r.reservation is t221.ReservationRestrictionType.RESERVATION_EXPIRES
    with pytest.raises(ValidationError) as exc:
        t221.TariffRestrictions.parse({"reservation": "RESERVATION_OVERTIME"})
    assert errors(exc) == {("reservation",)}


def test_define_once_import_forward() -> None:
    # unchanged classes are the same objects in later versions
    assert t221.DayOfWeek is t211.DayOfWeek
    assert t221.TariffDimensionType is t211.TariffDimensionType
    for name in ("TariffElement", "PriceComponent", "TariffRestrictions"):
        assert OBJECTS["2.3.0"][name] is OBJECTS["2.2.1"][name]
        assert OBJECTS["2.2.1"][name] is not OBJECTS["2.1.1"][name]
    # changed classes are written out again
    assert len({id(OBJECTS[v]["Tariff"]) for v in ("2.1.1", "2.2.1", "2.3.0")}) == 3


@pytest.mark.parametrize("module", [t211, t221, t230])
def test_objects_lists_every_class_of_the_module(module: Any) -> None:
    defined = {
        name
        for name, obj in vars(module).items()
        if isinstance(obj, type)
        and issubclass(obj, OcpiModel)
        and obj.__module__ == module.__name__
    }
    assert defined <= set(module.OBJECTS)
    for name, cls in module.OBJECTS.items():
        assert cls.__name__ == name
    version = {t211: v2_1_1, t221: v2_2_1, t230: v2_3_0}[module]
    for name, cls in module.OBJECTS.items():
        assert version.OBJECTS[name] is cls
