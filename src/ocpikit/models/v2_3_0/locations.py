"""OCPI 2.3.0 Locations objects (2.3.0 mod_locations §Object description, §Data types).

What changed from 2.2.1 (written out whole here, with the classes that embed it):

- AFIR data: Location ``parking_places`` (:class:`Parking`) and ``help_phone``; EVSE ``parking``
  (:class:`EVSEParking`) and ``accepted_service_providers``; Connector ``capabilities``
  (:class:`ConnectorCapability`).
- OpenEnums (2.3.0 types §OpenEnum): Capability, ConnectorCapability, ConnectorType,
  EnvironmentalImpactCategory, Facility, ImageCategory, ParkingRestriction, ParkingType,
  VehicleType and TokenType are typed ``SomeEnum | str``: unknown values are kept as strings.
  Because ImageCategory, EnvironmentalImpactCategory and TokenType are open, Image (and
  BusinessDetails, which embeds it), EnvironmentalImpact (and EnergyMix) and PublishTokenType
  change too.
- New values: ConnectorType ``MCS``/``SAE_J3400``; ParkingRestriction ``EMPLOYEES``/``TAXIS``/
  ``TENANTS``; TokenType ``EMAID``.

Closed enums stay closed: Status, PowerType, ConnectorFormat, EnergySourceCategory, EVSEPosition,
ParkingDirection. Unchanged classes are imported from 2.2.1 or 2.1.1.

``TokenType`` (mod_tokens §TokenType) is defined here for ``PublishTokenType``; the Tokens models
import it from here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StrictBool, StrictInt, model_validator

from ocpikit.core.types import (
    URL,
    CiString,
    CiString2,
    CiString3,
    CiString25,
    CiString36,
    CiString48,
    DateTime,
    Number,
    String3,
    String4,
    String10,
    String16,
    String45,
    String50,
    String64,
    String100,
    String255,
)
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1.locations import (
    ConnectorFormat,
    EnergySource,
    EnergySourceCategory,
    EnvironmentalImpactCategory,
    ExceptionalPeriod,
    ImageCategory,
    Int5,
    Status,
    StatusSchedule,
)
from ocpikit.models.v2_2_1.locations import (
    AdditionalGeoLocation,
    Capability,
    Facility,
    GeoLocation,
    Hours,
    ParkingType,
    PowerType,
    RegularHours,
)
from ocpikit.models.v2_3_0.types import OPEN, DisplayText

__all__ = [
    "EVSE",
    "OBJECTS",
    "AdditionalGeoLocation",
    "BusinessDetails",
    "Capability",
    "Connector",
    "ConnectorCapability",
    "ConnectorFormat",
    "ConnectorType",
    "EVSEParking",
    "EVSEPosition",
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
    "Parking",
    "ParkingDirection",
    "ParkingRestriction",
    "ParkingType",
    "PowerType",
    "PublishTokenType",
    "RegularHours",
    "Status",
    "StatusSchedule",
    "TokenType",
    "VehicleType",
]

# --- enums -----------------------------------------------------------------------------------


class ConnectorCapability(StrEnum):
    """Connector capabilities (2.3.0 §ConnectorCapability, OpenEnum): usable Plug & Charge."""

    ISO_15118_2_PLUG_AND_CHARGE = "ISO_15118_2_PLUG_AND_CHARGE"
    ISO_15118_20_PLUG_AND_CHARGE = "ISO_15118_20_PLUG_AND_CHARGE"


class ConnectorType(StrEnum):
    """Plug/socket standards of 2.3.0 (§ConnectorType, OpenEnum): 2.2.1's plus MCS and
    SAE_J3400."""

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
    MCS = "MCS"
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    SAE_J3400 = "SAE_J3400"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class EVSEPosition(StrEnum):
    """Position of an EVSE relative to its parking space (2.3.0 §EVSEPosition, closed)."""

    LEFT = "LEFT"
    RIGHT = "RIGHT"
    CENTER = "CENTER"


class ParkingDirection(StrEnum):
    """How vehicles park relative to the roadway (2.3.0 §ParkingDirection, closed)."""

    PARALLEL = "PARALLEL"
    PERPENDICULAR = "PERPENDICULAR"
    ANGLE = "ANGLE"


class ParkingRestriction(StrEnum):
    """Who may charge at an EVSE (2.3.0 §ParkingRestriction, OpenEnum): adds EMPLOYEES, TAXIS,
    TENANTS."""

    CUSTOMERS = "CUSTOMERS"
    DISABLED = "DISABLED"
    EMPLOYEES = "EMPLOYEES"
    EV_ONLY = "EV_ONLY"
    MOTORCYCLES = "MOTORCYCLES"
    PLUGGED = "PLUGGED"
    TAXIS = "TAXIS"
    TENANTS = "TENANTS"


class TokenType(StrEnum):
    """Token types of 2.3.0 (mod_tokens §TokenType, OpenEnum): adds EMAID."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    EMAID = "EMAID"
    OTHER = "OTHER"
    RFID = "RFID"


class VehicleType(StrEnum):
    """Vehicle categories a parking space accommodates (2.3.0 §VehicleType, OpenEnum)."""

    MOTORCYCLE = "MOTORCYCLE"
    PERSONAL_VEHICLE = "PERSONAL_VEHICLE"
    PERSONAL_VEHICLE_WITH_TRAILER = "PERSONAL_VEHICLE_WITH_TRAILER"
    VAN = "VAN"
    SEMI_TRACTOR = "SEMI_TRACTOR"
    RIGID = "RIGID"
    TRUCK_WITH_TRAILER = "TRUCK_WITH_TRAILER"
    BUS = "BUS"
    DISABLED = "DISABLED"


