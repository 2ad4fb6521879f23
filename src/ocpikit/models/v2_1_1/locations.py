"""OCPI 2.1.1 Locations objects (2.1.1 mod_locations §3 objects, §4 data types).

The 2.1.1 shapes differ from 2.2+ in ways that matter on the wire:

- no ``country_code``/``party_id`` on Location (the owner is known from the URL/credentials);
- ``Location.type`` (:class:`LocationType`) instead of 2.2's ``parking_type``;
- ``Connector.voltage``/``amperage``/``tariff_id`` instead of ``max_voltage``/``max_amperage``/
  ``tariff_ids``; ``EnvironmentalImpact.source`` instead of ``category``;
- ``Hours`` is a choice of ``regular_hours`` or ``twentyfourseven``;
- GeoLocation strings carry exactly 6 decimals (§4.12).

``RegularHours`` accepts the original 2.1.1 pattern ``[0-2][0-9]:[0-5][0-9]`` (d2 narrowed it to
real hours); 2.1.1 peers in the field send ``24:00`` as the end of a day, so we receive it.

Classes identical in 2.2.1 (BusinessDetails, Image, ExceptionalPeriod, StatusSchedule,
EnergySource and several enums) are defined here and imported forward.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StrictBool, StrictInt, model_validator

from ocpikit.core.types import (
    URL,
    DateTime,
    Number,
    String3,
    String4,
    String10,
    String16,
    String36,
    String39,
    String45,
    String48,
    String64,
    String100,
    String255,
)
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.types import DisplayText

__all__ = [
    "EVSE",
    "OBJECTS",
    "AdditionalGeoLocation",
    "BusinessDetails",
    "Capability",
    "Connector",
    "ConnectorFormat",
    "ConnectorType",
    "EnergyMix",
    "EnergySource",
    "EnergySourceCategory",
    "EnvironmentalImpact",
    "EnvironmentalImpactCategory",
    "ExceptionalPeriod",
    "Facility",
    "GeoLocation",
    "Hours",
    "Image",
    "ImageCategory",
    "Location",
    "LocationType",
    "ParkingRestriction",
    "PowerType",
    "RegularHours",
    "Status",
    "StatusSchedule",
]

# --- enums (§4) ------------------------------------------------------------------------------


class Capability(StrEnum):
    """EVSE capabilities (2.1.1 §4.2)."""

    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ConnectorFormat(StrEnum):
    """Socket or attached cable (2.1.1 §4.3; unchanged in 2.2.1 and 2.3.0)."""

    SOCKET = "SOCKET"
    CABLE = "CABLE"


class ConnectorType(StrEnum):
    """Plug/socket standards of 2.1.1 (§4.4). The ``IEC_60309_2_*`` values are mixed case."""

    CHADEMO = "CHADEMO"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    IEC_60309_2_single_16 = "IEC_60309_2_single_16"
    IEC_60309_2_three_16 = "IEC_60309_2_three_16"
    IEC_60309_2_three_32 = "IEC_60309_2_three_32"
    IEC_60309_2_three_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class EnergySourceCategory(StrEnum):
    """Energy source categories (2.1.1 §4.7; unchanged later)."""

    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class EnvironmentalImpactCategory(StrEnum):
    """Environmental impact categories (2.1.1 §4.9; same values later, open in 2.3.0)."""

    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"


class Facility(StrEnum):
    """Facilities near a Location (2.1.1 §4.11)."""

    HOTEL = "HOTEL"
    RESTAURANT = "RESTAURANT"
    CAFE = "CAFE"
    MALL = "MALL"
    SUPERMARKET = "SUPERMARKET"
    SPORT = "SPORT"
    RECREATION_AREA = "RECREATION_AREA"
    NATURE = "NATURE"
    MUSEUM = "MUSEUM"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class ImageCategory(StrEnum):
    """What an image shows (2.1.1 §4.15; same values later, open in 2.3.0)."""

    CHARGER = "CHARGER"
    ENTRANCE = "ENTRANCE"
    LOCATION = "LOCATION"
    NETWORK = "NETWORK"
    OPERATOR = "OPERATOR"
    OTHER = "OTHER"
    OWNER = "OWNER"


class LocationType(StrEnum):
    """General type of a Location (2.1.1 §4.16); became ``ParkingType`` in 2.2."""

    ON_STREET = "ON_STREET"
    PARKING_GARAGE = "PARKING_GARAGE"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class ParkingRestriction(StrEnum):
    """Parking restrictions at an EVSE (2.1.1 §4.17; unchanged in 2.2.1)."""

    EV_ONLY = "EV_ONLY"
    PLUGGED = "PLUGGED"
    DISABLED = "DISABLED"
    CUSTOMERS = "CUSTOMERS"
    MOTORCYCLES = "MOTORCYCLES"


class PowerType(StrEnum):
    """Power supply type (2.1.1 §4.18)."""

    AC_1_PHASE = "AC_1_PHASE"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class Status(StrEnum):
    """EVSE status (2.1.1 §4.20; unchanged in 2.2.1 and 2.3.0)."""

    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


# --- classes (§4) ----------------------------------------------------------------------------

Latitude = Annotated[str, Field(max_length=10, pattern=r"^-?[0-9]{1,2}\.[0-9]{6}$")]
"""2.1.1 latitude: string(10), exactly six decimals (§4.12)."""
Longitude = Annotated[str, Field(max_length=11, pattern=r"^-?[0-9]{1,3}\.[0-9]{6}$")]
"""2.1.1 longitude: string(11), exactly six decimals (§4.12)."""
HourMinute = Annotated[str, Field(max_length=5, pattern=r"^[0-2][0-9]:[0-5][0-9]$")]
"""2.1.1 ``hh:mm`` (original 2.1.1 pattern, which admits ``24:00``)."""
Int5 = Annotated[StrictInt, Field(ge=0, le=99999)]
"""int(5): at most five digits."""


class GeoLocation(OcpiModel):
    """WGS 84 point as decimal-degree strings (2.1.1 §4.12)."""

    latitude: Latitude
    longitude: Longitude


class AdditionalGeoLocation(OcpiModel):
    """A related point with an optional name (2.1.1 §4.1)."""

    latitude: Latitude
    longitude: Longitude
    name: DisplayText | None = None


class Image(OcpiModel):
    """Link to an image (2.1.1 §4.14; identical in 2.2.1, where ``type`` is a CiString(4))."""

    url: URL
    thumbnail: URL | None = None
    category: ImageCategory
    type: String4
    width: Int5 | None = None
    height: Int5 | None = None


class BusinessDetails(OcpiModel):
    """Name, website and logo of a business (2.1.1 §4.1; identical in 2.2.1)."""

    name: String100
    website: URL | None = None
    logo: Image | None = None


class RegularHours(OcpiModel):
    """A weekly opening period (2.1.1 §4.19); weekday 1 = Monday … 7 = Sunday."""

    weekday: Annotated[StrictInt, Field(ge=1, le=7)]
    period_begin: HourMinute
    period_end: HourMinute


class ExceptionalPeriod(OcpiModel):
    """An exceptional opening or closing period (2.1.1 §4.10; unchanged later)."""

    period_begin: DateTime
    period_end: DateTime


class Hours(OcpiModel):
    """Opening times (2.1.1 §4.13): a choice of ``regular_hours`` or ``twentyfourseven``.

    Cross-field rule: one of the two must be given, and ``twentyfourseven: true`` cannot come
    with regular hours. ``twentyfourseven: false`` next to regular hours (the 2.2 shape) is
    tolerated.
    """

    regular_hours: list[RegularHours] | None = None
    twentyfourseven: StrictBool | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _choice(self) -> Self:
        if self.twentyfourseven is None and self.regular_hours is None:
            raise ValueError("one of regular_hours or twentyfourseven is required")
        if self.twentyfourseven and self.regular_hours:
            raise ValueError("regular_hours must not be given when twentyfourseven is true")
        return self


class StatusSchedule(OcpiModel):
    """A planned EVSE status period (2.1.1 §4.21; unchanged later)."""

    period_begin: DateTime
    period_end: DateTime | None = None
    status: Status


class EnergySource(OcpiModel):
    """Share of one energy source (2.1.1 §4.6; unchanged later)."""

    source: EnergySourceCategory
    percentage: Number


class EnvironmentalImpact(OcpiModel):
    """Environmental impact in g/kWh (2.1.1 §4.8); the key is ``source`` (2.2: ``category``)."""

    source: EnvironmentalImpactCategory
    amount: Number


class EnergyMix(OcpiModel):
    """Energy mix of a Location or Tariff (2.1.1 §4.5)."""

    is_green_energy: StrictBool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: String64 | None = None
    energy_product_name: String64 | None = None


# --- objects (§3) ----------------------------------------------------------------------------


class Connector(OcpiModel):
    """A socket or cable of an EVSE (2.1.1 §3.3)."""

    id: String36
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    voltage: StrictInt
    amperage: StrictInt
    tariff_id: String36 | None = None
    terms_and_conditions: URL | None = None
    last_updated: DateTime


class EVSE(OcpiModel):
    """An EVSE of a Location (2.1.1 §3.2)."""

    uid: String39
    evse_id: String48 | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Capability] | None = None
    connectors: list[Connector] = Field(min_length=1)
    floor_level: String4 | None = None
    coordinates: GeoLocation | None = None
    physical_reference: String16 | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[ParkingRestriction] | None = None
    images: list[Image] | None = None
    last_updated: DateTime


class Location(OcpiModel):
    """A charging location (2.1.1 §3.1). ``address`` is string(45) in 2.1.1."""

    id: String39
    type: LocationType
    name: String255 | None = None
    address: String45
    city: String45
    postal_code: String10
    country: String3
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: String255 | None = None
    opening_times: Hours | None = None
    charging_when_closed: StrictBool | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Location": Location,
    "EVSE": EVSE,
    "Connector": Connector,
    "AdditionalGeoLocation": AdditionalGeoLocation,
    "BusinessDetails": BusinessDetails,
    "DisplayText": DisplayText,
    "EnergyMix": EnergyMix,
    "EnergySource": EnergySource,
    "EnvironmentalImpact": EnvironmentalImpact,
    "ExceptionalPeriod": ExceptionalPeriod,
    "GeoLocation": GeoLocation,
    "Hours": Hours,
    "Image": Image,
    "RegularHours": RegularHours,
    "StatusSchedule": StatusSchedule,
}
