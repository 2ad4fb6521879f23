"""The Receiver interfaces of the emulated partner: client-owned objects the platform pushes
(transport_and_format §Client Owned Object Push: ``/{country_code}/{party_id}/{id}``), CDRs
POSTed, and commands (mod_commands §Receiver interface), answered now with a CommandResponse
and later with a CommandResult POSTed to the ``response_url`` (a command about a simulated
charge point is forwarded to it, and its answer gives the CommandResult: fleet.py).

A strict receiver: a body is checked against the model of our version, and a field error is
answered with 2001 naming its JSON path; the URL's party must be one the platform registered
with (HTTP 404, 2001 otherwise: transport_and_format §Errors), and the body's
``country_code``/``party_id``/``id`` must match the URL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pydantic
from starlette.requests import Request
from starlette.responses import Response

from ocpikit.models import model_for

from .data import MODULE_OBJECT
from .outbound import OutboundError, call
from .replies import Call, Refusal, call_of, read_json, refuse, reply

__all__ = ["receiver"]

_COMMANDS = {
    "START_SESSION": "StartSession",
    "STOP_SESSION": "StopSession",
    "RESERVE_NOW": "ReserveNow",
    "UNLOCK_CONNECTOR": "UnlockConnector",
    "CANCEL_RESERVATION": "CancelReservation",
}


def validate(version: str, name: str, body: Any, partial: bool = False) -> None:
    """:class:`Refusal` 2001 naming the first bad field of ``body`` as ``name``."""
    if not isinstance(body, dict):
        raise Refusal(2001, f"{name}: expected a JSON object")
    if partial:
        if version != "2.1.1" and "last_updated" not in body:
            raise Refusal(2001, "last_updated: required in a PATCH")
        return
    try:
        model_for(version, name).model_validate(body)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"]) or name
        raise Refusal(2001, f"{path}: {first['msg']}") from None


def _check_owner(call_: Call, party: str) -> None:
    reg = call_.emu.registration
    known = {f"{r['country_code']}-{r['party_id']}" for r in (reg.roles if reg else [])}
    if party not in known:
        raise Refusal(2001, f"{party}: not a party you registered with", http_status=404)


def _check_key(version: str, module: str, body: dict[str, Any], party: str, oid: str) -> None:
    if version == "2.1.1":
        return
    cc, pid = party.split("-")
    id_key = "uid" if module == "tokens" else "id"
    for key, want in (("country_code", cc), ("party_id", pid), (id_key, oid)):
        if key in body and str(body[key]).upper() != want.upper():
            raise Refusal(2001, f"{key}: {body[key]!r} does not match the URL ({want})")


async def _client_owned(c: Call, module: str, rest: list[str]) -> Response:
    emu = c.emu
    version = emu.config.version
    if len(rest) < 3:
        raise Refusal(2001, "expected /{country_code}/{party_id}/{id}", http_status=404)
    party = f"{rest[0].upper()}-{rest[1].upper()}"
    _check_owner(c, party)
    key = (module, party, rest[2])
    method = c.request.method
    nested = rest[3:]
    if nested and module != "locations":
        raise Refusal(2001, f"{module}: no objects below the id", http_status=404)
    if method == "GET":
        obj = emu.stored.get(key)
        if obj is None:
            raise Refusal(2000, f"unknown {module} object {'/'.join(rest)}", http_status=404)
        return reply(c, obj)
    if method == "DELETE" and module == "tariffs":
        emu.stored.pop(key, None)
        return reply(c)
    body = await read_json(c)
    if method == "PUT":
        name = MODULE_OBJECT[module] if not nested else ("EVSE", "Connector")[len(nested) - 1]
        validate(version, name, body)
        if not nested:
            _check_key(version, module, body, party, rest[2])
            created = key not in emu.stored
            emu.stored[key] = body
            return reply(c, http_status=201 if created else 200)
        if key not in emu.stored:
            raise Refusal(2001, f"unknown location {rest[2]}", http_status=404)
        return reply(c)
    if method == "PATCH" and module != "cdrs":
        validate(version, MODULE_OBJECT[module], body, partial=True)
        if key not in emu.stored:
            raise Refusal(2001, f"unknown {module} object {'/'.join(rest)}", http_status=404)
        if not nested:
            emu.stored[key] = {**emu.stored[key], **body}
        return reply(c)
    raise Refusal(2000, f"{method} not allowed on {module} objects", http_status=405)


async def _post_cdr(c: Call) -> Response:
    emu = c.emu
    body = await read_json(c)
    validate(emu.config.version, "CDR", body)
    party = (
        f"{body['country_code']}-{body['party_id']}".upper()
        if emu.config.version != "2.1.1"
        else (c.from_party or "")
    )
    if emu.config.version != "2.1.1":
        _check_owner(c, party)
    key = ("cdrs", party, str(body["id"]))
    if key in emu.stored:
        raise Refusal(2001, f"CDR {body['id']} was already posted")
    emu.stored[key] = body
    cc, pid = party.split("-") if party else ("XX", "XXX")
    location = f"{emu.base_url}{c.request.url.path.rstrip('/')}/{cc}/{pid}/{body['id']}"
    return reply(c, http_status=201, headers={"Location": location})


async def _command(c: Call, command: str) -> Response:
    emu = c.emu
    version = emu.config.version
    name = _COMMANDS.get(command)
    if name is None or (version == "2.1.1" and command == "CANCEL_RESERVATION"):
        raise Refusal(2001, f"unknown command {command}", http_status=404)
    body = await read_json(c)
    validate(version, name, body)
    cpo = c.to_party or emu.config.party
    if emu.config.owner_of(cpo) != "CPO":
        location = emu.data.find("locations", str(body.get("location_id", "")))
        if location is None:
            raise Refusal(
                4001 if emu.config.role == "hub" else 2001, "no CPO to execute the command"
            )
        cpo = location.party
        c.to_party = cpo
    response: dict[str, Any]
    forwarded = _to_chargepoints(c, command, body, cpo)
    if forwarded is not None:
        response = {"result": forwarded[0]}
        if version != "2.1.1":
            response["timeout"] = 30
        return reply(c, response, forwarded[1])
    result = "ACCEPTED"
    code = 1000
    if "location_id" in body and command != "RESERVE_NOW":
        location = emu.data.find("locations", str(body["location_id"]))
        if location is None or location.party != cpo:
            result, code = "REJECTED", 2003
    if command == "STOP_SESSION" and emu.data.find("sessions", str(body["session_id"])) is None:
        result = "UNKNOWN_SESSION"
    response = {"result": result}
    if version != "2.1.1":
        response["timeout"] = 30
    if result == "ACCEPTED":
        emu.spawn(_send_result(emu, c, str(body["response_url"]), cpo))
    return reply(c, response, code)


def _to_chargepoints(
    c: Call, command: str, body: dict[str, Any], cpo: str
) -> tuple[str, int] | None:
    """The CommandResponse of a command about one of our simulated charge points, which the
    fleet forwards to the charger (fleet.py); None for any other command."""
    fleet = c.emu.fleet
    if fleet is None:
        return None
    from .fleet import CommandContext

    reg = c.emu.registration
    ctx = CommandContext(
        response_url=str(body["response_url"]),
        cpo=cpo,
        emsp=c.from_party or (reg.party("EMSP") if reg is not None else None),
        correlation_id=c.request.headers.get("x-correlation-id"),
    )
    routed: tuple[str, int] | None = fleet.command(command, body, ctx)
    return routed


async def _send_result(emu: Any, c: Call, url: str, cpo: str) -> None:
    """POST the outcome to ``response_url`` after ``command_delay`` seconds."""
    await asyncio.sleep(emu.config.command_delay)
    reg = emu.registration
    if reg is None:
        return
    body = {"result": "ACCEPTED"}
    try:
        await call(
            emu,
            c.request.app.state.http,
            "POST",
            url,
            token=reg.outbound_token,
            module="commands",
            body=body,
            sender=cpo,
            receiver=c.from_party or reg.party("EMSP"),
            correlation_id=c.request.headers.get("x-correlation-id"),
        )
    except OutboundError as exc:
        emu.sent.append({"method": "POST", "url": url, "error": str(exc), "module": "commands"})


async def receiver(request: Request) -> Response:
    """``/ocpi/{version}/receiver/{module}[/...]``."""
    module = request.path_params["module"]
    c = call_of(request, module)
    rest = [p for p in request.path_params.get("rest", "").split("/") if p]
    try:
        if module == "commands":
            c.address(("CPO", "HUB"))
            if request.method != "POST" or len(rest) != 1:
                raise Refusal(2000, "commands: POST /{command}", http_status=404)
            return await _command(c, rest[0])
        c.address()
        if module == "cdrs" and request.method == "POST" and not rest:
            return await _post_cdr(c)
        return await _client_owned(c, module, rest)
    except Refusal as refusal:
        return refuse(c, refusal)
