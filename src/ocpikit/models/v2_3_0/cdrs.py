"""OCPI 2.3.0 CDRs module objects (2.3.0 ``mod_cdrs.asciidoc``): the head CDR.

The CDRs text is the same as 2.2.1; what changes comes from other chapters (DIGEST §5.1):

- ``Price`` is ``before_taxes`` + ``taxes[]`` (types), so the CDR is written out again;
- ``TokenType`` and ``ConnectorType`` are OpenEnums, so :class:`CdrToken` and
  :class:`CdrLocation` are written out again with ``Enum | str`` fields;
- the embedded Tariffs are 2.3.0 Tariffs (``tax_included``, PriceLimit).

``AuthMethod``, ``CdrDimension``, ``CdrDimensionType``, ``ChargingPeriod``, ``SignedData`` and
``SignedValue`` are unchanged and imported from 2.2.1 (the bookings-tag dimension types and
``booking_id`` are not in our 2.3.0 text; unknown fields are kept anyway). Tolerances as in
2.2.1: ``id`` up to 39 characters, ``plain_data`` up to 5000.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, StrictBool, model_validator

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
)
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.cdrs import (
    AuthMethod,
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    SignedData,
    SignedValue,
)
from ocpikit.models.v2_3_0.locations import (
    ConnectorFormat,
    ConnectorType,
    GeoLocation,
    PowerType,
    TokenType,
)
from ocpikit.models.v2_3_0.tariffs import Tariff
from ocpikit.models.v2_3_0.types import OPEN, Price

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


class CdrToken(OcpiModel):
    """2.3.0 mod_cdrs §CdrToken; ``type`` is the OpenEnum TokenType."""

    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: Annotated[TokenType | str, OPEN]
    contract_id: CiString36


class CdrLocation(OcpiModel):
    """2.3.0 mod_cdrs §CdrLocation; ``connector_standard`` is the OpenEnum ConnectorType."""

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
    connector_standard: Annotated[ConnectorType | str, OPEN]
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class CDR(OcpiModel):
    """2.3.0 mod_cdrs §CDR Object (the head CDR)."""

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
