"""OCPI 2.2.1 Locations objects (2.2.1 mod_locations §Object description, §Data types).

What changed from 2.1.1 (and is therefore written out whole here, with its embedders):

- Location gains ``country_code``, ``party_id``, ``publish``, ``publish_allowed_to``, ``state``
  and ``parking_type`` (replacing ``type``); ``time_zone`` becomes required, ``postal_code``
  optional. ``address`` is string(255) and ``state`` string(45): the errata lengths of the bugfix
  branch (the d2 text said 45/20 by mistake, DIGEST A13).
- Connector: ``max_voltage``/``max_amperage``/``max_electric_power``/``tariff_ids``.
- GeoLocation strings carry 5 to 7 decimals.
- Hours always has ``twentyfourseven``; RegularHours uses the real 24 h pattern.
- EnvironmentalImpact is keyed by ``category``.
- New enum values: Capability, ConnectorType, Facility, PowerType; new ParkingType.

Unchanged classes (BusinessDetails, Image, ExceptionalPeriod, StatusSchedule, EnergySource and
the enums ConnectorFormat, EnergySourceCategory, EnvironmentalImpactCategory, ImageCategory,
ParkingRestriction, Status) are imported from 2.1.1.

``TokenType`` (mod_tokens §TokenType) is defined here because ``PublishTokenType`` embeds it and
Locations must not depend on the Tokens module; the Tokens models import it from here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StrictBool, StrictInt, model_validator

from ocpikit.core.types import (
    URL,
    CiString2,
    CiString3,
    CiString36,
    CiString48,
    DateTime,
    Number,
    String3,
    String4,
    String10,
    String16,
    String45,
    String64,
    String255,
)
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.locations import (
    BusinessDetails,
    ConnectorFormat,
    EnergySource,
    EnergySourceCategory,
    EnvironmentalImpactCategory,
    ExceptionalPeriod,
    Image,
    ImageCategory,
    ParkingRestriction,
    Status,
    StatusSchedule,
)
from ocpikit.models.v2_2_1.types import DisplayText

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
    "ParkingRestriction",
    "ParkingType",
    "PowerType",
    "PublishTokenType",
    "RegularHours",
    "Status",
    "StatusSchedule",
    "TokenType",
]

# --- enums -----------------------------------------------------------------------------------


class Capability(StrEnum):
    """EVSE capabilities (2.2.1 §Capability): 2.1.1's six plus payment and smart-charging ones."""

    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CHARGING_PREFERENCES_CAPABLE = "CHARGING_PREFERENCES_CAPABLE"
    CHIP_CARD_SUPPORT = "CHIP_CARD_SUPPORT"
    CONTACTLESS_CARD_SUPPORT = "CONTACTLESS_CARD_SUPPORT"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    DEBIT_CARD_PAYABLE = "DEBIT_CARD_PAYABLE"
    PED_TERMINAL = "PED_TERMINAL"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    START_SESSION_CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"
    TOKEN_GROUP_CAPABLE = "TOKEN_GROUP_CAPABLE"
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ConnectorType(StrEnum):
    """Plug/socket standards of 2.2.1 (§ConnectorType). The ``IEC_60309_2_*`` values are mixed
    case."""

    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
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
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
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
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class Facility(StrEnum):
    """Facilities near a Location (2.2.1 §Facility): 2.1.1's plus four transport/parking ones."""

    HOTEL = "HOTEL"
    RESTAURANT = "RESTAURANT"
    CAFE = "CAFE"
    MALL = "MALL"
    SUPERMARKET = "SUPERMARKET"
    SPORT = "SPORT"
    RECREATION_AREA = "RECREATION_AREA"
    NATURE = "NATURE"
    MUSEUM = "MUSEUM"
    BIKE_SHARING = "BIKE_SHARING"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAM_STOP = "TRAM_STOP"
    METRO_STATION = "METRO_STATION"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    PARKING_LOT = "PARKING_LOT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class ParkingType(StrEnum):
    """General type of parking at a Location (2.2.1 §ParkingType); replaces LocationType."""

    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


