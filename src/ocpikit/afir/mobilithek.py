"""OCPI 2.3.0 → DATEX II JSON in the Mobilithek AFIR profile 01-00-00 (the German NAP's
``aegiEnergyInfrastructureTablePublication`` for static data, table → site → station → refill
point → connector; ``aegiEnergyInfrastructureStatusPublication`` for dynamic data).

A Location is a site; each EVSE is a station with one refill point (OCPI 2.3.0 has no station
layer); each Connector is a connector of that refill point. The mapping of every field, unit
and code, and every item it cannot fill, is in ``docs/afir.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocpikit.afir import codes
from ocpikit.afir.common import (
    is_open_data,
    point_id,
    published,
    rate_id,
    rate_policy,
    site_id,
    station_id,
    utc_offset,
    version_of,
    weekly_hours,
)
from ocpikit.afir.parking import parking_spaces
from ocpikit.afir.prices import energy_prices
from ocpikit.afir.supplement import Supplement
from ocpikit.core.types import format_datetime

__all__ = ["PROFILE_NAME", "PROFILE_VERSION", "Dataset", "evse_status_entry", "table_publication"]

PROFILE_NAME = "AFIR Energy Infrastructure"
PROFILE_VERSION = "01-00-00"


@dataclass(frozen=True, slots=True)
class Dataset:
    """What a publication is made of: head Locations and Tariffs, the ``[afir]`` supplement
    and the publication time."""

    locations: Sequence[Mapping[str, Any]]
    tariffs: Sequence[Mapping[str, Any]]
    supplement: Supplement = field(default_factory=Supplement)
    now: datetime = field(default_factory=lambda: datetime.fromtimestamp(0).astimezone())
    _index: dict[tuple[str, str, str], Mapping[str, Any]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index = {_tariff_key(t["country_code"], t["party_id"], t["id"]): t for t in self.tariffs}
        object.__setattr__(self, "_index", index)

    @property
    def lang(self) -> str:
        return str(self.supplement.common.get("lang", "en"))

    def tariff(self, loc: Mapping[str, Any], tariff_id: str) -> Mapping[str, Any] | None:
        """The Tariff ``tariff_id`` of the location's party (ids compare case-insensitively,
        OCPI CiString)."""
        return self._index.get(_tariff_key(loc["country_code"], loc["party_id"], tariff_id))

    def creator(self) -> dict[str, str]:
        """``publicationCreator``: from the supplement (``publisher``, ``publisher_country``),
        else the first location's party."""
        first = self.locations[0] if self.locations else {"country_code": "EU", "party_id": "X"}
        return {
            "country": str(
                self.supplement.common.get("publisher_country", first["country_code"])
            ).upper(),
            "nationalIdentifier": str(
                self.supplement.common.get(
                    "publisher", f"{first['country_code']}-{first['party_id']}"
                )
            ),
        }


def _tariff_key(cc: Any, pid: Any, tariff_id: Any) -> tuple[str, str, str]:
    return str(cc).upper(), str(pid).upper(), str(tariff_id).upper()


def ml(text: str, lang: str) -> dict[str, Any]:
    """A DATEX II MultilingualString with one value."""
    return {"values": [{"lang": lang, "value": text[:1024]}]}


def _hours(loc: Mapping[str, Any], ds: Dataset) -> dict[str, Any] | None:
    times = loc.get("opening_times")
    if not times:
        return None
    if times.get("twentyfourseven"):
        return {"afacOpenAllHours": {}}
    periods = [
        {
            "recurringTimePeriodOfDay": [{"startTimeOfPeriod": b, "endTimeOfPeriod": e}],
            "recurringDayWeekMonthPeriod": [
                {"comDayWeekMonth": {"applicableDay": [{"value": d} for d in days]}}
            ],
        }
        for b, e, days in weekly_hours(times)
    ]
    spec: dict[str, Any] = {
        "idG": f"{site_id(loc)}-hours",
        "versionG": version_of(times),
        "operatingAllYear": True,
        "overallPeriod": {"overallStartTime": str(loc["last_updated"])},
    }
    if periods:
        spec["overallPeriod"]["validPeriod"] = periods
    return {"afacOperatingHoursSpecification": spec}


