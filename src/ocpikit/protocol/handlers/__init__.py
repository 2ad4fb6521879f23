"""Module handlers on head objects, keyed by :attr:`ocpikit.protocol.endpoints.Operation.name`.

:data:`HANDLERS` binds every operation of the endpoint table to a handler; a test checks that
no operation is left without one. The server looks handlers up here and never contains module
logic itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from ocpikit.core.errors import NotFound
from ocpikit.protocol.handlers import modules as m
from ocpikit.protocol.handlers import objects as o
from ocpikit.protocol.handlers import payments as pay
from ocpikit.protocol.handlers.base import (
    Call,
    Handler,
    OwnParty,
    Reply,
    Services,
    object_key,
    serve_object,
)

__all__ = ["HANDLERS", "Call", "Handler", "OwnParty", "Reply", "Services"]

KINDS = o.KINDS
NESTED = o.NESTED


def _list(name: str, *, require_date_from: bool = False) -> Handler:
    async def handler(call: Call, services: Services) -> Reply:
        return await o.list_objects(call, services, name, require_date_from=require_date_from)

    return handler


async def _get_location(call: Call, services: Services) -> Reply:
    key = object_key(
        "Location", call.party.country_code, call.party.party_id, call.params["location_id"]
    )
    stored = await services.storage.objects.get(key, version=call.version.text)
    if stored is None or stored.owner is not None:
        raise NotFound(f"Unknown location {call.params['location_id']!r}")
    return Reply(raw_data=await serve_object(services, stored, call.version, "Location"))


def _receiver(kind: o.Kind) -> dict[str, Handler]:
    return {
        "get": partial(o.get_object, kind=kind),
        "put": partial(o.put_object, kind=kind),
        "patch": partial(o.patch_object, kind=kind),
        "delete": partial(o.delete_object, kind=kind),
    }


_LOC = _receiver(KINDS["locations"])
_SES = _receiver(KINDS["sessions"])
_TAR = _receiver(KINDS["tariffs"])
_TOK = _receiver(KINDS["tokens"])
_BOOK = _receiver(KINDS["booking"])
_BL = _receiver(KINDS["booking_location"])
_IR = _receiver(KINDS["invoicereconciliation"])

HANDLERS: Mapping[str, Handler] = {
    # Locations
    "locations.sender.list": _list("Location"),
    "locations.sender.get_location": _get_location,
    "locations.sender.get_evse": partial(o.get_nested, nested=NESTED["evse"], own=True),
    "locations.sender.get_connector": partial(o.get_nested, nested=NESTED["connector"], own=True),
    "locations.receiver.get_location": _LOC["get"],
    "locations.receiver.put_location": _LOC["put"],
    "locations.receiver.patch_location": _LOC["patch"],
    "locations.receiver.get_evse": partial(o.get_nested, nested=NESTED["evse"], own=False),
    "locations.receiver.put_evse": partial(o.write_nested, nested=NESTED["evse"], patch=False),
    "locations.receiver.patch_evse": partial(o.write_nested, nested=NESTED["evse"], patch=True),
    "locations.receiver.get_connector": partial(
        o.get_nested, nested=NESTED["connector"], own=False
    ),
    "locations.receiver.put_connector": partial(
        o.write_nested, nested=NESTED["connector"], patch=False
    ),
    "locations.receiver.patch_connector": partial(
        o.write_nested, nested=NESTED["connector"], patch=True
    ),
    # Sessions
    "sessions.sender.list": _list("Session", require_date_from=True),
    "sessions.sender.charging_preferences": m.charging_preferences,
    "sessions.receiver.get": _SES["get"],
    "sessions.receiver.put": _SES["put"],
    "sessions.receiver.patch": _SES["patch"],
    # CDRs
    "cdrs.sender.list": _list("CDR"),
    "cdrs.receiver.post": m.post_cdr,
    "cdrs.receiver.get": m.get_cdr,
    # Tariffs
    "tariffs.sender.list": _list("Tariff"),
    "tariffs.receiver.get": _TAR["get"],
    "tariffs.receiver.put": _TAR["put"],
    "tariffs.receiver.patch": _TAR["patch"],
    "tariffs.receiver.delete": _TAR["delete"],
    # Tokens
    "tokens.sender.list": _list("Token"),
    "tokens.sender.authorize": m.authorize,
    "tokens.receiver.get": _TOK["get"],
    "tokens.receiver.put": _TOK["put"],
    "tokens.receiver.patch": _TOK["patch"],
    # Commands
    "commands.receiver.post": m.command_request,
    "commands.sender.result": m.command_result,
    # ChargingProfiles
    "chargingprofiles.receiver.get": m.charging_profile_request,
    "chargingprofiles.receiver.put": m.charging_profile_request,
    "chargingprofiles.receiver.delete": m.charging_profile_request,
    "chargingprofiles.sender.result": m.charging_profile_result,
    "chargingprofiles.sender.active": m.active_charging_profile,
    # HubClientInfo: the Sender list is a HUB party's (its own ClientInfo objects)
    "hubclientinfo.sender.list": _list("ClientInfo"),
    "hubclientinfo.receiver.get": m.clientinfo_get,
    "hubclientinfo.receiver.put": m.clientinfo_put,
    # Payments: the PTP's Sender, the CPO's Receiver
    "payments.sender.list_terminals": pay.list_terminals,
    "payments.sender.activate_terminal": pay.activate_terminal,
    "payments.sender.get_terminal": pay.get_own_terminal,
    "payments.sender.put_terminal": pay.update_terminal,
    "payments.sender.patch_terminal": pay.update_terminal,
    "payments.sender.deactivate_terminal": pay.deactivate_terminal,
    "payments.sender.list_facs": pay.list_facs,
    "payments.sender.get_fac": pay.get_own_fac,
    "payments.receiver.post_terminal": pay.post_terminal,
    "payments.receiver.get_terminal": pay.get_terminal,
    "payments.receiver.post_fac": pay.post_fac,
    "payments.receiver.get_fac": pay.get_fac,
    # Bookings
    "bookings.sender.list_booking_locations": _list("BookingLocation"),
    "bookings.sender.get_booking_location": m.get_booking_location,
    "bookings.sender.get_calendar": partial(o.get_nested, nested=NESTED["calendar"], own=True),
    "bookings.sender.list": _list("Booking"),
    "bookings.sender.post": m.post_booking,
    "bookings.receiver.get_booking": _BOOK["get"],
    "bookings.receiver.put_booking": _BOOK["put"],
    "bookings.receiver.patch_booking": _BOOK["patch"],
    "bookings.receiver.get_booking_location": _BL["get"],
    "bookings.receiver.put_booking_location": _BL["put"],
    "bookings.receiver.patch_booking_location": _BL["patch"],
    "bookings.receiver.get_calendar": partial(o.get_nested, nested=NESTED["calendar"], own=False),
    "bookings.receiver.put_calendar": partial(
        o.write_nested, nested=NESTED["calendar"], patch=False
    ),
    "bookings.receiver.patch_calendar": partial(
        o.write_nested, nested=NESTED["calendar"], patch=True
    ),
    # Invoice Reconciliation
    "invoicereconciliation.sender.list": _list("InvoiceReconciliationRecord"),
    "invoicereconciliation.receiver.post": m.post_record,
    "invoicereconciliation.receiver.get": _IR["get"],
    "invoicereconciliation.receiver.put": _IR["put"],
    "invoicereconciliation.receiver.delete": _IR["delete"],
}
