"""Locations between OCPI 2.1.1 and 2.2.1 (DIGEST §6.3; 2.1.1 mod_locations, 2.2.1
mod_locations).

Up (2.1.1 → 2.2.1):

- the owner (``country_code``/``party_id``) comes from the context, else placeholders
  ``XX``/``XXX`` with a *defaulted* loss;
- ``type`` → ``parking_type`` (the four shared values 1:1; ``UNKNOWN`` is 2.1.1's default and
  means "absent"; ``OTHER`` has no 2.2 value and is dropped);
- ``publish: true`` (2.1.1 had no private locations: whatever was pushed was public);
- a missing ``time_zone`` is derived from ``country`` where the country has one zone, else
  ``UTC``; both are reported, since tariff restrictions and opening hours depend on it;
- Hours get ``twentyfourseven`` (reported when filled in); a 2.1.1 ``24:00`` period bound
  becomes ``23:59``;
- Connector ``voltage``/``amperage``/``tariff_id`` → ``max_voltage``/``max_amperage``/
  ``tariff_ids``; EnvironmentalImpact ``source`` → ``category``;
- an empty ``postal_code`` (what we send down for "none") goes back to absent.

Down (2.2.1 → 2.1.1):

- ``publish: false``, ``publish_allowed_to``, ``state``, ``max_electric_power`` and all but one
  tariff id are dropped; ``address`` is truncated to 45 characters;
- ``parking_type`` → ``type`` (ALONG_MOTORWAY/ON_DRIVEWAY → OTHER, absent → UNKNOWN);
- a missing ``postal_code`` (required in 2.1.1) becomes ``""``;
- coordinates are rounded or padded to exactly six decimals;
- enum values unknown to 2.1.1 are dropped from lists (Facility, Capability); a connector with a
  standard 2.1.1 does not know is dropped, and an EVSE left without connectors with it;
  two-phase power types become ``AC_1_PHASE``;
- DateTime fractions are cut (2.1.1 has none).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path
from ocpikit.models.v2_1_1 import locations as old

__all__ = [
    "DOWN",
    "RULES",
    "UP",
    "down_connector",
    "down_energy_mix",
    "down_evse",
    "down_hours",
    "down_location",
    "strip_fraction",
    "time_zone_of",
    "up_connector",
    "up_energy_mix",
    "up_evse",
    "up_hours",
    "up_location",
]

_UP = "2.1.1>2.2.1"
_DOWN = "2.2.1>2.1.1"


def _rule(
    direction: str, obj: str, fld: str, source: str, target: str, kind: Any, note: str
) -> LossRule:
    return LossRule(f"{direction} {obj}.{fld}", obj, fld, source, target, kind, note)


def _up(obj: str, fld: str, source: str, target: str, kind: Any, note: str) -> LossRule:
    return _rule(_UP, obj, fld, source, target, kind, note)


def _down(obj: str, fld: str, source: str, target: str, kind: Any, note: str) -> LossRule:
    return _rule(_DOWN, obj, fld, source, target, kind, note)


R_OWNER = _up(
    "Location",
    "country_code/party_id",
    "(URL or credentials)",
    "country_code, party_id",
    "defaulted",
    "2.1.1 Locations carry no owner; from the context, else XX/XXX placeholders",
)
R_TYPE_UP = _up(
    "Location",
    "type",
    "type OTHER",
    "parking_type",
    "dropped",
    "LocationType OTHER has no ParkingType; parking_type is left out",
)
R_TIME_ZONE = _up(
    "Location",
    "time_zone",
    "(absent)",
    "time_zone",
    "defaulted",
    "required in 2.2; derived from the country when it has a single zone, else UTC",
)
R_HOURS_24 = _up(
    "RegularHours",
    "period_begin/period_end",
    "hh:mm up to 29:59",
    "hh:mm up to 23:59",
    "approximated",
    "2.1.1 admits 24:00 as end of day; 2.2 does not, so it becomes 23:59",
)
R_HOURS_FLAG = _up(
    "Hours",
    "twentyfourseven",
    "(absent: the regular_hours side of the choice)",
    "twentyfourseven",
    "defaulted",
    "always present from 2.2; filled in from whether regular_hours are given",
)
R_PUBLISH = _down(
    "Location",
    "publish",
    "publish false",
    "(absent)",
    "dropped",
    "2.1.1 has no private Locations; the receiver will treat this one as public",
)
R_PUBLISH_TO = _down(
    "Location",
    "publish_allowed_to",
    "publish_allowed_to",
    "(absent)",
    "dropped",
    "2.1.1 cannot restrict visibility to tokens",
)
R_STATE = _down("Location", "state", "state", "(absent)", "dropped", "2.1.1 has no state field")
R_ADDRESS = _down(
    "Location",
    "address",
    "string(255)",
    "string(45)",
    "truncated",
    "2.1.1 address is string(45); cut to 45 characters",
)
R_POSTAL = _down(
    "Location",
    "postal_code",
    "(absent)",
    'postal_code ""',
    "defaulted",
    "required in 2.1.1; an empty string stands for 'no postal code'",
)
R_TYPE_DOWN = _down(
    "Location",
    "parking_type",
    "ALONG_MOTORWAY, ON_DRIVEWAY",
    "type OTHER",
    "renamed-value",
    "no 2.1.1 LocationType for these; OTHER",
)
R_FACILITY = _down(
    "Location",
    "facilities",
    "Facility (2.2 values)",
    "(dropped value)",
    "dropped",
    "BIKE_SHARING, PARKING_LOT, TRAM_STOP, METRO_STATION do not exist in 2.1.1",
)
R_GEO = _down(
    "GeoLocation",
    "latitude/longitude",
    "5-7 decimals",
    "6 decimals",
    "approximated",
    "2.1.1 wants exactly six decimals; a seventh is rounded away",
)
R_HOURS_247 = _down(
    "Hours",
    "regular_hours",
    "regular_hours with twentyfourseven true",
    "(absent)",
    "dropped",
    "2.1.1 Hours is either regular_hours or twentyfourseven",
)
R_CAPABILITY = _down(
    "EVSE",
    "capabilities",
    "Capability (2.2 values)",
    "(dropped value)",
    "dropped",
    "payment-terminal, preferences, token-group and connector-required capabilities are unknown",
)
R_CONNECTOR_STANDARD = _down(
    "Connector",
    "standard",
    "ConnectorType (2.2 values)",
    "(connector dropped)",
    "dropped",
    "the standard is required and has no 2.1.1 value, so the connector is left out",
)
R_EVSE_EMPTY = _down(
    "EVSE",
    "connectors",
    "EVSE whose connectors were all dropped",
    "(EVSE dropped)",
    "dropped",
    "an EVSE needs at least one connector",
)
R_POWER = _down(
    "Connector",
    "power_type",
    "AC_2_PHASE, AC_2_PHASE_SPLIT",
    "AC_1_PHASE",
    "renamed-value",
    "2.1.1 has no two-phase power type",
)
R_MAX_POWER = _down(
    "Connector",
    "max_electric_power",
    "max_electric_power",
    "(absent)",
    "dropped",
    "2.1.1 has no power limit below voltage x amperage",
)
R_TARIFFS = _down(
    "Connector",
    "tariff_ids",
    "tariff_ids (several)",
    "tariff_id (one)",
    "dropped",
    "2.1.1 connectors reference one tariff; the first is kept",
)
R_DATETIME = _down(
    "DateTime",
    "(any timestamp)",
    "fractional seconds",
    "whole seconds",
    "truncated",
    "2.1.1 timestamps carry no fractions",
)

RULES: list[LossRule] = [
    R_OWNER,
    R_TYPE_UP,
    R_TIME_ZONE,
    R_HOURS_24,
    R_HOURS_FLAG,
    R_PUBLISH,
    R_PUBLISH_TO,
    R_STATE,
    R_ADDRESS,
    R_POSTAL,
    R_TYPE_DOWN,
    R_FACILITY,
    R_GEO,
    R_HOURS_247,
    R_CAPABILITY,
    R_CONNECTOR_STANDARD,
    R_EVSE_EMPTY,
    R_POWER,
    R_MAX_POWER,
    R_TARIFFS,
    R_DATETIME,
]

# --- helpers ---------------------------------------------------------------------------------

#: ISO 3166-1 alpha-3 → IANA zone, only for countries that have exactly one zone
_SINGLE_ZONE: dict[str, str] = {
    "ALB": "Europe/Tirane",
    "AND": "Europe/Andorra",
    "AUT": "Europe/Vienna",
    "BEL": "Europe/Brussels",
    "BGR": "Europe/Sofia",
    "BIH": "Europe/Sarajevo",
    "CHE": "Europe/Zurich",
    "CZE": "Europe/Prague",
    "DEU": "Europe/Berlin",
    "DNK": "Europe/Copenhagen",
    "EST": "Europe/Tallinn",
    "FIN": "Europe/Helsinki",
    "FRA": "Europe/Paris",
    "GBR": "Europe/London",
    "GRC": "Europe/Athens",
    "HRV": "Europe/Zagreb",
    "HUN": "Europe/Budapest",
    "IRL": "Europe/Dublin",
    "ISL": "Atlantic/Reykjavik",
    "ITA": "Europe/Rome",
    "LIE": "Europe/Vaduz",
    "LTU": "Europe/Vilnius",
    "LUX": "Europe/Luxembourg",
    "LVA": "Europe/Riga",
    "MCO": "Europe/Monaco",
    "MKD": "Europe/Skopje",
    "MLT": "Europe/Malta",
    "MNE": "Europe/Podgorica",
    "NLD": "Europe/Amsterdam",
    "NOR": "Europe/Oslo",
    "POL": "Europe/Warsaw",
    "ROU": "Europe/Bucharest",
    "SMR": "Europe/San_Marino",
    "SRB": "Europe/Belgrade",
    "SVK": "Europe/Bratislava",
    "SVN": "Europe/Ljubljana",
    "SWE": "Europe/Stockholm",
    "JPN": "Asia/Tokyo",
    "KOR": "Asia/Seoul",
    "SGP": "Asia/Singapore",
    "ISR": "Asia/Jerusalem",
    "IND": "Asia/Kolkata",
    "ZAF": "Africa/Johannesburg",
}


def time_zone_of(country: object) -> str | None:
    """The IANA zone of an ISO 3166-1 alpha-3 country with a single zone, else ``None``."""
    if not isinstance(country, str):
        return None
    return _SINGLE_ZONE.get(country.upper())


_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)(.*)$")


def strip_fraction(value: Any, ctx: Context, path: str) -> Any:
    """Cut fractional seconds from a DateTime string; report a loss if they were not zero."""
    if not isinstance(value, str):
        return value
    match = _FRACTION.match(value)
    if match is None:
        return value
    head, fraction, tail = match.groups()
    if fraction.strip("0"):
        ctx.lose(R_DATETIME, path, value)
    return head + (tail or "Z")


def _strip_fields(out: dict[str, Any], keys: tuple[str, ...], ctx: Context, path: str) -> None:
    for key in keys:
        if key in out:
            out[key] = strip_fraction(out[key], ctx, join_path(path, key))


def _each(
    out: dict[str, Any], key: str, fn: Converter, ctx: Context, path: str
) -> list[Any] | None:
    """Apply ``fn`` to each dict of the list ``out[key]`` (if it is a list)."""
    items = out.get(key)
    if not isinstance(items, list):
        return None
    base = join_path(path, key)
    return [
        fn(item, ctx, join_path(base, i)) if isinstance(item, dict) else item
        for i, item in enumerate(items)
    ]


def _map_list(out: dict[str, Any], key: str, fn: Converter, ctx: Context, path: str) -> None:
    converted = _each(out, key, fn, ctx, path)
    if converted is not None:
        out[key] = converted


def _six_decimals(value: Any, ctx: Context, path: str) -> Any:
    if not isinstance(value, str) or "." not in value:
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    six = number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
    if six != number:
        ctx.lose(R_GEO, path, value)
    return f"{six:.6f}"


def _down_geo(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    for key in ("latitude", "longitude"):
        if key in out:
            out[key] = _six_decimals(out[key], ctx, join_path(path, key))
    return out


def _filter_enum(
    out: dict[str, Any], key: str, known: set[str], rule: LossRule, ctx: Context, path: str
) -> None:
    values = out.get(key)
    if not isinstance(values, list):
        return
    kept = []
    for i, value in enumerate(values):
        if value in known:
            kept.append(value)
        else:
            ctx.lose(rule, join_path(join_path(path, key), i), str(value))
    out[key] = kept


# --- EnergyMix -------------------------------------------------------------------------------


def _rename_key(item: Any, old_key: str, new_key: str) -> Any:
    if not isinstance(item, dict) or old_key not in item:
        return item
    return {(new_key if k == old_key else k): v for k, v in item.items()}


def _up_impact(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out: dict[str, Any] = _rename_key(data, "source", "category")
    return dict(out)


def _down_impact(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out: dict[str, Any] = _rename_key(data, "category", "source")
    return dict(out)


def up_energy_mix(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 → 2.2.1 EnergyMix: ``environ_impact[].source`` → ``category`` (lossless)."""
    out = dict(data)
    if isinstance(out.get("environ_impact"), list):
        out["environ_impact"] = [
            _rename_key(i, "source", "category") for i in out["environ_impact"]
        ]
    return out


