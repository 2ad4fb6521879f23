"""Module-specific handlers (everything that is not plain object storage): real-time token
authorization, CDR POST, Commands, ChargingProfiles, charging preferences, HubClientInfo,
Payments, Bookings and Invoice Reconciliation (DIGEST §3.2-§3.10)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from ocpikit.convert import convert
from ocpikit.core.errors import (
    InvalidOrMissingParameters,
    NotEnoughInformation,
    NotFound,
    UnknownLocation,
    UnknownToken,
)
from ocpikit.core.types import ci_equal
from ocpikit.core.versions import HEAD, V2_2_1
from ocpikit.protocol import cdr_evse_uid, commands, webhooks
from ocpikit.protocol.decisions import DecisionRequest
from ocpikit.protocol.handlers.base import (
    Call,
    Reply,
    Services,
    check_owner,
    head_to_version,
    last_updated_of,
    load_head,
    object_key,
    partner_body,
    serve_object,
)
from ocpikit.protocol.handlers.objects import KINDS, token_key_id
from ocpikit.protocol.parties import client_info_entry, is_hub
from ocpikit.protocol.ports import CommandDirection, CommandRecord
from ocpikit.protocol.webhooks import emit

__all__ = [
    "authorize",
    "charging_preferences",
    "charging_profile_request",
    "charging_profile_result",
    "command_request",
    "command_result",
    "post_cdr",
]


def _partner_id(call: Call) -> str | None:
    return call.partner.id if call.partner is not None else None


def _request(call: Call, kind: str, payload: dict[str, Any]) -> DecisionRequest:
    return DecisionRequest(kind, call.party.key, _partner_id(call), payload)


# --- Tokens Sender: POST {token_uid}/authorize (eMSP) -----------------------------------------
async def authorize(call: Call, services: Services) -> Reply:
    uid = call.params["token_uid"]
    token_type = call.query.get("type") or "RFID"
    key = object_key(
        "Token", call.party.country_code, call.party.party_id, token_key_id(uid, token_type)
    )
    stored = await services.storage.objects.get(key)
    if stored is None or stored.owner is not None:
        if call.version >= V2_2_1:
            raise UnknownToken(f"Unknown token {uid!r}")
        raise NotFound(f"Unknown token {uid!r}")
    refs: dict[str, Any] | None = None
    if call.body not in (None, b"", {}):
        if not isinstance(call.body, dict):
            raise InvalidOrMissingParameters("LocationReferences must be a JSON object")
        refs = load_head(call.version, "LocationReferences", call.body)
        if not refs.get("location_id"):
            raise InvalidOrMissingParameters(path="location_id")
    token_doc = stored.document
    if token_doc.get("whitelist") == "NEVER" and refs is None:
        raise NotEnoughInformation("LocationReferences are required for this token")
    decision = await services.decisions.authorize(
        _request(call, "authorize", {"token": token_doc, "location": refs})
    )
    info: dict[str, Any] = {"allowed": decision.allowed}
    if call.version >= V2_2_1:
        info["token"] = head_to_version(token_doc, call.version, "Token")
        info["authorization_reference"] = decision.authorization_reference or uuid.uuid4().hex[:20]
    if refs is not None:
        info["location"] = call.body
    if decision.message:
        info["info"] = {"language": "en", "text": decision.message[:512]}
    await emit(
        services.decisions,
        "authorization.requested",
        {"uid": uid, "type": token_type, "location": refs, "answer": {**info, "token": token_doc}},
        partner_id=_partner_id(call),
    )
    return Reply(data=info)


# --- CDRs Receiver: POST (eMSP) ----------------------------------------------------------------
async def post_cdr(call: Call, services: Services) -> Reply:
    partner = call.partner
    assert partner is not None
    first = partner.roles[0] if partner.roles else None
    cc = first.country_code if first else call.party.country_code
    pid = first.party_id if first else call.party.party_id
    body = partner_body(call, "CDR", call.body)
    if call.version >= V2_2_1 and cdr_evse_uid.switched_on(partner.settings):
        body = await cdr_evse_uid.with_evse_uid(services.storage.objects, body, owner=partner.id)
    head = load_head(call.version, "CDR", body, country_code=cc, party_id=pid)
    if call.version >= V2_2_1:
        cc, pid = str(head.get("country_code", cc)), str(head.get("party_id", pid))
    else:
        head["country_code"], head["party_id"] = cc, pid
    check_owner(call, cc, pid)
    key = object_key("CDR", cc, pid, str(head["id"]))
    existing = await services.storage.objects.get(key)
    location = f"{call.module_url}/{cc}/{pid}/{head['id']}"
    if existing is not None:
        # CDRs are immutable: a repeated POST of the same CDR is answered as before
        return Reply(headers={"Location": location})
    await services.storage.objects.put(
        key,
        orjson.dumps(head),
        last_updated=last_updated_of(head, services.clock.now()),
        owner=_partner_id(call),
    )
    await services.learner.saw(services.storage.parties, partner, cc, pid, "CDR")
    await emit(services.decisions, "cdr.received", head, partner_id=_partner_id(call))
    return Reply(http_status=201, headers={"Location": location})


async def get_cdr(call: Call, services: Services) -> Reply:
    cc, pid = call.params["country_code"], call.params["party_id"]
    check_owner(call, cc, pid)
    stored = await services.storage.objects.get(
        object_key("CDR", cc, pid, call.params["cdr_id"]), version=call.version.text
    )
    if stored is None or stored.owner != _partner_id(call):
        raise NotFound(f"Unknown CDR {call.params['cdr_id']!r}")
    return Reply(raw_data=await serve_object(services, stored, call.version, "CDR"))


# --- Commands Receiver: POST {command} (CPO) ---------------------------------------------------
def _command_response(call: Call, result: str, timeout: int, message: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"result": result}
    if call.version >= V2_2_1:
        out["timeout"] = timeout
        if message:
            out["message"] = [{"language": "en", "text": message[:512]}]
    return out


async def _refuse(
    call: Call,
    services: Services,
    record: CommandRecord,
    result: str,
    message: str,
    **reply: Any,
) -> Reply:
    """Answer without handing the command on (state ANSWERED, kept for the audit trail)."""
    response = {"result": result, "timeout": 0}
    done = commands.accept_received(record, response, services.clock.now())
    await services.storage.commands.save(done)
    await emit(
        services.decisions,
        "command.received",
        {
            "command_id": record.id,
            "command": record.command,
            "request": record.request,
            "response": response,
        },
        partner_id=record.partner_id,
    )
    return Reply(data=_command_response(call, result, 0, message), **reply)


async def command_request(call: Call, services: Services) -> Reply:
    """The CPO's synchronous answer (DIGEST §3.6): the command is checked against what we know,
    the operator decides (decisions port), and an ACCEPTED command waits in the CommandStore
    for the operator's result (``POST /admin/api/commands/{id}/result``) or its TIMEOUT, which
    the sweep of ``ocpikit.operations.commands`` POSTs to the ``response_url``."""
    command = call.params["command"].upper()
    name = commands.COMMAND_OBJECTS.get(command)
    if name is None or (command == "CANCEL_RESERVATION" and call.version < V2_2_1):
        return Reply(data=_command_response(call, "NOT_SUPPORTED", 0, "Unknown command"))
    body = load_head(call.version, name, call.body)
    record_id = uuid.uuid4().hex
    record = commands.new_received(
        record_id,
        command,
        _partner_id(call),
        body,
        str(body.get("response_url") or "") or None,
    )
    payload: dict[str, Any] = {"command_id": record_id, "command": command, "request": body}
    location_id = body.get("location_id")
    if location_id:
        loc = await services.storage.objects.get(
            object_key("Location", call.party.country_code, call.party.party_id, str(location_id))
        )
        if loc is None or loc.owner is not None:
            return await _refuse(
                call,
                services,
                record,
                "REJECTED",
                "Unknown location",
                status_code=UnknownLocation.default_status_code,
                status_message=f"Unknown location {location_id!r}",
            )
        payload["location"] = loc.document
    session_id = body.get("session_id")
    if command == "STOP_SESSION" and session_id:
        sess = await services.storage.objects.get(
            object_key("Session", call.party.country_code, call.party.party_id, str(session_id))
        )
        if sess is None or sess.owner is not None or not callers_session(call, sess.document):
            return await _refuse(call, services, record, "UNKNOWN_SESSION", "Unknown session")
        payload["session"] = sess.document
    decision = await services.decisions.command(_request(call, "command", payload))
    response = {"result": decision.result, "timeout": decision.timeout}
    immediate = {"result": decision.command_result} if decision.command_result is not None else None
    saved = commands.accept_received(
        record, response, services.clock.now(), immediate_result=immediate
    )
    await services.storage.commands.save(saved)
    await emit(
        services.decisions,
        "command.received",
        {"command_id": record_id, "command": command, "request": body, "response": response},
        partner_id=record.partner_id,
    )
    return Reply(data=_command_response(call, decision.result, decision.timeout, decision.message))


# --- Commands Sender: POST {response_url} (eMSP receives the async result) ----------------------
def _head_command_result(call: Call) -> dict[str, Any]:
    """The body POSTed to our response_url as a head CommandResult (DIGEST §6.8: 2.1.1 sends a
    CommandResponse, possibly a bare string; UNKNOWN_SESSION becomes REJECTED)."""
    body = call.body
    if isinstance(body, str):  # 2.1.1 peers may send a bare CommandResponseType
        body = {"result": body}
    if not isinstance(body, dict) or not isinstance(body.get("result"), str):
        raise InvalidOrMissingParameters(path="result")
    if call.version < V2_2_1:
        load_head(call.version, "CommandResponse", body)  # validates the 2.1.1 shape
        head, _losses = convert(body, "CommandResult", call.version, HEAD)
        return head
    return load_head(call.version, "CommandResult", body)


async def command_result(call: Call, services: Services) -> Reply:
    result = _head_command_result(call)
    uid = call.params["uid"]
    existing = await services.storage.commands.get(CommandDirection.SENT, uid)
    if existing is None or existing.command == webhooks.KIND:
        # a result for a command this platform did not send (or sent before the store
        # existed): kept, so that the operator can still see it
        existing = commands.new_sent(
            uid, call.params["command"].upper(), _partner_id(call) or "", {}, call.url
        )
        existing = dataclasses.replace(existing, state=commands.State.PENDING)
    if existing.partner_id and existing.partner_id != _partner_id(call):
        raise NotFound(f"Unknown command {uid!r}")
    await services.storage.commands.save(commands.on_result(existing, result))
    await emit(
        services.decisions,
        "command.result",
        {"command_id": uid, "command": existing.command, "result": result},
        partner_id=_partner_id(call),
    )
    return Reply()


# --- ChargingProfiles Receiver (CPO) -----------------------------------------------------------
async def charging_profile_request(call: Call, services: Services) -> Reply:
    session_id = call.params["session_id"]
    method = call.op.method
    if method == "PUT":
        body = load_head(call.version, "SetChargingProfile", call.body)
        response_url = str(body.get("response_url", ""))
    else:
        response_url = call.query.get("response_url", "")
        if not response_url:
            raise InvalidOrMissingParameters(path="response_url")
        body = {"response_url": response_url}
        if method == "GET":
            duration = call.query.get("duration", "")
            if not duration.isdigit():
                raise InvalidOrMissingParameters(path="duration")
            body["duration"] = int(duration)
    kind = {"GET": "GET_PROFILE", "PUT": "SET_PROFILE", "DELETE": "CLEAR_PROFILE"}[method]
    record = commands.new_received(
        uuid.uuid4().hex, kind, _partner_id(call), {"session_id": session_id, **body}, response_url
    )
    sess = await services.storage.objects.get(
        object_key("Session", call.party.country_code, call.party.party_id, session_id)
    )
    now = services.clock.now()
    if sess is None or sess.owner is not None or not callers_session(call, sess.document):
        response = {"result": "UNKNOWN_SESSION", "timeout": 0}
        await services.storage.commands.save(commands.accept_received(record, response, now))
        return Reply(data=response)
    decision = await services.decisions.charging_profile(
        _request(
            call,
            "charging_profile",
            {
                "profile_request_id": record.id,
                "action": kind,
                "request": body,
                "session": sess.document,
            },
        )
    )
    response = {"result": decision.result, "timeout": decision.timeout}
    immediate = {"result": decision.command_result} if decision.command_result is not None else None
    await services.storage.commands.save(
        commands.accept_received(record, response, now, immediate_result=immediate)
    )
    return Reply(data=response)


# --- ChargingProfiles Sender (eMSP): results and active-profile updates ------------------------
async def charging_profile_result(call: Call, services: Services) -> Reply:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("result"), str):
        raise InvalidOrMissingParameters(path="result")
    name = "ActiveChargingProfileResult" if "profile" in body else "ChargingProfileResult"
    load_head(call.version, name, body)
    request_id = call.params["request_id"]
    existing = await services.storage.commands.get(CommandDirection.SENT, request_id)
    if existing is None or existing.command not in commands.PROFILE_ACTIONS:
        existing = CommandRecord(
            id=request_id,
            direction=CommandDirection.SENT,
            command="CHARGING_PROFILE",
            state=commands.State.PENDING,
            partner_id=_partner_id(call),
            request={"session_id": call.params["session_id"]},
        )
    await services.storage.commands.save(commands.on_result(existing, body))
    return Reply()


async def active_charging_profile(call: Call, services: Services) -> Reply:
    body = load_head(call.version, "ActiveChargingProfile", call.body)
    await services.storage.commands.save(
        CommandRecord(
            id=f"active:{call.params['session_id']}",
            direction=CommandDirection.SENT,
            command="ACTIVE_PROFILE",
            state="RECEIVED",
            partner_id=_partner_id(call),
            request={"session_id": call.params["session_id"]},
            result=body,
            final=True,
        )
    )
    return Reply()


def callers_session(call: Call, session: Mapping[str, Any]) -> bool:
    """Whether ``session`` (one of ours) was started with a token of the caller's parties (the
    eMSP whose driver charges), or the caller is a hub: only then may it stop the session or
    set its charging preferences and profiles. Anyone else is told the session is unknown,
    which says nothing about whether it exists."""
    partner = call.partner
    if partner is None:
        return False
    if any(role.role.upper() == "HUB" for role in partner.roles):
        return True
    token = session.get("cdr_token")
    if not isinstance(token, Mapping):
        return False
    cc, pid = token.get("country_code"), token.get("party_id")
    return any(
        ci_equal(role.country_code, str(cc)) and ci_equal(role.party_id, str(pid))
        for role in partner.roles
    )


# --- Sessions Sender: PUT {session_id}/charging_preferences (CPO, 2.2+) ------------------------
async def charging_preferences(call: Call, services: Services) -> Reply:
    load_head(call.version, "ChargingPreferences", call.body)
    sess = await services.storage.objects.get(
        object_key(
            "Session", call.party.country_code, call.party.party_id, call.params["session_id"]
        )
    )
    if sess is None or sess.owner is not None or not callers_session(call, sess.document):
        raise NotFound(f"Unknown session {call.params['session_id']!r}")
    return Reply(data="ACCEPTED")


# --- HubClientInfo Receiver (2.2+): the Hub owns these, no ownership check --------------------
async def clientinfo_get(call: Call, services: Services) -> Reply:
    cc, pid = call.params["country_code"], call.params["party_id"]
    stored = await services.storage.objects.get(
        object_key("ClientInfo", cc, pid, f"{cc}{pid}"), version=call.version.text
    )
    if stored is None:
        raise NotFound(f"Unknown client {cc}/{pid}")
    return Reply(raw_data=await serve_object(services, stored, call.version, "ClientInfo"))


async def clientinfo_put(call: Call, services: Services) -> Reply:
    """A hub tells us the connection status of a party behind it (OCPI 2.2.1
    mod_hub_client_info): only a connection with the HUB role may."""
    partner = call.partner
    if partner is None or not is_hub(partner):
        raise NotFound("HubClientInfo is only accepted from a hub connection")
    cc, pid = call.params["country_code"], call.params["party_id"]
    head = load_head(call.version, "ClientInfo", call.body)
    for f in ("country_code", "party_id"):
        if not ci_equal(str(head.get(f, "")), call.params[f]):
            raise InvalidOrMissingParameters(f"{f}: differs from the URL", path=f)
    stored = await services.storage.objects.put(
        object_key("ClientInfo", cc, pid, f"{cc}{pid}"),
        orjson.dumps(head),
        last_updated=last_updated_of(head, services.clock.now()),
        owner=_partner_id(call),
    )
    await services.storage.parties.learn([client_info_entry(partner, head)])
    return Reply(http_status=201 if stored.created else 200)


def _partner_party(call: Call) -> tuple[str, str]:
    """The calling connection's first party (ours when there is no partner)."""
    partner = call.partner
    if partner is not None and partner.roles:
        return partner.roles[0].country_code, partner.roles[0].party_id
    return call.party.country_code, call.party.party_id