def _place(
    loc: Mapping[str, Any],
    ds: Dataset,
    supplement: Mapping[str, Any],
    evse: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The site's (``evse`` None) or a station's point: the EVSE's own ``coordinates`` when
    it has them, else the Location's; decimal strings → numbers (WGS84)."""
    where = (evse or {}).get("coordinates") or loc["coordinates"]
    lat, lon = float(where["latitude"]), float(where["longitude"])
    address: dict[str, Any] = {"city": ml(str(loc["city"]), ds.lang)}
    if loc.get("postal_code"):
        address["postcode"] = str(loc["postal_code"])
    country = codes.country_alpha2(str(loc["country"]))
    if country:
        address["countryCode"] = country
    address["addressLine"] = [
        {"order": 0, "type": {"value": "street"}, "text": ml(str(loc["address"]), ds.lang)}
    ]
    facility: dict[str, Any] = {"address": address}
    offset = utc_offset(str(loc["time_zone"]), ds.now)
    if offset:
        facility["timeZone"] = offset
    if "nuts1" in supplement:
        facility["nutsArea"] = [
            {"nutsCodeType": {"value": "nuts1Code"}, "nutsCode": supplement["nuts1"]}
        ]
    point = {"latitude": lat, "longitude": lon}
    return {
        "locPointLocation": {
            "coordinatesForDisplay": point,
            "pointByCoordinates": {"pointCoordinates": point},
            "locLocationExtensionG": {"FacilityLocation": facility},
        }
    }


def _operator(loc: Mapping[str, Any], supplement: Mapping[str, Any], lang: str) -> Any:
    name = supplement.get("commercial_name") or (loc.get("operator") or {}).get("name")
    if not name:
        return None
    org: dict[str, Any] = {"name": ml(str(name), lang)}
    if supplement.get("legal_name"):
        org["legalName"] = ml(str(supplement["legal_name"]), lang)
    website = (loc.get("operator") or {}).get("website")
    if website:
        org["linkToGeneralInformation"] = website
    return {"afacAnOrganisation": org}


def _rate(tariff: Mapping[str, Any], supplement: Mapping[str, Any], lang: str) -> dict[str, Any]:
    rate: dict[str, Any] = {
        "idG": rate_id(tariff),
        "ratePolicy": {"value": rate_policy(tariff)},
        "lastUpdated": str(tariff["last_updated"]),
        "applicableCurrency": [str(tariff["currency"])],
    }
    payment: dict[str, Any] = {}
    if supplement.get("payment_methods"):
        payment["paymentMeans"] = [
            codes.enum_value(m, codes.PAYMENT_MEANS) for m in supplement["payment_methods"]
        ]
    if supplement.get("payment_brands"):
        payment["brandsAccepted"] = [
            codes.enum_value(b, codes.PAYMENT_BRANDS) for b in supplement["payment_brands"]
        ]
    if payment and rate["ratePolicy"]["value"] == "adHoc":
        rate["payment"] = payment
    prices = energy_prices(tariff, lang)
    if prices:
        rate["energyPrice"] = prices
    return rate


def _connector(con: Mapping[str, Any]) -> dict[str, Any]:
    watts, _derived = codes.power_watts(con)
    out: dict[str, Any] = {
        "connectorType": {"value": codes.connector_type(str(con["standard"]))},
        "connectorFormat": {
            "value": codes.connector_format(str(con["format"]), str(con["power_type"]))
        },
        "maxPowerAtSocket": watts,
        "voltage": int(con["max_voltage"]),
        "maximumCurrent": int(con["max_amperage"]),
    }
    if out["connectorType"]["value"] == "other":
        out["otherConnector"] = str(con["standard"])
    return out


def _tariffs_of(evse: Mapping[str, Any], loc: Mapping[str, Any], ds: Dataset) -> list[Any]:
    ids: list[str] = []
    for con in evse.get("connectors") or []:
        ids += [t for t in con.get("tariff_ids") or [] if t not in ids]
    found = [ds.tariff(loc, t) for t in ids]
    return [t for t in found if t is not None and is_open_data(t)]


def _refill_point(
    loc: Mapping[str, Any], evse: Mapping[str, Any], ds: Dataset, supplement: Mapping[str, Any]
) -> dict[str, Any]:
    connectors = [_connector(c) for c in evse.get("connectors") or []]
    point: dict[str, Any] = {
        "idG": point_id(loc, evse),
        "deliveryUnit": {"value": "kWh"},
        "currentType": {"value": codes.current_type(str(evse["connectors"][0]["power_type"]))},
        "numberOfConnectors": len(connectors),
        "availableVoltage": sorted({c["voltage"] for c in connectors}),
        "availableChargingPower": sorted({c["maxPowerAtSocket"] for c in connectors}, reverse=True),
        "connector": connectors,
    }
    if evse.get("evse_id"):
        point["externalIdentifier"] = [_identifier(str(evse["evse_id"]), "evseId")]
    services = list(supplement.get("smart_charging") or [])
    caps = {c for con in evse.get("connectors") or [] for c in con.get("capabilities") or []}
    if caps & {"ISO_15118_2_PLUG_AND_CHARGE", "ISO_15118_20_PLUG_AND_CHARGE"}:
        services.append("plugAndCharge")
    if services:
        point["smartRechargingServices"] = [
            codes.enum_value(s, codes.SMART_SERVICES) for s in dict.fromkeys(services)
        ]
    rates = [_rate(t, supplement, ds.lang) for t in _tariffs_of(evse, loc, ds)]
    if rates:
        point["electricEnergy"] = [{"energyRate": rates}]
    point["versionG"] = version_of(point)
    point["lastUpdated"] = str(evse["last_updated"])
    return {"aegiElectricChargingPoint": point}


def _identifier(value: str, kind: str) -> dict[str, Any]:
    return {"identifier": value, "typeOfIdentifier": {"value": "extendedG", "extendedValueG": kind}}


def _station(
    loc: Mapping[str, Any], evse: Mapping[str, Any], ds: Dataset, supplement: Mapping[str, Any]
) -> dict[str, Any]:
    point = _refill_point(loc, evse, ds, supplement)
    service = supplement.get("service_support")
    station: dict[str, Any] = {
        "idG": station_id(loc, evse),
        "totalMaximumPower": max(point["aegiElectricChargingPoint"]["availableChargingPower"]),
        "numberOfRefillPoints": 1,
        "serviceType": [
            {
                "serviceType": {"value": service}
                if service
                else {"value": "extendedG", "extendedValueG": "unknown"}
            }
        ],
        "locationReference": _place(loc, ds, supplement, evse),
        "refillPoint": [point],
    }
    methods = [
        codes.AUTH_METHODS[c] for c in evse.get("capabilities") or [] if c in codes.AUTH_METHODS
    ]
    if methods:
        station["authenticationAndIdentificationMethods"] = [{"value": m} for m in methods]
    operator = _operator(loc, supplement, ds.lang)
    if operator:
        station["operator"] = operator
    if loc.get("help_phone"):
        station["helpdesk"] = _helpdesk(str(loc["help_phone"]), operator, ds.lang)
    msps = evse.get("accepted_service_providers")
    if msps:
        station["mobilityServiceProvider"] = [
            {"afacAnOrganisation": {"name": ml(str(m), ds.lang)}} for m in msps
        ]
    mix = loc.get("energy_mix")
    if mix and mix.get("is_green_energy") is not None:
        station["electricEnergy"] = [{"isGreenEnergy": bool(mix["is_green_energy"])}]
    station["versionG"] = version_of(station)
    station["lastUpdated"] = str(evse["last_updated"])
    return station


def _helpdesk(phone: str, operator: Any, lang: str) -> dict[str, Any]:
    name = operator["afacAnOrganisation"]["name"] if operator else ml("helpdesk", lang)
    return {
        "afacAnOrganisation": {
            "name": name,
            "organisationUnit": [
                {"contactInformation": [{"afacContactInformation": {"telephoneNumber": phone}}]}
            ],
        }
    }


def site(loc: Mapping[str, Any], ds: Dataset) -> dict[str, Any]:
    """The ``energyInfrastructureSite`` of one head Location."""
    supplement = ds.supplement.for_location(
        str(loc["country_code"]), str(loc["party_id"]), str(loc["id"])
    )
    out: dict[str, Any] = {"idG": site_id(loc)}
    if loc.get("name"):
        out["name"] = ml(str(loc["name"]), ds.lang)
    hours = _hours(loc, ds)
    if hours:
        out["operatingHours"] = hours
    out["locationReference"] = _place(loc, ds, supplement)
    operator = _operator(loc, supplement, ds.lang)
    if operator:
        out["operator"] = operator
    spaces = parking_spaces(loc, out["idG"])
    if spaces:
        out["dedicatedParkingSpaces"] = spaces
    out["energyInfrastructureStation"] = [
        _station(loc, evse, ds, supplement)
        for evse in loc.get("evses") or []
        if evse.get("status") != "REMOVED"
    ]
    out["versionG"] = version_of(out)
    out["lastUpdated"] = str(loc["last_updated"])
    return out


def _payload(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "modelBaseVersionG": "3",
        "profileNameG": PROFILE_NAME,
        "profileVersionG": PROFILE_VERSION,
        kind: body,
    }


def table_id(ds: Dataset) -> str:
    return f"{ds.creator()['nationalIdentifier']}-table"


def table_publication(ds: Dataset) -> dict[str, Any]:
    """The static publication (``{"payload": {...}}``, Mobilithek D2Payload) of every
    published location of ``ds``."""
    sites = [site(loc, ds) for loc in published(ds.locations)]
    table = {
        "idG": table_id(ds),
        "versionG": version_of([s["versionG"] for s in sites]),
        "energyInfrastructureSite": sites,
    }
    body = {
        "lang": ds.lang,
        "publicationTime": format_datetime(ds.now),
        "publicationCreator": ds.creator(),
        "headerInformation": {
            "confidentiality": {"value": "noRestriction"},
            "informationStatus": {"value": "real"},
        },
        "energyInfrastructureTable": [table],
    }
    return {"payload": _payload("aegiEnergyInfrastructureTablePublication", body)}


def _ref(target: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    return {"targetClass": target, "idG": obj["idG"], "versionG": obj["versionG"]}


def evse_status_entry(
    station: Mapping[str, Any], evse: Mapping[str, Any], stamp: str, with_prices: bool
) -> dict[str, Any]:
    """The ``energyInfrastructureStationStatus`` of one station (EVSE): the refill point's
    status and, when ``with_prices``, its current ad hoc prices (``energyRateUpdate``).
    ``stamp`` is the status's ``lastUpdated``: the later of the EVSE's and its Location's
    ``last_updated`` (a Location PATCH may change an EVSE's status without touching the
    EVSE's own time, and a NAP keeps the newest status by this time)."""
    point = station["refillPoint"][0]["aegiElectricChargingPoint"]
    status: dict[str, Any] = {
        "reference": _ref("FacilityObject", point),
        "lastUpdated": stamp,
        "status": {"value": codes.evse_status(str(evse["status"]))},
    }
    if with_prices:
        updates = [
            {
                "lastUpdated": rate["lastUpdated"],
                "energyRateReference": {"targetClass": "EnergyRate", "idG": rate["idG"]},
                "energyPrice": rate["energyPrice"],
            }
            for energy in point.get("electricEnergy") or []
            for rate in energy.get("energyRate") or []
            if rate.get("energyPrice")
        ]
        if updates:
            status["energyRateUpdate"] = updates
    return {
        "reference": _ref("FacilityObject", station),
        "lastUpdated": stamp,
        "refillPointStatus": [{"aegiElectricChargingPointStatus": status}],
    }