def down_energy_mix(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 → 2.1.1 EnergyMix: ``environ_impact[].category`` → ``source`` (lossless)."""
    out = dict(data)
    if isinstance(out.get("environ_impact"), list):
        out["environ_impact"] = [
            _rename_key(i, "category", "source") for i in out["environ_impact"]
        ]
    return out


# --- Hours -----------------------------------------------------------------------------------


def _up_hh_mm(value: Any, ctx: Context, path: str) -> Any:
    if isinstance(value, str) and len(value) == 5 and value[:2].isdigit() and value[:2] >= "24":
        ctx.lose(R_HOURS_24, path, value)
        return "23:59"
    return value


def _up_regular_hours(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    for key in ("period_begin", "period_end"):
        if key in out:
            out[key] = _up_hh_mm(out[key], ctx, join_path(path, key))
    return out


def _down_period(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    _strip_fields(out, ("period_begin", "period_end"), ctx, path)
    return out


def up_hours(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 → 2.2.1 Hours: the choice becomes an explicit ``twentyfourseven`` (reported when it
    had to be filled in, since the way down keeps it)."""
    out = dict(data)
    if out.get("twentyfourseven") is None:
        out["twentyfourseven"] = not out.get("regular_hours")
        ctx.lose(R_HOURS_FLAG, join_path(path, "twentyfourseven"), str(out["twentyfourseven"]))
    _map_list(out, "regular_hours", _up_regular_hours, ctx, path)
    return out


def down_hours(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 → 2.1.1 Hours: ``twentyfourseven: true`` cannot come with regular hours in 2.1.1;
    ``twentyfourseven: false`` next to regular hours is kept (the 2.1.1 spec's own example,
    mod_locations §4.19.1, has that shape)."""
    out = dict(data)
    if out.get("twentyfourseven") is True:
        if out.get("regular_hours"):
            ctx.lose(R_HOURS_247, join_path(path, "regular_hours"))
        out.pop("regular_hours", None)
    for key in ("exceptional_openings", "exceptional_closings"):
        _map_list(out, key, _down_period, ctx, path)
    return out


# --- Connector -------------------------------------------------------------------------------

_RENAMES_UP = {"voltage": "max_voltage", "amperage": "max_amperage"}
_RENAMES_DOWN = {v: k for k, v in _RENAMES_UP.items()}


def up_connector(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 → 2.2.1 Connector: renamed limits, ``tariff_id`` → ``tariff_ids`` (lossless)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "tariff_id":
            if value is not None:
                out["tariff_ids"] = [value]
        else:
            out[_RENAMES_UP.get(key, key)] = value
    return out


_OLD_STANDARDS = {m.value for m in old.ConnectorType}
_OLD_POWER = {m.value for m in old.PowerType}


def down_connector(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 → 2.1.1 Connector. A standard unknown to 2.1.1 is left for the EVSE to drop."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "max_electric_power":
            ctx.lose(R_MAX_POWER, join_path(path, key), str(value))
        elif key == "tariff_ids":
            ids = value if isinstance(value, list) else []
            if ids:
                out["tariff_id"] = ids[0]
            if len(ids) > 1:
                ctx.lose(R_TARIFFS, join_path(path, key), ", ".join(map(str, ids[1:])))
        elif key == "power_type" and isinstance(value, str) and value not in _OLD_POWER:
            if value.startswith("AC_2_PHASE"):
                ctx.lose(R_POWER, join_path(path, key), value)
                out[key] = "AC_1_PHASE"
            else:
                out[key] = value
        elif key == "last_updated":
            out[key] = strip_fraction(value, ctx, join_path(path, key))
        else:
            out[_RENAMES_DOWN.get(key, key)] = value
    return out


# --- EVSE ------------------------------------------------------------------------------------


def up_evse(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 → 2.2.1 EVSE: its connectors change; the rest is the same."""
    out = dict(data)
    _map_list(out, "connectors", up_connector, ctx, path)
    return out


_OLD_CAPABILITIES = {m.value for m in old.Capability}


def down_evse(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 → 2.1.1 EVSE: drop 2.2-only capabilities and connectors of unknown standards."""
    out = dict(data)
    _filter_enum(out, "capabilities", _OLD_CAPABILITIES, R_CAPABILITY, ctx, path)
    connectors = out.get("connectors")
    if isinstance(connectors, list):
        kept = []
        base = join_path(path, "connectors")
        for i, connector in enumerate(connectors):
            where = join_path(base, i)
            if isinstance(connector, dict):
                standard = connector.get("standard")
                if isinstance(standard, str) and standard not in _OLD_STANDARDS:
                    ctx.lose(R_CONNECTOR_STANDARD, where, standard)
                    continue
                kept.append(down_connector(connector, ctx, where))
            else:
                kept.append(connector)
        out["connectors"] = kept
    if isinstance(out.get("coordinates"), dict):
        out["coordinates"] = _down_geo(out["coordinates"], ctx, join_path(path, "coordinates"))
    _map_list(out, "status_schedule", _down_period, ctx, path)
    _strip_fields(out, ("last_updated",), ctx, path)
    return out


# --- Location --------------------------------------------------------------------------------

_TYPE_TO_PARKING = {
    "ON_STREET": "ON_STREET",
    "PARKING_GARAGE": "PARKING_GARAGE",
    "UNDERGROUND_GARAGE": "UNDERGROUND_GARAGE",
    "PARKING_LOT": "PARKING_LOT",
}
_OLD_FACILITIES = {m.value for m in old.Facility}


def up_location(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 → 2.2.1 Location (see the module docstring for every rule)."""
    cc, pid = ctx.country_code, ctx.party_id
    if cc is None or pid is None:
        ctx.lose(R_OWNER, join_path(path, "country_code"), "no owner in the context")
    out: dict[str, Any] = {"country_code": cc or "XX", "party_id": pid or "XXX"}
    for key, value in data.items():
        if key in ("country_code", "party_id"):
            continue  # a 2.1.1 peer's extension field: the context wins
        if key == "type":
            if value in _TYPE_TO_PARKING:
                out["parking_type"] = _TYPE_TO_PARKING[value]
            elif value == "OTHER":
                ctx.lose(R_TYPE_UP, join_path(path, key), str(value))
            continue
        if key == "postal_code" and value == "":
            continue
        out[key] = value
    out.setdefault("publish", True)
    if not out.get("time_zone"):
        zone = time_zone_of(out.get("country"))
        out["time_zone"] = zone or "UTC"
        ctx.lose(R_TIME_ZONE, join_path(path, "time_zone"), out["time_zone"])
    _map_list(out, "evses", up_evse, ctx, path)
    if isinstance(out.get("opening_times"), dict):
        out["opening_times"] = up_hours(out["opening_times"], ctx, join_path(path, "opening_times"))
    if isinstance(out.get("energy_mix"), dict):
        out["energy_mix"] = up_energy_mix(out["energy_mix"], ctx, join_path(path, "energy_mix"))
    return out


def down_location(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 → 2.1.1 Location (see the module docstring for every rule)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        where = join_path(path, key)
        if key in ("country_code", "party_id"):
            continue  # carried by the 2.1.1 URL
        if key == "publish":
            if value is False:
                ctx.lose(R_PUBLISH, where)
            continue
        if key == "publish_allowed_to":
            if value:
                ctx.lose(R_PUBLISH_TO, where)
            continue
        if key == "state":
            if value is not None:
                ctx.lose(R_STATE, where, str(value))
            continue
        if key == "parking_type":
            if value in _TYPE_TO_PARKING:
                out["type"] = value
            elif value is not None:
                ctx.lose(R_TYPE_DOWN, where, str(value))
                out["type"] = "OTHER"
            continue
        if key == "address" and isinstance(value, str) and len(value) > 45:
            ctx.lose(R_ADDRESS, where, value)
            out[key] = value[:45]
            continue
        out[key] = value
    out.setdefault("type", "UNKNOWN")
    if out.get("postal_code") is None:
        ctx.lose(R_POSTAL, join_path(path, "postal_code"))
        out["postal_code"] = ""
    _filter_enum(out, "facilities", _OLD_FACILITIES, R_FACILITY, ctx, path)
    if isinstance(out.get("coordinates"), dict):
        out["coordinates"] = _down_geo(out["coordinates"], ctx, join_path(path, "coordinates"))
    _map_list(out, "related_locations", _down_geo, ctx, path)
    evses = _each(out, "evses", down_evse, ctx, path)
    if evses is not None:
        kept = []
        for i, evse in enumerate(evses):
            if isinstance(evse, dict) and evse.get("connectors") == []:
                ctx.lose(R_EVSE_EMPTY, join_path(join_path(path, "evses"), i), str(evse.get("uid")))
                continue
            kept.append(evse)
        out["evses"] = kept
    if isinstance(out.get("opening_times"), dict):
        out["opening_times"] = down_hours(
            out["opening_times"], ctx, join_path(path, "opening_times")
        )
    if isinstance(out.get("energy_mix"), dict):
        out["energy_mix"] = down_energy_mix(out["energy_mix"], ctx, join_path(path, "energy_mix"))
    _strip_fields(out, ("last_updated",), ctx, path)
    return out


UP: dict[str, Converter] = {
    "Location": up_location,
    "EVSE": up_evse,
    "Connector": up_connector,
    "Hours": up_hours,
    "RegularHours": _up_regular_hours,
    "EnergyMix": up_energy_mix,
    "EnvironmentalImpact": _up_impact,
}
DOWN: dict[str, Converter] = {
    "Location": down_location,
    "EVSE": down_evse,
    "Connector": down_connector,
    "Hours": down_hours,
    "EnergyMix": down_energy_mix,
    "EnvironmentalImpact": _down_impact,
    "GeoLocation": _down_geo,
    "AdditionalGeoLocation": _down_geo,
    "ExceptionalPeriod": _down_period,
    "StatusSchedule": _down_period,
}
