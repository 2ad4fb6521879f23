"""OCPI 2.3.0 Bookings module objects (2.3.0 mod_bookings §Object description, §Data types;
module identifier ``Booking``; data owner CPO).

Follows the module's TABLES. The module's examples contradict them in many places and are
not valid objects (DIGEST A19; the exact reasons are listed in the errata table and tested in
``tests/unit/models/test_payments_bookings_invoices.py``). Note that this text of the module
differs from the digest's summary (DIGEST §3.10 describes an earlier draft): it has
``BookingOption`` (not BookableParkingOptions), ``Policy`` (not Bookable),
``AccessInformation`` + the ``AccessMethod`` enum (not AccessMethod + LocationAccess),
``Period`` for requests, ``Calendar.timeslot_increment`` and ``tariff_ids``.

- ``Cancellation.who_canceled`` is typed ``Role`` but links to ``InterfaceRole`` (DIGEST
  §3.10 AMBIG); both enums' values are accepted.
- Enums here are closed (the module says ``_enum_``); the Locations OpenEnums it reuses
  (``VehicleType``, ``ConnectorType``) and ``TokenType`` keep unknown values.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictBool, StrictInt

from ocpikit.core.types import (
    URL,
    CiString2,
    CiString3,
    CiString36,
    DateTime,
    Number,
    String,
)
from ocpikit.core.versions import InterfaceRole
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_3_0.locations import (
    ConnectorFormat,
    ConnectorType,
    EVSEPosition,
    PowerType,
    VehicleType,
)
from ocpikit.models.v2_3_0.tokens import OpenTokenType
from ocpikit.models.v2_3_0.types import OPEN, Role

__all__ = [
    "OBJECTS",
    "AccessInformation",
    "AccessMethod",
    "Booking",
    "BookingLocation",
    "BookingOption",
    "BookingRequest",
    "BookingRequestStatus",
    "BookingTerms",
    "BookingToken",
    "Calendar",
    "CanceledReason",
    "Cancellation",
    "Period",
    "Policy",
    "ReservationRequestStatus",
    "ReservationStatus",
    "Timeslot",
]


class AccessMethod(StrEnum):
    """How a driver gets to a reserved charger (§AccessMethod)."""

    OPEN = "OPEN"
    TOKEN = "TOKEN"
    LICENSE_PLATE = "LICENSE_PLATE"
    ACCESS_CODE = "ACCESS_CODE"
    INTERCOM = "INTERCOM"
    PARKING_TICKET = "PARKING_TICKET"


class CanceledReason(StrEnum):
    """Why a booking was canceled (§CanceledReason)."""

    POWER_OUTAGE = "POWER_OUTAGE"
    BROKEN_CHARGER = "BROKEN_CHARGER"
    FULL = "FULL"
    BLOCKED = "BLOCKED"
    TRAFFIC = "TRAFFIC"
    BROKEN_VEHICLE = "BROKEN_VEHICLE"
    NO_CANCELED = "NO_CANCELED"
    UNKNOWN = "UNKNOWN"


class ReservationRequestStatus(StrEnum):
    """State of one booking request (§ReservationRequestStatus)."""

    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    FAILED = "FAILED"


class ReservationStatus(StrEnum):
    """State of a booking (§ReservationStatus); final: CANCELED, NO_SHOW, REJECTED, FAILED,
    FULFILLED (§Flow and Lifecycle)."""

    PENDING = "PENDING"
    RESERVED = "RESERVED"
    CANCELED = "CANCELED"
    FAILED = "FAILED"
    NO_SHOW = "NO_SHOW"
    FULFILLED = "FULFILLED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class AccessInformation(OcpiModel):
    """One way in, with its value (a plate, a code) (§AccessInformation)."""

    method: AccessMethod
    value: String | None = None


class BookingOption(OcpiModel):
    """What can be (or was) booked: an EVSE or a kind of parking space (§BookingOption).

    ``evse_uid`` may be ``#NA`` while no EVSE is assigned yet.
    """

    evse_uid: CiString36 | None = None
    connector_id: CiString36 | None = None
    parking_id: CiString36 | None = None
    evse_position: list[EVSEPosition] | None = None
    vehicle_types: list[Annotated[VehicleType | str, OPEN]] | None = None
    connector_format: list[ConnectorFormat] | None = None
    connector_types: list[Annotated[ConnectorType | str, OPEN]] | None = None
    power_types: list[PowerType] | None = None
    max_vehicle_weight: Number | None = None
    max_vehicle_height: Number | None = None
    max_vehicle_length: Number | None = None
    max_vehicle_width: Number | None = None
    min_parking_space_length: Number | None = None
    min_parking_space_width: Number | None = None
    dangerous_goods_allowed: StrictBool | None = None
    drive_through: StrictBool | None = None
    refrigeration_outlet: StrictBool | None = None


class BookingToken(OcpiModel):
    """A token that may use the booking (§BookingToken; same fields as CdrToken)."""

    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: OpenTokenType
    contract_id: CiString36


class Cancellation(OcpiModel):
    """Who canceled a booking and why (§Cancellation)."""

    cancellation_reason: CanceledReason
    who_canceled: Annotated[Role | InterfaceRole, Field(union_mode="left_to_right")]


class Period(OcpiModel):
    """The requested time span of a BookingRequest (§Period)."""

    start_date_time: DateTime
    end_date_time: DateTime


class Policy(OcpiModel):
    """Whether booking is required and how many ad-hoc options remain (§Policy)."""

    reservation_required: StrictBool
    ad_hoc: Number | None = None


class Timeslot(OcpiModel):
    """An available or booked time span, powers in W (§Timeslot)."""

    start_date_time: DateTime
    end_date_time: DateTime
    min_power: Number | None = None
    max_power: Number | None = None
    green_energy_support: StrictBool | None = None


class BookingTerms(OcpiModel):
    """Terms of booking at a location; durations in minutes (§BookingTerms)."""

    rfid_auth_required: StrictBool | None = None
    token_groups_supported: StrictBool | None = None
    remote_auth_supported: StrictBool | None = None
    supported_access_methods: list[AccessMethod] = Field(min_length=1)
    change_until_minutes: Number
    cancel_until_minutes: Number
    change_not_allowed: StrictBool | None = None
    early_start_allowed: StrictBool | None = None
    early_start_time: Number | None = None
    noshow_timeout: Number | None = None
    noshow_fee: StrictBool | None = None
    late_stop_allowed: StrictBool | None = None
    late_stop_time: Number | None = None
    overlapping_bookings_allowed: StrictBool | None = None
    min_booking_duration: Number | None = None
    max_booking_duration: Number | None = None
    booking_terms: URL | None = None


class BookingRequest(OcpiModel):
    """Body of the eMSP's booking POST; also kept in the booking's history
    (§BookingRequest). ``country_code``/``party_id`` are the eMSP's."""

    country_code: CiString2
    party_id: CiString3
    request_id: CiString36
    booking_option: BookingOption | None = None
    location_id: CiString36
    booking_location_id: CiString36
    tokens: list[BookingToken] | None = None
    access_information: list[AccessInformation] | None = None
    period: Period
    authorization_reference: CiString36
    power_required: StrictInt | None = None
    canceled: Cancellation | None = None


