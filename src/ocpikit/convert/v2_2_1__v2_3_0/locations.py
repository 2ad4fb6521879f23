"""Locations between OCPI 2.2.1 and 2.3.0 (DIGEST §6.3, §7.1; 2.3.0 mod_locations).

Up (2.2.1 → 2.3.0) is the identity: every 2.2.1 Location is a valid 2.3.0 Location, so nothing
is registered in ``UP``.

Down (2.3.0 → 2.2.1) loses the AFIR additions and the OpenEnum freedom:

- Location ``parking_places`` and ``help_phone``; EVSE ``parking`` and
  ``accepted_service_providers``; Connector ``capabilities`` are dropped;
- list values unknown to 2.2.1 (Facility, Capability, ParkingRestriction incl. EMPLOYEES/TAXIS/
  TENANTS) are dropped; an unknown ``parking_type`` is dropped;
- an unknown ImageCategory becomes ``OTHER`` (required field); an unknown PublishTokenType
  ``type`` (e.g. EMAID) becomes ``OTHER``; an EnvironmentalImpact of an unknown category is
  dropped;
- a connector with a standard 2.2.1 does not know (MCS, SAE_J3400, others) is dropped, and an
  EVSE left without connectors with it.

The 2.3.0 → 2.2.1 converters of BusinessDetails and Image are used by the Credentials converter.
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path
from ocpikit.models.v2_2_1 import locations as old

__all__ = [
    "DOWN",
    "RULES",
    "UP",
    "down_business_details",
    "down_connector",
    "down_energy_mix",
    "down_evse",
    "down_image",
    "down_location",
]

_DOWN = "2.3.0>2.2.1"


def _down(obj: str, fld: str, source: str, target: str, kind: Any, note: str) -> LossRule:
    return LossRule(f"{_DOWN} {obj}.{fld}", obj, fld, source, target, kind, note)


R_PARKING_PLACES = _down(
    "Location",
    "parking_places",
    "parking_places",
    "(absent)",
    "dropped",
    "AFIR parking data does not exist in 2.2.1",
)
R_HELP_PHONE = _down(
    "Location", "help_phone", "help_phone", "(absent)", "dropped", "no help phone in 2.2.1"
)
R_FACILITY = _down(
    "Location",
    "facilities",
    "Facility (unknown value)",
    "(dropped value)",
    "dropped",
    "OpenEnum values unknown to 2.2.1 are left out",
)
R_PARKING_TYPE = _down(
    "Location",
    "parking_type",
    "ParkingType (unknown value)",
    "(absent)",
    "dropped",
    "OpenEnum value unknown to 2.2.1; parking_type is optional and left out",
)
R_PUBLISH_TYPE = _down(
    "PublishTokenType",
    "type",
    "TokenType EMAID or unknown",
    "OTHER",
    "renamed-value",
    "2.2.1 TokenType is closed and lacks EMAID",
)
R_IMAGE_CATEGORY = _down(
    "Image",
    "category",
    "ImageCategory (unknown value)",
    "OTHER",
    "renamed-value",
    "required closed enum in 2.2.1",
)
R_IMPACT = _down(
    "EnergyMix",
    "environ_impact",
    "EnvironmentalImpactCategory (unknown value)",
    "(entry dropped)",
    "dropped",
    "closed enum in 2.2.1",
)
R_EVSE_PARKING = _down(
    "EVSE", "parking", "parking", "(absent)", "dropped", "AFIR EVSE-parking links are lost"
)
R_ACCEPTED = _down(
    "EVSE",
    "accepted_service_providers",
    "accepted_service_providers",
    "(absent)",
    "dropped",
    "AFIR/NAP field, no 2.2.1 equivalent",
)
R_CAPABILITY = _down(
    "EVSE",
    "capabilities",
    "Capability (unknown value)",
    "(dropped value)",
    "dropped",
    "OpenEnum values unknown to 2.2.1 are left out",
)
R_RESTRICTION = _down(
    "EVSE",
    "parking_restrictions",
    "ParkingRestriction EMPLOYEES/TAXIS/TENANTS or unknown",
    "(dropped value)",
    "dropped",
    "2.2.1 knows only EV_ONLY, PLUGGED, DISABLED, CUSTOMERS, MOTORCYCLES",
)
R_CONNECTOR_CAPABILITIES = _down(
    "Connector",
    "capabilities",
    "capabilities",
    "(absent)",
    "dropped",
    "Plug & Charge capabilities do not exist in 2.2.1",
)
R_CONNECTOR_STANDARD = _down(
    "Connector",
    "standard",
    "ConnectorType MCS, SAE_J3400 or unknown",
    "(connector dropped)",
    "dropped",
    "the standard is required and has no 2.2.1 value, so the connector is left out",
)
R_EVSE_EMPTY = _down(
    "EVSE",
    "connectors",
    "EVSE whose connectors were all dropped",
    "(EVSE dropped)",
    "dropped",
    "an EVSE needs at least one connector",
)

RULES: list[LossRule] = [
    R_PARKING_PLACES,
    R_HELP_PHONE,
    R_FACILITY,
    R_PARKING_TYPE,
    R_PUBLISH_TYPE,
    R_IMAGE_CATEGORY,
    R_IMPACT,
    R_EVSE_PARKING,
    R_ACCEPTED,
    R_CAPABILITY,
    R_RESTRICTION,
    R_CONNECTOR_CAPABILITIES,
    R_CONNECTOR_STANDARD,
    R_EVSE_EMPTY,
]

_FACILITIES = {m.value for m in old.Facility}
_PARKING_TYPES = {m.value for m in old.ParkingType}
_TOKEN_TYPES = {m.value for m in old.TokenType}
_IMAGE_CATEGORIES = {m.value for m in old.ImageCategory}
_IMPACTS = {m.value for m in old.EnvironmentalImpactCategory}
_CAPABILITIES = {m.value for m in old.Capability}
_RESTRICTIONS = {m.value for m in old.ParkingRestriction}
_STANDARDS = {m.value for m in old.ConnectorType}


def _drop(out: dict[str, Any], key: str, rule: LossRule, ctx: Context, path: str) -> None:
    if key in out:
        value = out.pop(key)
        if value is not None and value != []:
            ctx.lose(rule, join_path(path, key))


def _filter(
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


def _map_list(out: dict[str, Any], key: str, fn: Converter, ctx: Context, path: str) -> None:
    items = out.get(key)
    if isinstance(items, list):
        base = join_path(path, key)
        out[key] = [
            fn(item, ctx, join_path(base, i)) if isinstance(item, dict) else item
            for i, item in enumerate(items)
        ]


def _map_one(out: dict[str, Any], key: str, fn: Converter, ctx: Context, path: str) -> None:
    if isinstance(out.get(key), dict):
        out[key] = fn(out[key], ctx, join_path(path, key))


def down_image(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.3.0 → 2.2.1 Image: an unknown category becomes OTHER."""
    out = dict(data)
    category = out.get("category")
    if isinstance(category, str) and category not in _IMAGE_CATEGORIES:
        ctx.lose(R_IMAGE_CATEGORY, join_path(path, "category"), category)
        out["category"] = "OTHER"
    return out


