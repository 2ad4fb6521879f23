"""DATEX II 3.7 Energy Infrastructure XML (``d2:payload`` of type
``egi:EnergyInfrastructureTablePublication``), written from the Mobilithek profile's sites
(:func:`ocpikit.afir.mobilithek.site`) so both exports share one mapping.

DATEX II 3.7 is the plain standard (CEN/TS 16157-10): its FacilityObject has fewer elements
than the Mobilithek profile (no station power, service type, helpdesk or energy rates; prices
go in ``fac:RateTable`` rate lines, which this export does not write). What is written, in
schema order, is listed in ``docs/afir.md``; the XML validates against the 3.7 XSDs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from ocpikit.afir.common import published, version_of
from ocpikit.afir.mobilithek import Dataset, site, table_id
from ocpikit.core.types import format_datetime

__all__ = ["NS", "table_publication_xml"]

NS = {
    "d2": "http://datex2.eu/schema/3/d2Payload",
    "com": "http://datex2.eu/schema/3/common",
    "egi": "http://datex2.eu/schema/3/energyInfrastructure",
    "fac": "http://datex2.eu/schema/3/facilities",
    "loc": "http://datex2.eu/schema/3/locationReferencing",
    "locx": "http://datex2.eu/schema/3/locationExtension",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _el(parent: ET.Element, name: str, text: Any = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, _q(name), {_attr(k): v for k, v in attrs.items()})
    if text is not None:
        child.text = str(text).lower() if isinstance(text, bool) else str(text)
    return child


def _attr(key: str) -> str:
    return _q("xsi:type") if key == "xsi_type" else key


def _ml(parent: ET.Element, name: str, value: Mapping[str, Any]) -> None:
    values = _el(_el(parent, name), "com:values")
    for v in value["values"]:
        _el(values, "com:value", v["value"], lang=v["lang"])


def _enum(parent: ET.Element, name: str, value: Mapping[str, Any]) -> None:
    if value["value"] == "extendedG":
        _el(parent, name, "_extended", _extendedValue=value.get("extendedValueG", ""))
    else:
        _el(parent, name, value["value"])


def _hours(parent: ET.Element, hours: Mapping[str, Any]) -> None:
    if "afacOpenAllHours" in hours:
        _el(parent, "fac:operatingHours", xsi_type="fac:OpenAllHours")
        return
    spec = hours["afacOperatingHoursSpecification"]
    el = _el(
        parent,
        "fac:operatingHours",
        xsi_type="fac:OperatingHoursSpecification",
        id=spec["idG"],
        version=spec["versionG"],
    )
    _el(el, "fac:operatingAllYear", spec.get("operatingAllYear", True))
    overall = _el(el, "fac:overallPeriod")
    _el(overall, "com:overallStartTime", spec["overallPeriod"]["overallStartTime"])
    for period in spec["overallPeriod"].get("validPeriod", []):
        valid = _el(overall, "com:validPeriod")
        for tp in period.get("recurringTimePeriodOfDay", []):
            day_period = _el(valid, "com:recurringTimePeriodOfDay")
            _el(day_period, "com:startTimeOfPeriod", tp["startTimeOfPeriod"])
            _el(day_period, "com:endTimeOfPeriod", tp["endTimeOfPeriod"])
        for dwm in period.get("recurringDayWeekMonthPeriod", []):
            days = _el(valid, "com:recurringDayWeekMonthPeriod")
            for day in dwm["comDayWeekMonth"]["applicableDay"]:
                _enum(days, "com:applicableDay", day)


def _place(parent: ET.Element, ref: Mapping[str, Any]) -> None:
    point = ref["locPointLocation"]
    el = _el(parent, "fac:locationReference", xsi_type="loc:PointLocation")
    facility = point["locLocationExtensionG"]["FacilityLocation"]
    ext = _el(_el(el, "loc:_locationReferenceExtension"), "loc:facilityLocation")
    if "timeZone" in facility:
        _el(ext, "locx:timeZone", facility["timeZone"])
    address = facility["address"]
    addr = _el(ext, "locx:address")
    if "postcode" in address:
        _el(addr, "locx:postcode", address["postcode"])
    _ml(addr, "locx:city", address["city"])
    if "countryCode" in address:
        _el(addr, "locx:countryCode", address["countryCode"])
    for line in address.get("addressLine", []):
        line_el = _el(addr, "locx:addressLine", order=str(line["order"]))
        _enum(line_el, "locx:type", line["type"])
        _ml(line_el, "locx:text", line["text"])
    coords = _el(_el(el, "loc:pointByCoordinates"), "loc:pointCoordinates")
    _el(coords, "loc:latitude", point["pointByCoordinates"]["pointCoordinates"]["latitude"])
    _el(coords, "loc:longitude", point["pointByCoordinates"]["pointCoordinates"]["longitude"])


def _operator(parent: ET.Element, org: Mapping[str, Any], owner_id: str) -> None:
    an = org["afacAnOrganisation"]
    el = _el(
        parent,
        "fac:operator",
        xsi_type="fac:OrganisationSpecification",
        id=f"{owner_id}-operator",
        version="1",
    )
    _ml(el, "fac:name", an["name"])
    if "legalName" in an:
        _ml(el, "fac:legalName", an["legalName"])
    if "linkToGeneralInformation" in an:
        _el(el, "fac:linkToGeneralInformation", an["linkToGeneralInformation"])
    _el(el, "fac:organisationUnit")


def _facility_object(parent: ET.Element, obj: Mapping[str, Any], external_id: str | None) -> None:
    """FacilityObject's elements in schema order (name, externalIdentifier, lastUpdated,
    operatingHours, locationReference, operator)."""
    if "name" in obj:
        _ml(parent, "fac:name", obj["name"])
    if external_id:
        _el(parent, "fac:externalIdentifier", external_id)
    _el(parent, "fac:lastUpdated", obj["lastUpdated"])
    if "operatingHours" in obj:
        _hours(parent, obj["operatingHours"])
    if "locationReference" in obj:
        _place(parent, obj["locationReference"])
    if "operator" in obj:
        _operator(parent, obj["operator"], obj["idG"])


def _point(parent: ET.Element, point: Mapping[str, Any]) -> None:
    el = _el(
        parent,
        "egi:refillPoint",
        xsi_type="egi:ElectricChargingPoint",
        id=point["idG"],
        version=point["versionG"],
    )
    ids = point.get("externalIdentifier") or []
    _facility_object(el, point, ids[0]["identifier"] if ids else None)
    for volt in point.get("availableVoltage", []):
        _el(el, "egi:availableVoltage", volt)
    for power in point.get("availableChargingPower", []):
        _el(el, "egi:availableChargingPower", power)
    for con in point.get("connector", []):
        c = _el(el, "egi:connector")
        _enum(c, "egi:connectorType", con["connectorType"])
        _enum(c, "egi:connectorFormat", con["connectorFormat"])
        _el(c, "egi:maxPowerAtSocket", con["maxPowerAtSocket"])
        _el(c, "egi:voltage", con["voltage"])
        _el(c, "egi:maximumCurrent", con["maximumCurrent"])


def _station(parent: ET.Element, station: Mapping[str, Any]) -> None:
    el = _el(
        parent, "egi:energyInfrastructureStation", id=station["idG"], version=station["versionG"]
    )
    _facility_object(el, station, None)
    for method in station.get("authenticationAndIdentificationMethods", []):
        _enum(el, "egi:authenticationAndIdentificationMethods", method)
    for point in station["refillPoint"]:
        _point(el, point["aegiElectricChargingPoint"])


def table_publication_xml(ds: Dataset) -> bytes:
    """The static publication of every published location of ``ds`` as DATEX II 3.7 XML."""
    root = ET.Element(
        _q("d2:payload"),
        {
            _q("xsi:type"): "egi:EnergyInfrastructureTablePublication",
            "lang": ds.lang,
            "modelBaseVersion": "3",
        },
    )
    _el(root, "com:publicationTime", format_datetime(ds.now))
    creator = ds.creator()
    c = _el(root, "com:publicationCreator")
    _el(c, "com:country", creator["country"])
    _el(c, "com:nationalIdentifier", creator["nationalIdentifier"])
    sites = [site(loc, ds) for loc in published(ds.locations)]
    table = _el(
        root,
        "egi:energyInfrastructureTable",
        id=table_id(ds),
        version=version_of([s["versionG"] for s in sites]),
    )
    for s in sites:
        el = _el(table, "egi:energyInfrastructureSite", id=s["idG"], version=s["versionG"])
        _facility_object(el, s, None)
        for station in s.get("energyInfrastructureStation", []):
            _station(el, station)
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text