class BookingRequestStatus(OcpiModel):
    """One received request and its state (§BookingRequestStatus)."""

    request_status: ReservationRequestStatus
    booking_request: BookingRequest
    request_received: DateTime


class Calendar(OcpiModel):
    """Availability of a BookingLocation (§Calendar); ``timeslot_increment`` in minutes."""

    id: CiString36
    begin_from: DateTime
    end_before: DateTime
    timeslot_increment: StrictInt | None = None
    available_timeslots: list[Timeslot] = Field(min_length=1)
    last_updated: DateTime


class BookingLocation(OcpiModel):
    """What can be booked at a Location, with calendars (§BookingLocation)."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    location_id: CiString36
    booking_option: BookingOption | None = None
    policy: Policy | None = None
    tariff_ids: list[CiString36] | None = None
    booking_terms: BookingTerms | None = None
    calendars: list[Calendar] | None = None
    last_updated: DateTime


class Booking(OcpiModel):
    """A booking as kept by the CPO (§Booking); ``country_code``/``party_id`` are the CPO's
    and ``request_id`` stays the same for every change of the booking."""

    id: CiString36
    country_code: CiString2
    party_id: CiString3
    request_id: CiString36
    booking_option: BookingOption | None = None
    location_id: CiString36
    booking_tokens: list[BookingToken] | None = None
    tariff_ids: list[CiString36] | None = None
    period: Timeslot
    reservation_status: ReservationStatus
    canceled: Cancellation | None = None
    access_information: list[AccessInformation] | None = None
    authorization_reference: CiString36
    booking_terms: BookingTerms
    booking_requests: list[BookingRequestStatus] = Field(min_length=1)
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {
    "AccessInformation": AccessInformation,
    "Booking": Booking,
    "BookingLocation": BookingLocation,
    "BookingOption": BookingOption,
    "BookingRequest": BookingRequest,
    "BookingRequestStatus": BookingRequestStatus,
    "BookingTerms": BookingTerms,
    "BookingToken": BookingToken,
    "Calendar": Calendar,
    "Cancellation": Cancellation,
    "Period": Period,
    "Policy": Policy,
    "Timeslot": Timeslot,
}
