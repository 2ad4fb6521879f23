"""The backend API's flow endpoints (docs/flows.md): open commands and charging-profile
requests, one command's record, what hubs pushed through HubClientInfo, and (wired by the
composition root, :func:`flow_routes`) sending a command or a charging profile, reporting a
command's result, and real-time authorization."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ocpikit.core.errors import InvalidOrMissingParameters, NoEndpoint, NotFound
from ocpikit.core.types import format_datetime, parse_datetime
from ocpikit.core.versions import HEAD, Version
from ocpikit.operations import authorization, commands
from ocpikit.operations.flow_ports import FlowPorts, PullPort
from ocpikit.operations.partners import hub_clients
from ocpikit.operations.started_sessions import session_started_by
from ocpikit.protocol.commands import COMMAND_OBJECTS, PROFILE_ACTIONS, InvalidTransition
from ocpikit.protocol.handlers.base import load_head
from ocpikit.protocol.ports import CommandDirection, CommandRecord
from ocpikit.server.admin.common import (
    Conflict,
    admin_endpoint,
    json_response,
    read_body,
    requested_version,
)
from ocpikit.server.admin.payments import terminal_flow_routes
from ocpikit.server.platform import Platform

__all__ = [
    "command_record_json",
    "flow_routes",
    "get_command",
    "list_clientinfo",
    "list_commands",
    "operator_command_body",
]


def command_record_json(record: CommandRecord) -> dict[str, Any]:
    """The JSON form of a command or charging-profile record, shared by the backend API and
    the console."""
    return {
        "id": record.id,
        "direction": record.direction.value,
        "command": record.command,
        "state": record.state,
        "final": record.final,
        "partner": record.partner_id,
        "request": record.request,
        "response_url": record.response_url,
        "response": record.response,
        "result": record.result,
        "deadline": format_datetime(record.deadline) if record.deadline else None,
        "created_at": format_datetime(record.created_at) if record.created_at else None,
        "updated_at": format_datetime(record.updated_at) if record.updated_at else None,
    }


async def list_commands(request: Request, platform: Platform) -> Response:
    """Open commands and charging-profile requests (not final), oldest deadline first;
    ``?direction=sent|received``."""
    text = request.query_params.get("direction")
    try:
        direction = CommandDirection(text) if text is not None else None
    except ValueError:
        return json_response([])  # no record has that direction
    records = await commands.open_commands(platform.storage, direction=direction)
    return json_response([command_record_json(r) for r in records])


async def get_command(request: Request, platform: Platform) -> Response:
    try:
        direction = CommandDirection(request.path_params["direction"])
    except ValueError:
        raise NotFound("direction is sent or received") from None
    command_id = request.path_params["command_id"]
    record = await commands.command_record(platform.storage, direction, command_id)
    if record is None:
        raise NotFound(f"Unknown command {request.path_params['command_id']!r}")
    out = command_record_json(record)
    if record.command == "START_SESSION" and direction is CommandDirection.SENT:
        session = await session_started_by(platform.storage, record)
        out["session"] = (
            None
            if session is None
            else {
                "country_code": session.key.country_code,
                "party_id": session.key.party_id,
                "id": session.key.id,
                "status": session.document.get("status"),
            }
        )
    return json_response(out)


async def list_clientinfo(request: Request, platform: Platform) -> Response:
    """What hubs pushed through HubClientInfo: the connection status of each party."""
    return json_response(await hub_clients(platform.storage))


def operator_command_body(version: Version, command: str, body: Any) -> dict[str, Any]:
    """The operator's command body (``version``'s wire form, without ``response_url``, which
    the platform sets) as the head model's document; 404 for an unknown command, 2001 for a
    body that is not a valid command object (OCPI 2.2.1 mod_commands §13.3)."""
    name = COMMAND_OBJECTS.get(command)
    if name is None:
        raise NotFound(f"Unknown command {command!r}; known: {sorted(COMMAND_OBJECTS)}")
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("The body must be a JSON object")
    placeholder = "https://placeholder.invalid/response"
    head = load_head(version, name, {**body, "response_url": placeholder})
    head.pop("response_url", None)
    return head


def flow_routes(ports: FlowPorts, pull: PullPort | None = None) -> list[BaseRoute]:
    """Backend API routes that talk to partners: the use cases of
    :mod:`ocpikit.operations.commands` and :mod:`ocpikit.operations.authorization` over
    ``ports``, and a pull over ``pull`` (``ocpikit.client.pull_port``; wired by the
    composition root, ``ocpikit.cli.flows``; pass them as ``create_app(extra_routes=...)``)."""

    async def send_command(request: Request, platform: Platform) -> Response:
        command = request.path_params["command"].upper()
        body = operator_command_body(requested_version(request), command, await read_body(request))
        partner = request.path_params["partner_id"]
        if await platform.storage.partners.get(partner) is None:
            raise NotFound(f"Unknown partner {partner!r}")
        record = await commands.send_command(ports, partner, command, body)
        return json_response(command_record_json(record), 201)

    async def send_command_to_party(request: Request, platform: Platform) -> Response:
        """A command to a CPO party over the connection that reaches it (direct, or a hub
        with ``OCPI-to-*`` naming the CPO): the party directory decides."""
        command = request.path_params["command"].upper()
        body = operator_command_body(requested_version(request), command, await read_body(request))
        try:
            partner, to_party = await commands.party_route(
                ports, request.path_params["party"], "CPO"
            )
        except ValueError as exc:
            raise InvalidOrMissingParameters(str(exc), path="party") from None
        except NoEndpoint as exc:
            raise NotFound(exc.message) from None
        record = await commands.send_command(ports, partner, command, body, to_party=to_party)
        return json_response(command_record_json(record), 201)

    async def send_profile(request: Request, platform: Platform) -> Response:
        body = await read_body(request)
        if not isinstance(body, dict):
            raise InvalidOrMissingParameters("The body must be a JSON object")
        action = str(body.pop("action", "SET_PROFILE")).upper()
        if action not in PROFILE_ACTIONS:
            raise InvalidOrMissingParameters(f"action: one of {PROFILE_ACTIONS}", path="action")
        if action == "SET_PROFILE":
            load_head(
                HEAD,
                "SetChargingProfile",
                {**body, "response_url": "https://placeholder.invalid/response"},
            )
        partner = request.path_params["partner_id"]
        if await platform.storage.partners.get(partner) is None:
            raise NotFound(f"Unknown partner {partner!r}")
        session_id = request.path_params["session_id"]
        record = await commands.send_profile(ports, partner, action, session_id, body)
        return json_response(command_record_json(record), 201)

    async def report_result(request: Request, platform: Platform) -> Response:
        body = await read_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("result"), str):
            raise InvalidOrMissingParameters(path="result")
        command_id = request.path_params["command_id"]
        record = await commands.command_record(
            platform.storage, CommandDirection.RECEIVED, command_id
        )
        if record is None:
            raise NotFound(f"Unknown command {command_id!r}")
        name = "ChargingProfileResult" if record.command in PROFILE_ACTIONS else "CommandResult"
        if record.command == "GET_PROFILE":
            name = "ActiveChargingProfileResult"
        result = load_head(HEAD, name, body)
        try:
            done = await commands.report_result(ports, command_id, result)
        except InvalidTransition as exc:
            raise Conflict(str(exc)) from None
        return json_response(command_record_json(done))

    async def authorize(request: Request, platform: Platform) -> Response:
        body = await read_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("uid"), str):
            raise InvalidOrMissingParameters(path="uid")
        party = platform.settings.party(body.get("party"))
        emsp_text = body.get("emsp")
        emsp: tuple[str, str] | None = None
        if isinstance(emsp_text, str) and "-" in emsp_text:
            cc, _, pid = emsp_text.partition("-")
            emsp = (cc, pid)
        location = body.get("location")
        if location is not None:
            location = load_head(HEAD, "LocationReferences", location)
        info = await authorization.authorize(
            ports,
            (party.country_code, party.party_id),
            body["uid"],
            token_type=body.get("type"),
            emsp=emsp,
            location=location,
        )
        return json_response(info)

    return [
        Route(
            "/admin/api/partners/{partner_id}/commands/{command}",
            admin_endpoint(send_command),
            methods=["POST"],
        ),
        Route(
            "/admin/api/parties/{party}/commands/{command}",
            admin_endpoint(send_command_to_party),
            methods=["POST"],
        ),
        Route(
            "/admin/api/partners/{partner_id}/chargingprofiles/{session_id}",
            admin_endpoint(send_profile),
            methods=["POST"],
        ),
        Route(
            "/admin/api/commands/{command_id}/result",
            admin_endpoint(report_result),
            methods=["POST"],
        ),
        Route("/admin/api/authorize", admin_endpoint(authorize), methods=["POST"]),
        *terminal_flow_routes(ports),
        *([pull_route(pull)] if pull is not None else []),
    ]


def pull_route(pull: PullPort) -> BaseRoute:
    """``POST /admin/api/partners/{partner_id}/pull`` with ``{"module": "tokens"|"all",
    "since": RFC 3339, "full": bool}`` (all optional; module ``all``): the pull's report rows,
    as ``ocpikit pull --json``."""

    async def run_pull(request: Request, platform: Platform) -> Response:
        raw = await request.body()
        body = await read_body(request) if raw.strip() else {}
        if not isinstance(body, dict):
            raise InvalidOrMissingParameters("The body must be a JSON object")
        module, since, full = body.get("module", "all"), body.get("since"), body.get("full", False)
        if not isinstance(module, str):
            raise InvalidOrMissingParameters("module: a module name or all", path="module")
        if not isinstance(full, bool):
            raise InvalidOrMissingParameters("full: true or false", path="full")
        try:
            when = parse_datetime(since) if isinstance(since, str) else None
        except ValueError:
            when = None
        if since is not None and when is None:
            raise InvalidOrMissingParameters("since: an RFC 3339 time", path="since")
        partner = await platform.storage.partners.get(request.path_params["partner_id"])
        if partner is None:
            raise NotFound(f"Unknown partner {request.path_params['partner_id']!r}")
        try:
            rows = await pull(partner, module, when, full)
        except ValueError as exc:
            raise InvalidOrMissingParameters(f"module: {exc}", path="module") from None
        return json_response(rows)

    return Route(
        "/admin/api/partners/{partner_id}/pull", admin_endpoint(run_pull), methods=["POST"]
    )
