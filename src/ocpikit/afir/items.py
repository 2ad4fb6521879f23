"""The AFIR data items (Commission Implementing Regulation (EU) 2025/655 Annex, Tables A, B
and F, as listed with their OCPI 2.3.0 fields in the EVRoaming Foundation's table "NAP EU
2023/1804 data fields") and how each is found in an OCPI Location.

Each :class:`Item` has an evaluator ``(view) -> (state, source)``; ``state`` is ``present``
(an OCPI field or the ``[afir]`` supplement holds it as is), ``derivable`` (computed from
other fields; ``source`` says from which) or ``missing``. Station-level items that OCPI keeps
on the EVSE are evaluated per EVSE: the mapping builds one DATEX II station per EVSE (OCPI
2.3.0 has no station layer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ocpikit.afir.codes import country_alpha2

__all__ = ["EVSE_ITEMS", "LOCATION_ITEMS", "Item", "View"]

PRESENT, DERIVABLE, MISSING = "present", "derivable", "missing"
Result = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class View:
    """What an evaluator reads: the head Location, one EVSE (None for location items), the
    location's merged supplement and the tariffs by id (of the location's party)."""

    location: Mapping[str, Any]
    evse: Mapping[str, Any] | None
    supplement: Mapping[str, Any]
    tariffs: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Item:
    code: str  # "A1" = Table A item 1
    name: str
    level: str  # AFIR data level: station | point
    ocpi_field: str
    evaluate: Callable[[View], Result]


def _given(value: Any, source: str) -> Result:
    return (PRESENT, source) if value not in (None, "", []) else (MISSING, None)


def _supplemented(
    key: str, fallback: Callable[[View], Result] | None = None
) -> Callable[..., Result]:
    def evaluate(v: View) -> Result:
        if key in v.supplement:
            return PRESENT, f"[afir] {key}"
        return fallback(v) if fallback else (MISSING, None)

    return evaluate


def _location(field: str) -> Callable[[View], Result]:
    return lambda v: _given(v.location.get(field), f"Location.{field}")


def _country(v: View) -> Result:
    code = country_alpha2(str(v.location.get("country", "")))
    if code is None:
        return MISSING, None
    return DERIVABLE, f"Location.country {v.location['country']} (alpha-3) -> {code} (alpha-2)"


def _parking(v: View, what: str) -> list[Mapping[str, Any]]:
    places = list(v.location.get("parking_places") or [])
    if what == "vehicle_types":
        return [p for p in places if p.get("vehicle_types")]
    if what == "dimensions":
        keys = (
            "max_vehicle_weight",
            "max_vehicle_height",
            "max_vehicle_length",
            "max_vehicle_width",
        )
        return [p for p in places if any(p.get(k) is not None for k in keys)]
    return places


def _from_parking(what: str, how: str) -> Callable[[View], Result]:
    def evaluate(v: View) -> Result:
        places = _parking(v, what)
        return (DERIVABLE, how) if places else (MISSING, None)

    return evaluate


def _geo_extra(v: View) -> Result:
    if v.location.get("directions"):
        return PRESENT, "Location.directions"
    for evse in v.location.get("evses") or []:
        for f in ("floor_level", "physical_reference", "directions"):
            if evse.get(f):
                return PRESENT, f"EVSE.{f}"
    return MISSING, None


def _renewable(v: View) -> Result:
    mix = v.location.get("energy_mix")
    return _given(
        (mix and mix.get("is_green_energy") is not None) or None,
        "Location.energy_mix.is_green_energy",
    )


def _operator_name(v: View) -> Result:
    operator = v.location.get("operator") or {}
    return _given(operator.get("name"), "Location.operator.name")


LOCATION_ITEMS: tuple[Item, ...] = (
    Item("A1", "Legal name of the operator", "station", "none (Location.operator has one business name)", _supplemented("legal_name")),
    Item("A2", "Commercial name of the operator", "station", "Location.operator.name", _supplemented("commercial_name", _operator_name)),
    Item("A4", "Service support", "station", "none (no attendance value in Location.facilities)", _supplemented("service_support")),
    Item("A5", "Helpdesk telephone", "station", "Location.help_phone", _location("help_phone")),
    Item("A6", "Facilities offering associated services", "station", "Location.facilities", lambda v: _given(v.location.get("facilities") is not None or None, "Location.facilities")),
    Item("A7", "GNSS geographic location", "station", "Location.coordinates", _location("coordinates")),
    Item("A8", "Additional geographic location information", "station", "EVSE.floor_level, EVSE.physical_reference, Location.directions", _geo_extra),
    Item("A9", "Country", "station", "Location.country", _country),
    Item("A10", "Region (NUTS 1)", "station", "none (Location.state is a name, not a NUTS code)", _supplemented("nuts1")),
    Item("A11", "City or town", "station", "Location.city", _location("city")),
    Item("A12", "Postal code", "station", "Location.postal_code", _location("postal_code")),
    Item("A13", "Address name", "station", "Location.address", _location("address")),
    Item("A14", "Opening time", "station", "Location.opening_times", _location("opening_times")),
    Item("A15", "Time zone", "station", "Location.time_zone", _location("time_zone")),
    Item("A16", "Vehicle-type compatibility", "station", "Location.parking_places[].vehicle_types", _from_parking("vehicle_types", "Location.parking_places[].vehicle_types")),
    Item("A17", "Vehicle specifications permitted", "station", "Location.parking_places[].max_vehicle_* (cm)", _from_parking("dimensions", "Location.parking_places[].max_vehicle_* (cm -> m, kg -> t)")),
    Item("A18", "Number of parking spaces", "station", "Location.parking_places (count)", _from_parking("all", "count of Location.parking_places")),
    Item("A19", "Number of parking spaces for people with disabilities", "station", "Location.parking_places[].vehicle_types DISABLED", _from_parking("all", "count of Location.parking_places with vehicle_types DISABLED")),
    Item("A22", "Other ad-hoc payment options", "station", "none in OCPI 2.3.0", _supplemented("payment_methods")),
    Item("A23", "Payment providers accepted", "station", "none in OCPI 2.3.0", _supplemented("payment_brands")),
    Item("B10", "Electricity supplied is 100 % renewable", "station", "Location.energy_mix.is_green_energy", _renewable),
)  # fmt: skip


def _evse(v: View) -> Mapping[str, Any]:
    assert v.evse is not None
    return v.evse


def _connectors(v: View) -> list[Mapping[str, Any]]:
    return list(_evse(v).get("connectors") or [])


def _capability(name: str, source: str) -> Callable[[View], Result]:
    def evaluate(v: View) -> Result:
        caps = _evse(v).get("capabilities")
        if caps is None:
            return MISSING, None
        return DERIVABLE, f"{source}: {'yes' if name in caps else 'no'} ({name})"

    return evaluate


def _contract_based(v: View) -> Result:
    caps = _evse(v).get("capabilities")
    if caps is None:
        return MISSING, None
    yes = any(c in caps for c in ("RFID_READER", "REMOTE_START_STOP_CAPABLE"))
    return (
        DERIVABLE,
        f"EVSE.capabilities: {'yes' if yes else 'no'} (RFID_READER, REMOTE_START_STOP_CAPABLE)",
    )


def _plug_and_charge(v: View) -> Result:
    names = ("ISO_15118_2_PLUG_AND_CHARGE", "ISO_15118_20_PLUG_AND_CHARGE")
    caps = [c for con in _connectors(v) for c in (con.get("capabilities") or [])]
    if not caps and all(con.get("capabilities") is None for con in _connectors(v)):
        return MISSING, None
    yes = any(c in names for c in caps)
    return (
        DERIVABLE,
        f"Connector.capabilities: {'yes' if yes else 'no'} (ISO_15118_*_PLUG_AND_CHARGE)",
    )


def _point_power(v: View) -> Result:
    if all(isinstance(c.get("max_electric_power"), int) for c in _connectors(v)):
        return PRESENT, "Connector.max_electric_power (W)"
    return DERIVABLE, "Connector.max_voltage x max_amperage (x 3 on AC_3_PHASE), W"


def _ad_hoc_price(v: View) -> Result:
    ids = {t for c in _connectors(v) for t in (c.get("tariff_ids") or [])}
    tariffs = [v.tariffs[t] for t in sorted(ids) if t in v.tariffs]
    if any(t.get("type") == "AD_HOC_PAYMENT" for t in tariffs):
        return PRESENT, "Tariff (type AD_HOC_PAYMENT) of Connector.tariff_ids"
    untyped = [str(t["id"]) for t in tariffs if t.get("type") is None]
    if untyped:
        return DERIVABLE, f"Tariff without type (the price for everyone): {', '.join(untyped)}"
    return MISSING, None


EVSE_ITEMS: tuple[Item, ...] = (
    Item("A3", "Number of recharging points", "station", "count of Location.evses (one station per EVSE)", lambda v: (DERIVABLE, "one station per EVSE: 1")),
    Item("A20", "Payment device with bank card reader", "station", "EVSE.capabilities CHIP_CARD_SUPPORT", _capability("CHIP_CARD_SUPPORT", "EVSE.capabilities")),
    Item("A21", "Payment device with contactless card reader", "station", "EVSE.capabilities CONTACTLESS_CARD_SUPPORT", _capability("CONTACTLESS_CARD_SUPPORT", "EVSE.capabilities")),
    Item("A24", "Contract-based (subscription) payment option", "station", "EVSE.capabilities", _contract_based),
    Item("B1", "Recharging point ID code", "point", "EVSE.evse_id", lambda v: _given(_evse(v).get("evse_id"), "EVSE.evse_id")),
    Item("B2", "Number of connectors", "point", "count of EVSE.connectors", lambda v: (DERIVABLE, f"count of EVSE.connectors: {len(_connectors(v))}")),
    Item("B3", "Type of connector", "point", "Connector.standard", lambda v: (PRESENT, "Connector.standard (code table in docs/afir.md)")),
    Item("B4", "Type of current", "point", "Connector.power_type", lambda v: (DERIVABLE, "Connector.power_type (AC_* -> ac, DC -> dc)")),
    Item("B5", "Recharging station maximum power", "station", "Connector.max_electric_power", lambda v: (DERIVABLE, "largest connector power of the EVSE (one connector at a time) (W)")),
    Item("B6", "Recharging point maximum power", "point", "Connector.max_electric_power", _point_power),
    Item("B7", "Mobility service providers offering contract-based recharging", "station", "EVSE.accepted_service_providers", lambda v: _given(_evse(v).get("accepted_service_providers"), "EVSE.accepted_service_providers")),
    Item("B8", "Plug-and-charge", "point", "Connector.capabilities ISO_15118_*_PLUG_AND_CHARGE", _plug_and_charge),
    Item("B9", "Smart recharging services", "point", "none in OCPI 2.3.0", _supplemented("smart_charging")),
    Item("F1", "Operational status", "point", "EVSE.status", lambda v: (DERIVABLE, "EVSE.status (INOPERATIVE, OUTOFORDER, REMOVED, PLANNED, UNKNOWN: non-operational)")),
    Item("F2", "Availability", "point", "EVSE.status", lambda v: (DERIVABLE, "EVSE.status (CHARGING, BLOCKED: in use; RESERVED: reserved; AVAILABLE: not in use)")),
    Item("F3", "Ad hoc price", "station", "Tariff (type AD_HOC_PAYMENT) via Connector.tariff_ids", _ad_hoc_price),
)  # fmt: skip