#: a new booking's ReservationStatus -> the status of its request (mod_bookings §Flow)
REQUEST_STATUS_OF = {
    "PENDING": "PENDING",
    "RESERVED": "ACCEPTED",
    "REJECTED": "DECLINED",
    "FAILED": "FAILED",
}


# --- Bookings Sender (CPO, 2.3.0): BookingRequest → Booking -----------------------------------
async def post_booking(call: Call, services: Services) -> Reply:
    req = load_head(call.version, "BookingRequest", call.body)
    party = call.party
    loc = await services.storage.objects.get(
        object_key("Location", party.country_code, party.party_id, str(req["location_id"]))
    )
    if loc is None or loc.owner is not None:
        raise UnknownLocation(f"Unknown location {req['location_id']!r}")
    decision = await services.decisions.booking(
        _request(call, "booking", {"booking_request": req, "location": loc.document})
    )
    status = decision.status
    now = services.clock.now()
    terms: dict[str, Any] = {
        "supported_access_methods": ["OPEN"],
        "change_until_minutes": 0,
        "cancel_until_minutes": 0,
    }
    booking: dict[str, Any] = {
        "id": uuid.uuid4().hex[:24],
        "country_code": party.country_code,
        "party_id": party.party_id,
        "request_id": req["request_id"],
        "location_id": req["location_id"],
        "period": req["period"],
        "reservation_status": status,
        "authorization_reference": req["authorization_reference"],
        "booking_terms": terms,
        "booking_requests": [
            {
                "request_status": REQUEST_STATUS_OF[status],
                "booking_request": req,
                "request_received": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ],
        "last_updated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    for f in ("evse_uid", "connector_id"):
        if req.get(f):
            booking[f] = req[f]
    if req.get("tokens"):
        booking["booking_tokens"] = req["tokens"]
    head = load_head(call.version, "Booking", booking)
    await services.storage.objects.put(
        object_key("Booking", party.country_code, party.party_id, booking["id"]),
        orjson.dumps(head),
        last_updated=now,
        owner=None,
    )
    if call.partner is not None:
        # its later changes go to the eMSP that asked (ocpikit.operations.own_objects.targets)
        await services.storage.parties.pin(
            "Booking", party.country_code, party.party_id, booking["id"], call.partner.id
        )
    return Reply(data=head, status_message=decision.message)


async def get_booking_location(call: Call, services: Services) -> Reply:
    party = call.party
    stored = await services.storage.objects.get(
        object_key(
            "BookingLocation",
            party.country_code,
            party.party_id,
            call.params["booking_location_id"],
        ),
        version=call.version.text,
    )
    if stored is None or stored.owner is not None:
        raise NotFound(f"Unknown booking location {call.params['booking_location_id']!r}")
    return Reply(raw_data=await serve_object(services, stored, call.version, "BookingLocation"))


# --- Invoice Reconciliation Receiver (2.3.0): POST of a new record -----------------------------
async def post_record(call: Call, services: Services) -> Reply:
    kind = KINDS["invoicereconciliation"]
    head = load_head(call.version, kind.name, call.body)
    cc, pid = _partner_party(call)
    cc, pid = str(head.get("country_code") or cc), str(head.get("party_id") or pid)
    check_owner(call, cc, pid)
    await services.storage.objects.put(
        object_key(kind.name, cc, pid, str(head["id"])),
        orjson.dumps(head),
        last_updated=last_updated_of(head, services.clock.now()),
        owner=_partner_id(call),
    )
    return Reply(http_status=201)
