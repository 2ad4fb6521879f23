"""The configuration modules the emulated partner serves: versions, version details and
credentials (versions §Version information endpoint, §Version details endpoint; credentials
§Interfaces: GET, POST, PUT, DELETE with 405 for POST when registered and for PUT or DELETE
when not)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .actions import push_client_info
from .endpoints import details_endpoints
from .handshake import HandshakeError, accept_registration, our_credentials
from .replies import Refusal, call_of, read_json, refuse, reply

__all__ = ["credentials", "version_details", "versions"]


async def versions(request: Request) -> Response:
    call = call_of(request, "versions")
    emu = call.emu
    version = emu.config.version
    data = [{"version": version, "url": f"{emu.base_url}/ocpi/{version}"}]
    return reply(call, data, routed=False)


async def version_details(request: Request) -> Response:
    call = call_of(request, "versions")
    emu = call.emu
    if request.path_params["version"] != emu.config.version:
        return reply(call, None, 3002, "unsupported version", http_status=404, routed=False)
    data = {
        "version": emu.config.version,
        "endpoints": details_endpoints(emu.config.role, emu.config.version, emu.base_url),
    }
    return reply(call, data, routed=False)


async def credentials(request: Request) -> Response:
    call = call_of(request, "credentials")
    emu = call.emu
    method = request.method
    try:
        if request.path_params["version"] != emu.config.version:
            raise Refusal(3002, "unsupported version", http_status=404)
        if method == "GET":
            if emu.registration is None:
                raise Refusal(2000, "not registered", http_status=405)
            return reply(call, our_credentials(emu, emu.registration.inbound_token), routed=False)
        if method == "DELETE":
            if emu.registration is None:
                raise Refusal(2000, "not registered", http_status=405)
            emu.registration = None
            return reply(call, None, routed=False)
        body = await read_json(call)
        if method == "POST" and emu.registration is not None:
            raise Refusal(2000, "already registered: use PUT", http_status=405)
        if method == "PUT" and emu.registration is None:
            raise Refusal(2000, "not registered: use POST", http_status=405)
        data = await accept_registration(emu, request.app.state.http, body)
        emu.spawn(push_client_info(emu, request.app.state.http, delay=0.5))
        return reply(call, data, routed=False)
    except HandshakeError as exc:
        return refuse(call, Refusal(exc.status_code, exc.message), routed=False)
    except Refusal as refusal:
        return refuse(call, refusal, routed=False)
