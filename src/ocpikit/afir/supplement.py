"""The AFIR supplement: data items OCPI 2.3.0 cannot carry, given by the operator in the
``[afir]`` section of the configuration, never invented by the mapping.

Three levels, the most specific winning per key: ``[afir]`` itself (every location),
``[afir.party."CC-PID"]`` (one of our parties), ``[afir.location."ID"]`` (one location)::

    [afir]
    publisher = "DE-NAP-OrganisationXY"   # publicationCreator nationalIdentifier
    publisher_country = "DE"
    lang = "de"
    legal_name = "Example Charging GmbH"  # Table A 1 (OCPI has one business name)
    commercial_name = "Example Charge"    # Table A 2
    service_support = "unattended"        # Table A 4: unattended | physicalAttendance
    payment_methods = ["emv", "nfc"]      # Table A 22 (DATEX II paymentMeans)
    payment_brands = ["visa", "masterCard"]  # Table A 23 (DATEX II PaymentBrandsEnum)
    smart_charging = ["remoteMonitoring"] # Table B 9 (DATEX II SmartRechargingServicesEnum)

    [afir.location."LOC00001"]
    nuts1 = "DE3"                         # Table A 10 (NUTS 1 region)

Invariant: a key absent at every level stays absent; the check reports it as missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["KEYS", "Supplement", "SupplementError", "parse_supplement"]

#: supplement key → (kind, AFIR item it fills)
KEYS: dict[str, tuple[type, str]] = {
    "legal_name": (str, "A1"),
    "commercial_name": (str, "A2"),
    "service_support": (str, "A4"),
    "nuts1": (str, "A10"),
    "payment_methods": (list, "A22"),
    "payment_brands": (list, "A23"),
    "smart_charging": (list, "B9"),
    "publisher": (str, "-"),
    "publisher_country": (str, "-"),
    "lang": (str, "-"),
}
_SERVICE = ("unattended", "physicalAttendance")


class SupplementError(ValueError):
    """An ``[afir]`` entry that is not what the key requires (message names the key)."""


@dataclass(frozen=True, slots=True)
class Supplement:
    """Per-key values for each level; :meth:`for_location` resolves one location's view."""

    common: Mapping[str, Any] = field(default_factory=dict)
    parties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    locations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def for_location(self, country_code: str, party_id: str, location_id: str) -> dict[str, Any]:
        """The merged supplement of one location (location over party over common)."""
        merged = dict(self.common)
        merged.update(self.parties.get(f"{country_code}-{party_id}".upper(), {}))
        merged.update(self.locations.get(location_id, {}))
        return merged

    def with_location(self, location_id: str, values: Mapping[str, Any]) -> Supplement:
        """A copy with ``values`` checked and set for one location (the backend API's PUT)."""
        locations = dict(self.locations)
        locations[location_id] = _checked(values, f"location.{location_id}")
        return replace(self, locations=locations)


def _checked(table: Any, where: str) -> dict[str, Any]:
    where = f"afir.{where}" if where else "afir"
    if not isinstance(table, Mapping):
        raise SupplementError(f"{where}: expected a table")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("party", "location"):
            continue
        if key not in KEYS:
            raise SupplementError(f"{where}: unknown key {key!r}; known: {sorted(KEYS)}")
        kind = KEYS[key][0]
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SupplementError(f"{where}.{key}: expected a list of strings")
        elif not isinstance(value, str) or not value:
            raise SupplementError(f"{where}.{key}: expected a non-empty string")
        if key == "service_support" and value not in _SERVICE:
            raise SupplementError(f"{where}.{key}: one of {list(_SERVICE)}")
        out[key] = value
    return out


def parse_supplement(section: Any) -> Supplement:
    """The :class:`Supplement` of an ``[afir]`` table (``None``/absent: empty)."""
    if section is None:
        return Supplement()
    common = _checked(section, "")
    parties = section.get("party", {})
    locations = section.get("location", {})
    if not isinstance(parties, Mapping) or not isinstance(locations, Mapping):
        raise SupplementError("afir.party and afir.location must be tables")
    return Supplement(
        common=common,
        parties={str(k).upper(): _checked(v, f"party.{k}") for k, v in parties.items()},
        locations={str(k): _checked(v, f"location.{k}") for k, v in locations.items()},
    )
