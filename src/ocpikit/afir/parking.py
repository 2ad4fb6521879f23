"""OCPI 2.3.0 ``Location.parking_places`` as DATEX II ``dedicatedParkingSpaces`` of the site
(Mobilithek profile 01-00-00): AFIR Table A items 16 to 19 (vehicle types, vehicle limits,
number of parking spaces, spaces for people with disabilities).

One OCPI Parking is one parking space (``numberOfSpaces`` 1). Units: OCPI gives vehicle and
space sizes in cm and weights in kg (mod_locations §Parking); DATEX II ``MetresAsFloat`` is m and
``Tonnes`` t, so sizes / 100 and weights / 1000. A limit is written as ``lessThanOrEqualTo``
(weight: ``maximumPermitted``). Vehicle types: see :data:`VEHICLE_TYPES`; ``DISABLED`` is not
a vehicle but a user: ``userSpecific`` ``personsWithDisabilities``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["VEHICLE_TYPES", "parking_spaces"]

#: OCPI ``VehicleType`` → DATEX II ``VehicleTypeEnum``
VEHICLE_TYPES: dict[str, str] = {
    "MOTORCYCLE": "motorcycle",
    "PERSONAL_VEHICLE": "car",
    "PERSONAL_VEHICLE_WITH_TRAILER": "carWithTrailer",
    "VAN": "van",
    "SEMI_TRACTOR": "articulatedVehicle",
    "RIGID": "lorry",
    "TRUCK_WITH_TRAILER": "heavyGoodsVehicleWithTrailer",
    "BUS": "bus",
}

_LIMITS = (
    ("max_vehicle_height", "heightCharacteristic", "vehicleHeight"),
    ("max_vehicle_length", "lengthCharacteristic", "vehicleLength"),
    ("max_vehicle_width", "widthCharacteristic", "vehicleWidth"),
)


def _vehicles(place: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    types = [VEHICLE_TYPES.get(str(t)) for t in place.get("vehicle_types") or []]
    if any(types):
        out["vehicleType"] = [{"value": t} for t in dict.fromkeys(t for t in types if t)]
    less_or_equal = {"value": "lessThanOrEqualTo"}
    for field, key, value_key in _LIMITS:
        if place.get(field) is not None:
            out[key] = [{"comparisonOperator": less_or_equal, value_key: float(place[field]) / 100}]
    if place.get("max_vehicle_weight") is not None:
        out["grossWeightCharacteristic"] = [
            {
                "comparisonOperator": less_or_equal,
                "grossVehicleWeight": float(place["max_vehicle_weight"]) / 1000,
                "typeOfWeight": {"value": "maximumPermitted"},
            }
        ]
    return out


def parking_spaces(loc: Mapping[str, Any], owner_id: str) -> list[dict[str, Any]]:
    """The site's ``dedicatedParkingSpaces`` (ids ``<site>-parking-<OCPI parking id>``)."""
    spaces = []
    for place in loc.get("parking_places") or []:
        space: dict[str, Any] = {
            "idG": f"{owner_id}-parking-{place['id']}",
            "versionG": "1",
            "numberOfSpaces": 1,
        }
        if "DISABLED" in (place.get("vehicle_types") or []):
            space["userSpecific"] = [{"value": "personsWithDisabilities"}]
        vehicles = _vehicles(place)
        if vehicles:
            space["applicableForVehicles"] = [vehicles]
        amenities = {
            key: bool(place[field])
            for field, key in (("roofed", "roofed"), ("lighting", "illuminated"))
            if place.get(field) is not None
        }
        if amenities:
            space["amenities"] = amenities
        if place.get("physical_reference"):
            space["externalIdentifier"] = [{"identifier": str(place["physical_reference"])}]
        spaces.append(space)
    return spaces
