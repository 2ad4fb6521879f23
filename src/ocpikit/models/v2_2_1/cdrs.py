"""OCPI 2.2.1 CDRs module objects (2.2.1 ``mod_cdrs.asciidoc`` §Object description and
§Data types).

Everything changes from 2.1.1 (DIGEST §5.1, §6.5): owner fields, ``end_date_time``,
``cdr_token`` instead of ``auth_id``, a flat :class:`CdrLocation` instead of an embedded
Location, :class:`~ocpikit.models.v2_2_1.types.Price` totals and cost splits, signed meter
data and credit CDRs. ``CdrDimensionType`` drops ``FLAT`` and gains the Session-only and
power/reservation dimensions; ``ChargingPeriod`` gains ``tariff_id``.

Tolerances (DIGEST §5.1, §5.2, A14): ``id`` accepts 39 characters for every CDR (the 36 limit
for non-credit CDRs is not enforced on input), and ``SignedValue.plain_data`` accepts 5000
characters (errata to the earlier 512).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StrictBool, StrictInt, model_validator

from ocpikit.core.types import (
    CiString2,
    CiString3,
    CiString36,
    CiString39,
    CiString48,
    DateTime,
    Number,
    String3,
    String10,
    String20,
    String45,
    String255,
    String512,
    String5000,
)
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.locations import (
    ConnectorFormat,
    ConnectorType,
    GeoLocation,
    PowerType,
    TokenType,
)
from ocpikit.models.v2_2_1.tariffs import Tariff
from ocpikit.models.v2_2_1.types import Price

CiString32 = Annotated[str, Field(max_length=32)]
"""CiString(32) (SignedValue.nature); ``ocpikit.core.types`` has no alias of this length."""

__all__ = [
    "CDR",
    "OBJECTS",
    "AuthMethod",
    "CdrDimension",
    "CdrDimensionType",
    "CdrLocation",
    "CdrToken",
    "ChargingPeriod",
    "SignedData",
    "SignedValue",
]


class AuthMethod(StrEnum):
    """2.2.1 mod_cdrs §AuthMethod: 2.1.1's values plus ``COMMAND``."""

    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    """2.2.1 mod_cdrs §CdrDimensionType. ``CURRENT``, ``ENERGY_EXPORT``, ``ENERGY_IMPORT``,
    ``POWER`` and ``STATE_OF_CHARGE`` are for Sessions only (not checked here: the same class
    serves both objects)."""

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


class CdrDimension(OcpiModel):
    """2.2.1 mod_cdrs §CdrDimension."""

    type: CdrDimensionType
    volume: Number


class ChargingPeriod(OcpiModel):
    """2.2.1 mod_cdrs §ChargingPeriod (``tariff_id`` is new in 2.2)."""

    start_date_time: DateTime
    dimensions: list[CdrDimension] = Field(min_length=1)
    tariff_id: CiString36 | None = None


class CdrToken(OcpiModel):
    """2.2.1 mod_cdrs §CdrToken: the token that started the session, with its eMSP owner."""

    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: TokenType
    contract_id: CiString36


class CdrLocation(OcpiModel):
    """2.2.1 mod_cdrs §CdrLocation. ``address`` stays string(45) here although Location's grew
    in the errata (DIGEST A13); ``#NA`` ids are allowed for reservation-only CDRs."""

    id: CiString36
    name: String255 | None = None
    address: String45
    city: String45
    postal_code: String10 | None = None
    state: String20 | None = None
    country: String3
    coordinates: GeoLocation
    evse_uid: CiString36
    evse_id: CiString48
    connector_id: CiString36
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class SignedValue(OcpiModel):
    """2.2.1 mod_cdrs §SignedValue; ``plain_data`` is string(5000) per the errata note."""

    nature: CiString32
    plain_data: String5000
    signed_data: String5000


class SignedData(OcpiModel):
    """2.2.1 mod_cdrs §SignedData (Eichrecht); ``url`` is string(512) since 2.2.1."""

    encoding_method: CiString36
    encoding_method_version: StrictInt | None = None
    public_key: String512 | None = None
    signed_values: list[SignedValue] = Field(min_length=1)
    url: String512 | None = None


class CDR(OcpiModel):
    """2.2.1 mod_cdrs §CDR Object."""

    country_code: CiString2
    party_id: CiString3
    id: CiString39
    start_date_time: DateTime
    end_date_time: DateTime
    session_id: CiString36 | None = None
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString36 | None = None
    cdr_location: CdrLocation
    meter_id: String255 | None = None
    currency: String3
    tariffs: list[Tariff] | None = None
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    signed_data: SignedData | None = None
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: Number
    total_energy_cost: Price | None = None
    total_time: Number
    total_time_cost: Price | None = None
    total_parking_time: Number | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: String255 | None = None
    invoice_reference_id: CiString39 | None = None
    credit: StrictBool | None = None
    credit_reference_id: CiString39 | None = None
    home_charging_compensation: StrictBool | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _credit_needs_reference(self) -> Self:
        # mod_cdrs §CDR Object: a Credit CDR must name the CDR it credits.
        if self.credit is True and self.credit_reference_id is None:
            raise ValueError("a credit CDR (credit=true) must have credit_reference_id")
        return self


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "CDR": CDR,
    "CdrDimension": CdrDimension,
    "CdrLocation": CdrLocation,
    "CdrToken": CdrToken,
    "ChargingPeriod": ChargingPeriod,
    "SignedData": SignedData,
    "SignedValue": SignedValue,
}