def down_business_details(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.3.0 → 2.2.1 BusinessDetails: only its logo Image can change."""
    out = dict(data)
    _map_one(out, "logo", down_image, ctx, path)
    return out


def down_energy_mix(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.3.0 → 2.2.1 EnergyMix: impacts of an unknown category are dropped."""
    out = dict(data)
    impacts = out.get("environ_impact")
    if isinstance(impacts, list):
        kept = []
        for i, impact in enumerate(impacts):
            category = impact.get("category") if isinstance(impact, dict) else None
            if isinstance(category, str) and category not in _IMPACTS:
                ctx.lose(R_IMPACT, join_path(join_path(path, "environ_impact"), i), category)
                continue
            kept.append(impact)
        out["environ_impact"] = kept
    return out


def _down_publish_token(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    token_type = out.get("type")
    if isinstance(token_type, str) and token_type not in _TOKEN_TYPES:
        ctx.lose(R_PUBLISH_TYPE, join_path(path, "type"), token_type)
        out["type"] = "OTHER"
    return out


def down_connector(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.3.0 → 2.2.1 Connector: ``capabilities`` dropped. An unknown standard is left for the
    EVSE to drop (a lone Connector with one fails 2.2.1 validation)."""
    out = dict(data)
    _drop(out, "capabilities", R_CONNECTOR_CAPABILITIES, ctx, path)
    return out


def down_evse(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.3.0 → 2.2.1 EVSE (see the module docstring)."""
    out = dict(data)
    _drop(out, "parking", R_EVSE_PARKING, ctx, path)
    _drop(out, "accepted_service_providers", R_ACCEPTED, ctx, path)
    _filter(out, "capabilities", _CAPABILITIES, R_CAPABILITY, ctx, path)
    _filter(out, "parking_restrictions", _RESTRICTIONS, R_RESTRICTION, ctx, path)
    _map_list(out, "images", down_image, ctx, path)
    connectors = out.get("connectors")
    if isinstance(connectors, list):
        kept = []
        base = join_path(path, "connectors")
        for i, connector in enumerate(connectors):
            where = join_path(base, i)
            if not isinstance(connector, dict):
                kept.append(connector)
                continue
            standard = connector.get("standard")
            if isinstance(standard, str) and standard not in _STANDARDS:
                ctx.lose(R_CONNECTOR_STANDARD, where, standard)
                continue
            kept.append(down_connector(connector, ctx, where))
        out["connectors"] = kept
    return out


def down_location(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.3.0 → 2.2.1 Location (see the module docstring)."""
    out = dict(data)
    _drop(out, "parking_places", R_PARKING_PLACES, ctx, path)
    _drop(out, "help_phone", R_HELP_PHONE, ctx, path)
    _filter(out, "facilities", _FACILITIES, R_FACILITY, ctx, path)
    parking_type = out.get("parking_type")
    if isinstance(parking_type, str) and parking_type not in _PARKING_TYPES:
        ctx.lose(R_PARKING_TYPE, join_path(path, "parking_type"), parking_type)
        del out["parking_type"]
    _map_list(out, "publish_allowed_to", _down_publish_token, ctx, path)
    _map_list(out, "images", down_image, ctx, path)
    for key in ("operator", "suboperator", "owner"):
        _map_one(out, key, down_business_details, ctx, path)
    _map_one(out, "energy_mix", down_energy_mix, ctx, path)
    evses = out.get("evses")
    if isinstance(evses, list):
        kept = []
        base = join_path(path, "evses")
        for i, evse in enumerate(evses):
            if not isinstance(evse, dict):
                kept.append(evse)
                continue
            converted = down_evse(evse, ctx, join_path(base, i))
            if converted.get("connectors") == [] and evse.get("connectors") != []:
                ctx.lose(R_EVSE_EMPTY, join_path(base, i), str(evse.get("uid")))
                continue
            kept.append(converted)
        out["evses"] = kept
    return out


UP: dict[str, Converter] = {}
DOWN: dict[str, Converter] = {
    "Location": down_location,
    "EVSE": down_evse,
    "Connector": down_connector,
    "Image": down_image,
    "BusinessDetails": down_business_details,
    "EnergyMix": down_energy_mix,
    "PublishTokenType": _down_publish_token,
}
