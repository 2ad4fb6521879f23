"""2.3.0 Payments, Bookings and Invoice Reconciliation models against the module tables.

The Payments and Bookings examples partly contradict their own tables (DIGEST A18, A19):
each such example is asserted to be rejected for the documented reason.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ocpikit.core.patch import merge_patch
from ocpikit.core.types import parse_datetime
from ocpikit.models import OBJECTS, OcpiModel
from ocpikit.models.v2_3_0 import bookings as bk
from ocpikit.models.v2_3_0 import invoice_reconciliation as ir
from ocpikit.models.v2_3_0 import payments as pay
from ocpikit.models.v2_3_0.types import Price

_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def norm(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, str) and _TS.match(value):
        return parse_datetime(value)
    return value


def example(data_dir: Path, name: str) -> Any:
    return json.loads((data_dir / "spec/2.3.0/examples" / name).read_text())


def errors(exc: pytest.ExceptionInfo[ValidationError]) -> set[tuple[tuple[str | int, ...], str]]:
    return {(tuple(e["loc"]), e["type"]) for e in exc.value.errors()}


# --- Payments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "payment_terminal_create.json",
        "payment_terminal_example_newly_created.json",
        "payment_terminal_example_assigned_locations.json",
        "payment_terminal_example_assigned_locations_assigned_evses.json",
        "payment_terminal_activate.json",
    ],
)
def test_terminal_examples_round_trip(data_dir: Path, name: str) -> None:
    data = example(data_dir, name)
    assert norm(pay.Terminal.parse(data).dump()) == norm(data)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        # errata A18: POST body with only terminal_id; the table makes last_updated required
        ("payment_terminal_create_minimal.json", {(("last_updated",), "missing")}),
        # the PUT body is a Terminal, but the example has no terminal_id
        ("payment_terminal_put_update.json", {(("terminal_id",), "missing")}),
    ],
)
def test_terminal_examples_wrong_per_table(
    data_dir: Path, name: str, reason: set[tuple[tuple[str, ...], str]]
) -> None:
    with pytest.raises(ValidationError) as exc:
        pay.Terminal.parse(example(data_dir, name))
    assert errors(exc) == reason


def test_terminal_location_assignment_is_a_patch(data_dir: Path) -> None:
    data = example(data_dir, "payment_terminal_location_assignment.json")
    assert pay.Terminal.parse_patch(data) == data  # valid fields, but no last_updated (A18)


@pytest.mark.parametrize(
    "name",
    [
        "payment_financial_advice_confirmation_create.json",
        "payment_financial_advice_confirmation_example_success.json",
    ],
)
def test_fac_examples_with_221_price_shape_round_trip(data_dir: Path, name: str) -> None:
    data = example(data_dir, name)
    fac = pay.FinancialAdviceConfirmation.parse(data)
    assert norm(fac.dump()) == norm(data)  # dumped back in the shape it came in (PRACTICE A18)
    assert fac.capture_status_code is pay.CaptureStatusCode.SUCCESS


def test_fac_failure_example_lacks_required_eft_data(data_dir: Path) -> None:
    data = example(data_dir, "payment_financial_advice_confirmation_example_failure.json")
    with pytest.raises(ValidationError) as exc:
        pay.FinancialAdviceConfirmation.parse(data)
    assert errors(exc) == {(("eft_data",), "missing")}  # cardinality + (A18)


def test_fac_230_price_shape_and_eft_data_rules(data_dir: Path) -> None:
    data = example(data_dir, "payment_financial_advice_confirmation_create.json")
    data["total_costs"] = {"before_taxes": 4.0, "taxes": [{"name": "VAT", "amount": 0.4}]}
    fac = pay.FinancialAdviceConfirmation.parse(data)
    assert isinstance(fac.total_costs, Price)
    assert norm(fac.dump()) == norm(data)
    with pytest.raises(ValidationError) as exc:
        pay.FinancialAdviceConfirmation.parse({**data, "eft_data": []})
    assert errors(exc) == {(("eft_data",), "too_short")}
    with pytest.raises(ValidationError) as exc:
        pay.FinancialAdviceConfirmation.parse({**data, "eft_data": ["ok", ""]})
    assert errors(exc) == {(("eft_data", 1), "string_too_short")}
    with pytest.raises(ValidationError) as exc:
        pay.FinancialAdviceConfirmation.parse({**data, "capture_status_code": "PENDING"})
    assert errors(exc) == {(("capture_status_code",), "enum")}


def test_terminal_rejects_bad_fields() -> None:
    base = {"terminal_id": "T1", "last_updated": "2018-12-10T17:16:15Z"}
    with pytest.raises(ValidationError) as exc:
        pay.Terminal.parse({**base, "invoice_creator": "EMSP"})
    assert errors(exc) == {(("invoice_creator",), "enum")}
    with pytest.raises(ValidationError) as exc:
        pay.Terminal.parse({**base, "country": "AUST", "location_ids": ["x" * 37]})
    assert {e[0] for e in errors(exc)} == {("country",), ("location_ids", 0)}


# --- Bookings ---------------------------------------------------------------------------------

TERMS: dict[str, Any] = {
    "supported_access_methods": ["LICENSE_PLATE", "ACCESS_CODE"],
    "change_until_minutes": 200,
    "cancel_until_minutes": 600,
}
REQUEST: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "INF",
    "request_id": "RE1222",
    "location_id": "1234",
    "booking_location_id": "BL1",
    "booking_option": {"evse_uid": "3256", "vehicle_types": ["PERSONAL_VEHICLE", "HOVERCRAFT"]},
    "period": {"start_date_time": "2025-03-23T12:00:00Z", "end_date_time": "2025-03-23T13:00:00Z"},
    "authorization_reference": "pp-100100-1948213567",
}
BOOKING: dict[str, Any] = {
    "id": "12345",
    "country_code": "NL",
    "party_id": "INF",
    "request_id": "RE1222",
    "location_id": "1234",
    "booking_tokens": [
        {
            "country_code": "NL",
            "party_id": "INF",
            "uid": "u1",
            "type": "RFID",
            "contract_id": "CO124",
        }
    ],
    "period": {"start_date_time": "2025-03-23T12:00:00Z", "end_date_time": "2025-03-23T13:00:00Z"},
    "reservation_status": "RESERVED",
    "authorization_reference": "pp-100100-1948213567",
    "booking_terms": TERMS,
    "booking_requests": [
        {
            "request_status": "ACCEPTED",
            "booking_request": REQUEST,
            "request_received": "2024-12-05T20:02:13Z",
        }
    ],
    "last_updated": "2024-12-05T20:02:13Z",
}
CALENDAR: dict[str, Any] = {
    "id": "C0123",
    "begin_from": "2025-03-23T00:00:00Z",
    "end_before": "2025-03-24T00:00:00Z",
    "available_timeslots": [BOOKING["period"]],
    "last_updated": "2024-12-05T20:02:13Z",
}
BOOKING_LOCATION: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "IHO",
    "id": "BL0123",
    "location_id": "L0C1",
    "booking_terms": TERMS,
    "calendars": [CALENDAR],
    "last_updated": "2024-12-05T20:02:13Z",
}


def test_valid_booking_objects_round_trip() -> None:
    for model, data in (
        (bk.Booking, BOOKING),
        (bk.BookingLocation, BOOKING_LOCATION),
        (bk.BookingRequest, REQUEST),
        (bk.Calendar, CALENDAR),
    ):
        assert norm(model.parse(data).dump()) == norm(data)
    request = bk.BookingRequest.parse(REQUEST)
    assert request.booking_option is not None
    assert request.booking_option.vehicle_types == ["PERSONAL_VEHICLE", "HOVERCRAFT"]


def test_booking_example_wrong_per_table(data_dir: Path) -> None:
    with pytest.raises(ValidationError) as exc:
        bk.Booking.parse(example(data_dir, "booking_example.json"))
    assert errors(exc) == {
        (("party_id",), "string_too_long"),  # "INF12": CiString(3)
        (("booking_tokens", 0, "party_id"), "string_too_long"),  # "INFOO"
        (("booking_requests", 0, "booking_request", "party_id"), "string_too_long"),
        (("booking_requests", 1, "booking_request", "party_id"), "string_too_long"),
        # BookingRequest.booking_location_id is required (cardinality 1)
        (("booking_requests", 0, "booking_request", "booking_location_id"), "missing"),
        (("booking_requests", 1, "booking_request", "booking_location_id"), "missing"),
    }


def test_booking_location_example_wrong_per_table(data_dir: Path) -> None:
    data = example(data_dir, "booking_location_example.json")
    with pytest.raises(ValidationError) as exc:
        bk.BookingLocation.parse(data)
    assert errors(exc) == {
        (("booking_option", "evse_position"), "list_type"),  # EVSEPosition is * (a list)
        # "…T23:59:99Z" / "…T08:59:99Z": 99 seconds
        (("calendars", 0, "end_before"), "datetime_from_date_parsing"),
        (("calendars", 1, "end_before"), "datetime_from_date_parsing"),
        (("calendars", 0, "available_timeslots", 0, "end_date_time"), "datetime_from_date_parsing"),
        (("calendars", 1, "available_timeslots", 0, "end_date_time"), "datetime_from_date_parsing"),
    }
    # `formats` is not a BookingOption field (the table says connector_format); it is kept as an
    # unknown field, not an error.
    assert "formats" not in bk.BookingOption.model_fields


def test_booking_patch_examples(data_dir: Path) -> None:
    status = example(data_dir, "booking_patch_example_status_update.json")
    assert norm(bk.Booking.parse_patch(status)) == norm(status)
    merged = bk.Booking.parse(merge_patch(BOOKING, status))
    assert merged.reservation_status is bk.ReservationStatus.RESERVED
    evse = example(data_dir, "booking_patch_example_evse_uid.json")
    # Booking has no evse_uid (it is booking_option.evse_uid): kept only as an unknown field
    assert "evse_uid" not in bk.Booking.model_fields
    assert bk.Booking.parse(merge_patch(BOOKING, evse)).booking_option is None
    tokens = example(data_dir, "booking_request_patch_example_tokens.json")
    assert norm(bk.BookingRequest.parse(merge_patch(REQUEST, tokens)).dump()) == norm(
        merge_patch(REQUEST, tokens)
    )


def test_booking_request_timeslot_patch_wrong_per_table(data_dir: Path) -> None:
    data = example(data_dir, "booking_request_patch_example_timeslot.json")
    assert "timeslot" not in bk.BookingRequest.model_fields  # the field is `period`
    with pytest.raises(ValidationError) as exc:
        bk.Period.parse(data["timeslot"])  # keys "start_date_time " with a trailing space
    assert errors(exc) == {(("start_date_time",), "missing"), (("end_date_time",), "missing")}


def test_booking_location_patch_examples(data_dir: Path) -> None:
    terms = example(data_dir, "booking_location_patch_example_terms.json")
    merged = merge_patch(BOOKING_LOCATION, terms)  # objects merge recursively (core.patch)
    assert norm(bk.BookingLocation.parse(merged).dump()) == norm(merged)
    calendar = example(data_dir, "booking_location_patch_example_calendar.json")
    with pytest.raises(ValidationError) as exc:
        bk.Calendar.parse(merge_patch(CALENDAR, calendar))  # lists are replaced whole
    assert errors(exc) == {
        (("available_timeslots", 0, "start_date_time"), "missing"),  # "start_date_time "
        (("available_timeslots", 0, "end_date_time"), "missing"),  # "end_date_time "
    }


@pytest.mark.parametrize(
    ("model", "data", "path", "kind"),
    [
        (
            bk.BookingTerms,
            {**TERMS, "supported_access_methods": []},
            ("supported_access_methods",),
            "too_short",
        ),
        (
            bk.BookingTerms,
            {**TERMS, "supported_access_methods": [""]},
            ("supported_access_methods", 0),
            "enum",
        ),
        (
            bk.Calendar,
            {**CALENDAR, "available_timeslots": []},
            ("available_timeslots",),
            "too_short",
        ),
        (bk.Booking, {**BOOKING, "booking_requests": []}, ("booking_requests",), "too_short"),
        (bk.Booking, {**BOOKING, "reservation_status": "BOOKED"}, ("reservation_status",), "enum"),
        (bk.Booking, {**BOOKING, "location_id": 1234}, ("location_id",), "string_type"),
        (bk.BookingRequest, {**REQUEST, "power_required": 11.5}, ("power_required",), "int_type"),
        (
            bk.BookingRequest,
            {**REQUEST, "period": BOOKING["period"] | {"end_date_time": None}},
            ("period", "end_date_time"),
            "datetime_type",
        ),
    ],
)
def test_booking_rejects_bad_fields(
    model: type[OcpiModel], data: dict[str, Any], path: tuple[str | int, ...], kind: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        model.parse(data)
    assert errors(exc) == {(path, kind)}


def test_cancellation_who_canceled_accepts_role_and_interface_role() -> None:
    for who in ("CPO", "EMSP", "SENDER", "RECEIVER"):
        data = {"cancellation_reason": "TRAFFIC", "who_canceled": who}
        assert bk.Cancellation.parse(data).dump() == data
    with pytest.raises(ValidationError) as exc:
        bk.Cancellation.parse({"cancellation_reason": "TRAFFIC", "who_canceled": "HUB"})
    assert {e[0][0] for e in errors(exc)} == {"who_canceled"}


# --- Invoice Reconciliation -------------------------------------------------------------------

RECORD: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "CPO",
    "id": "IRR-2025-03",
    "invoice_id": "INV/2025/03/0001",
    "cdrs": ["CDR1", "CDR2"],
    "last_updated": "2025-04-01T00:00:00Z",
    "x_batch": 7,
}


def test_invoice_reconciliation_record() -> None:
    assert ir.InvoiceReconciliationRecord.parse(RECORD).dump() == RECORD
    with pytest.raises(ValidationError) as exc:
        ir.InvoiceReconciliationRecord.parse({**RECORD, "cdrs": []})
    assert errors(exc) == {(("cdrs",), "too_short")}
    with pytest.raises(ValidationError) as exc:
        ir.InvoiceReconciliationRecord.parse({**RECORD, "invoice_id": "x" * 256})
    assert errors(exc) == {(("invoice_id",), "string_too_long")}


def test_registry() -> None:
    for module in (pay, bk, ir):
        for name, model in module.OBJECTS.items():
            assert OBJECTS["2.3.0"][name] is model
            assert model.__name__ == name
    assert set(bk.OBJECTS) >= {"Booking", "BookingLocation", "Calendar", "Timeslot", "Policy"}