class PowerType(StrEnum):
    """Power supply type (2.2.1 §PowerType): adds the two-phase variants."""

    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class TokenType(StrEnum):
    """Token types of 2.2.1 (mod_tokens §TokenType)."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


# --- classes ---------------------------------------------------------------------------------

Latitude = Annotated[str, Field(max_length=10, pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$")]
"""2.2+ latitude: string(10), 5 to 7 decimals (§GeoLocation)."""
Longitude = Annotated[str, Field(max_length=11, pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$")]
"""2.2+ longitude: string(11), 5 to 7 decimals (§GeoLocation)."""
HourMinute = Annotated[str, Field(max_length=5, pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")]
"""2.2+ ``hh:mm`` in 24 h format (§RegularHours)."""


class GeoLocation(OcpiModel):
    """WGS 84 point as decimal-degree strings (2.2.1 §GeoLocation; unchanged in 2.3.0)."""

    latitude: Latitude
    longitude: Longitude


class AdditionalGeoLocation(OcpiModel):
    """A related point with an optional name (2.2.1 §AdditionalGeoLocation)."""

    latitude: Latitude
    longitude: Longitude
    name: DisplayText | None = None


class RegularHours(OcpiModel):
    """A weekly opening period in local time (2.2.1 §RegularHours); weekday 1 = Monday.

    ``period_end`` later than ``period_begin`` is not enforced: received as sent.
    """

    weekday: Annotated[StrictInt, Field(ge=1, le=7)]
    period_begin: HourMinute
    period_end: HourMinute


class Hours(OcpiModel):
    """Opening times (2.2.1 §Hours). Cross-field rule: ``twentyfourseven: false`` needs at least
    one RegularHours entry."""

    twentyfourseven: StrictBool
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _regular_hours_when_not_247(self) -> Self:
        if not self.twentyfourseven and not self.regular_hours:
            raise ValueError("regular_hours needs at least one entry when twentyfourseven is false")
        return self


class EnvironmentalImpact(OcpiModel):
    """Environmental impact in g/kWh (2.2.1 §EnvironmentalImpact), keyed by ``category``."""

    category: EnvironmentalImpactCategory
    amount: Number


class EnergyMix(OcpiModel):
    """Energy mix of a Location or Tariff (2.2.1 §EnergyMix)."""

    is_green_energy: StrictBool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: String64 | None = None
    energy_product_name: String64 | None = None


class PublishTokenType(OcpiModel):
    """A token (or token group) a non-published Location may be shown to (2.2.1
    §PublishTokenType). Cross-field rules: at least one of uid/visual_number/group_id;
    uid needs type; visual_number needs issuer."""

    uid: CiString36 | None = None
    type: TokenType | None = None
    visual_number: String64 | None = None
    issuer: String64 | None = None
    group_id: CiString36 | None = None

    @model_validator(mode="after")
    def _identifies_a_token(self) -> Self:
        if self.uid is None and self.visual_number is None and self.group_id is None:
            raise ValueError("one of uid, visual_number or group_id is required")
        if self.uid is not None and self.type is None:
            raise ValueError("type is required when uid is given")
        if self.visual_number is not None and self.issuer is None:
            raise ValueError("issuer is required when visual_number is given")
        return self


# --- objects ---------------------------------------------------------------------------------


class Connector(OcpiModel):
    """A socket or cable of an EVSE (2.2.1 §Connector Object)."""

    id: CiString36
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: StrictInt
    max_amperage: StrictInt
    max_electric_power: StrictInt | None = None
    tariff_ids: list[CiString36] | None = None
    terms_and_conditions: URL | None = None
    last_updated: DateTime


class EVSE(OcpiModel):
    """An EVSE of a Location (2.2.1 §EVSE Object)."""

    uid: CiString36
    evse_id: CiString48 | None = None
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
    """A charging location (2.2.1 §Location Object); errata lengths for address and state."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    publish: StrictBool
    publish_allowed_to: list[PublishTokenType] | None = None
    name: String255 | None = None
    address: String255
    city: String45
    postal_code: String10 | None = None
    state: String45 | None = None
    country: String3
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: ParkingType | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: String255
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
    "PublishTokenType": PublishTokenType,
    "RegularHours": RegularHours,
    "StatusSchedule": StatusSchedule,
}
