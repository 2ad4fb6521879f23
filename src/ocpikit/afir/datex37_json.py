"""Plain DATEX II 3.7 JSON (``egiEnergyInfrastructureTablePublication``), derived from the
Mobilithek profile's sites (:func:`ocpikit.afir.mobilithek.site`): the same content as the
3.7 XML export (:mod:`ocpikit.afir.datex37`), in the 3.7 JSON Schema's names (``egi``/``fac``
prefixes instead of the profile's ``aegi``/``afac``; organisations as
``facOrganisationSpecification``; one ``externalIdentifier`` string).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocpikit.afir.common import published, version_of
from ocpikit.afir.mobilithek import Dataset, site, table_id
from ocpikit.core.types import format_datetime

__all__ = ["table_publication_37"]


def _hours(hours: Mapping[str, Any]) -> dict[str, Any]:
    if "afacOpenAllHours" in hours:
        return {"facOpenAllHours": {}}
    return {"facOperatingHoursSpecification": hours["afacOperatingHoursSpecification"]}


def _place(ref: Mapping[str, Any]) -> dict[str, Any]:
    point = ref["locPointLocation"]
    facility = dict(point["locLocationExtensionG"]["FacilityLocation"])
    facility.pop("nutsArea", None)
    return {
        "locPointLocation": {
            "pointByCoordinates": point["pointByCoordinates"],
            "locLocationReferenceExtensionG": {"FacilityLocation": facility},
        }
    }


def _operator(org: Mapping[str, Any], owner_id: str) -> dict[str, Any]:
    an = org["afacAnOrganisation"]
    spec: dict[str, Any] = {"idG": f"{owner_id}-operator", "versionG": "1", "name": an["name"]}
    for key in ("legalName", "linkToGeneralInformation"):
        if key in an:
            spec[key] = an[key]
    spec["organisationUnit"] = [{}]
    return {"facOrganisationSpecification": spec}


def _common(obj: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"idG": obj["idG"], "versionG": obj["versionG"]}
    if "name" in obj:
        out["name"] = obj["name"]
    out["lastUpdated"] = obj["lastUpdated"]
    if "operatingHours" in obj:
        out["operatingHours"] = _hours(obj["operatingHours"])
    if "locationReference" in obj:
        out["locationReference"] = _place(obj["locationReference"])
    if "operator" in obj:
        out["operator"] = _operator(obj["operator"], obj["idG"])
    return out


def _point(point: Mapping[str, Any]) -> dict[str, Any]:
    out = _common(point)
    ids = point.get("externalIdentifier") or []
    if ids:
        out["externalIdentifier"] = ids[0]["identifier"]
    out["availableVoltage"] = point["availableVoltage"]
    out["availableChargingPower"] = point["availableChargingPower"]
    keys = ("connectorType", "connectorFormat", "maxPowerAtSocket", "voltage", "maximumCurrent")
    out["connector"] = [{k: c[k] for k in keys if k in c} for c in point["connector"]]
    return {"egiElectricChargingPoint": out}


def _station(station: Mapping[str, Any]) -> dict[str, Any]:
    out = _common(station)
    if "authenticationAndIdentificationMethods" in station:
        out["authenticationAndIdentificationMethods"] = station[
            "authenticationAndIdentificationMethods"
        ]
    out["refillPoint"] = [_point(p["aegiElectricChargingPoint"]) for p in station["refillPoint"]]
    return out


def table_publication_37(ds: Dataset) -> dict[str, Any]:
    """The static publication of every published location of ``ds`` (``{"payload": ...}``)."""
    sites = []
    for loc in published(ds.locations):
        s = site(loc, ds)
        out = _common(s)
        out["energyInfrastructureStation"] = [
            _station(st) for st in s.get("energyInfrastructureStation", [])
        ]
        sites.append(out)
    table = {
        "idG": table_id(ds),
        "versionG": version_of([s["versionG"] for s in sites]),
        "energyInfrastructureSite": sites,
    }
    return {
        "payload": {
            "versionG": "3.7",
            "modelBaseVersionG": "3",
            "egiEnergyInfrastructureTablePublication": {
                "lang": ds.lang,
                "publicationTime": format_datetime(ds.now),
                "publicationCreator": ds.creator(),
                "energyInfrastructureTable": [table],
            },
        }
    }