# --- classes ---------------------------------------------------------------------------------

String12 = Annotated[str, Field(max_length=12)]
"""string(12), for ``Parking.physical_reference``."""


class Image(OcpiModel):
    """Link to an image (2.3.0 §Image); ``category`` is an OpenEnum."""

    url: URL
    thumbnail: URL | None = None
    category: Annotated[ImageCategory | str, OPEN]
    type: String4
    width: Int5 | None = None
    height: Int5 | None = None


class BusinessDetails(OcpiModel):
    """Name, website and logo of a business (2.3.0 §BusinessDetails; embeds the 2.3.0 Image)."""

    name: String100
    website: URL | None = None
    logo: Image | None = None


class EnvironmentalImpact(OcpiModel):
    """Environmental impact in g/kWh (2.3.0 §EnvironmentalImpact); ``category`` is open."""

    category: Annotated[EnvironmentalImpactCategory | str, OPEN]
    amount: Number


class EnergyMix(OcpiModel):
    """Energy mix of a Location or Tariff (2.3.0 §EnergyMix; embeds the open-category impact)."""

    is_green_energy: StrictBool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: String64 | None = None
    energy_product_name: String64 | None = None


class PublishTokenType(OcpiModel):
    """A token a non-published Location may be shown to (2.3.0 §PublishTokenType); the same
    cross-field rules as 2.2.1, with the open 2.3.0 TokenType."""

    uid: CiString36 | None = None
    type: Annotated[TokenType | str, OPEN] | None = None
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


class EVSEParking(OcpiModel):
    """Link from an EVSE to a Location's Parking (2.3.0 §EVSEParking)."""

    parking_id: CiString36
    evse_position: EVSEPosition | None = None


class Parking(OcpiModel):
    """A parking space usable while charging, for AFIR reporting (2.3.0 §Parking object).
    Dimensions are numbers (cm/kg/minutes), kept as Decimal."""

    id: CiString36
    physical_reference: String12 | None = None
    vehicle_types: list[Annotated[VehicleType | str, OPEN]] = Field(min_length=1)
    max_vehicle_weight: Number | None = None
    max_vehicle_height: Number | None = None
    max_vehicle_length: Number | None = None
    max_vehicle_width: Number | None = None
    parking_space_length: Number | None = None
    parking_space_width: Number | None = None
    dangerous_goods_allowed: StrictBool | None = None
    direction: ParkingDirection | None = None
    drive_through: StrictBool | None = None
    restricted_to_type: StrictBool
    reservation_required: StrictBool
    time_limit: Number | None = None
    roofed: StrictBool | None = None
    images: list[Image] | None = None
    lighting: StrictBool | None = None
    refrigeration_outlet: StrictBool | None = None
    standards: list[CiString36] | None = None
    apds_reference: CiString | None = None


# --- objects ---------------------------------------------------------------------------------


class Connector(OcpiModel):
    """A socket or cable of an EVSE (2.3.0 §Connector Object)."""

    id: CiString36
    standard: Annotated[ConnectorType | str, OPEN]
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: StrictInt
    max_amperage: StrictInt
    max_electric_power: StrictInt | None = None
    tariff_ids: list[CiString36] | None = None
    terms_and_conditions: URL | None = None
    capabilities: list[Annotated[ConnectorCapability | str, OPEN]] | None = None
    last_updated: DateTime


class EVSE(OcpiModel):
    """An EVSE of a Location (2.3.0 §EVSE Object)."""

    uid: CiString36
    evse_id: CiString48 | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Annotated[Capability | str, OPEN]] | None = None
    connectors: list[Connector] = Field(min_length=1)
    floor_level: String4 | None = None
    coordinates: GeoLocation | None = None
    physical_reference: String16 | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[Annotated[ParkingRestriction | str, OPEN]] | None = None
    parking: list[EVSEParking] | None = None
    images: list[Image] | None = None
    accepted_service_providers: list[String50] | None = None
    last_updated: DateTime


class Location(OcpiModel):
    """A charging location (2.3.0 §Location Object); errata lengths for address and state."""

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
    parking_type: Annotated[ParkingType | str, OPEN] | None = None
    evses: list[EVSE] | None = None
    parking_places: list[Parking] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Annotated[Facility | str, OPEN]] | None = None
    time_zone: String255
    opening_times: Hours | None = None
    charging_when_closed: StrictBool | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    help_phone: CiString25 | None = None
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "Location": Location,
    "EVSE": EVSE,
    "Connector": Connector,
    "AdditionalGeoLocation": AdditionalGeoLocation,
    "BusinessDetails": BusinessDetails,
    "DisplayText": DisplayText,
    "EVSEParking": EVSEParking,
    "EnergyMix": EnergyMix,
    "EnergySource": EnergySource,
    "EnvironmentalImpact": EnvironmentalImpact,
    "ExceptionalPeriod": ExceptionalPeriod,
    "GeoLocation": GeoLocation,
    "Hours": Hours,
    "Image": Image,
    "Parking": Parking,
    "PublishTokenType": PublishTokenType,
    "RegularHours": RegularHours,
    "StatusSchedule": StatusSchedule,
}
