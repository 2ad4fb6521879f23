"""The control API of an emulated partner, under ``/control/`` on its own port, JSON in and out,
no authentication (it listens on loopback): what tests use to see what the emulator received and
to make it act (docs/testing.md lists every call).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .actions import ActionError, authorize_at_platform, push, push_client_info, send_command
from .faults import FaultSpecError, parse_fault
from .handshake import HandshakeError, register_with
from .state import Emulator

__all__ = ["ROUTES"]


def _emu(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise ActionError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise ActionError("the body must be a JSON object")
    return body


async def state(request: Request) -> Response:
    return JSONResponse(_emu(request).state())


async def received(request: Request) -> Response:
    """Every request received, oldest first; ``?method=``, ``?module=``, ``?since=SEQ``
    filter."""
    q = request.query_params
    since = int(q.get("since", "0") or 0)
    items = [
        r.as_dict()
        for r in _emu(request).received
        if r.seq > since
        and (not q.get("method") or r.method == q["method"].upper())
        and (not q.get("module") or r.module == q["module"])
    ]
    return JSONResponse(items)


async def clear_received(request: Request) -> Response:
    _emu(request).received.clear()
    return JSONResponse({"cleared": True})


async def sent(request: Request) -> Response:
    return JSONResponse(_emu(request).sent)


async def objects(request: Request) -> Response:
    """Our own objects of a module, as we serve them (without faults)."""
    module = request.path_params["module"]
    return JSONResponse([e.data for e in _emu(request).data.entries(module)])


async def faults(request: Request) -> Response:
    """``{"faults": [SPEC, ...]}`` replaces the faults in force (``[]``: none)."""
    emu = _emu(request)
    try:
        body = await _body(request)
        specs = body.get("faults")
        if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
            raise ActionError('expected {"faults": ["MODE[:...]", ...]}')
        emu.plan.replace([parse_fault(s) for s in specs])
    except (ActionError, FaultSpecError) as exc:
        return _error(400, str(exc))
    return JSONResponse({"faults": [r.describe() for r in emu.plan.rules]})


async def register(request: Request) -> Response:
    """``{"versions_url": URL, "token": TOKEN_A}``: we register with the platform."""
    emu = _emu(request)
    try:
        body = await _body(request)
        url, token = body.get("versions_url"), body.get("token")
        if not isinstance(url, str) or not isinstance(token, str):
            raise ActionError('expected {"versions_url": ..., "token": ...}')
        registration = await register_with(emu, request.app.state.http, url, token)
        await push_client_info(emu, request.app.state.http)
    except ActionError as exc:
        return _error(400, str(exc))
    except HandshakeError as exc:
        return _error(502, exc.message, status_code=exc.status_code)
    return JSONResponse(registration.describe())


async def do_push(request: Request) -> Response:
    """``{"module": ..., "count": N, "party": "CC-PID"}``: create N objects and push them."""
    emu = _emu(request)
    try:
        body = await _body(request)
        results = await push(emu, request.app.state.http, body)
    except ActionError as exc:
        return _error(400 if not exc.upstream else 502, str(exc))
    return JSONResponse({"results": results})


async def do_authorize(request: Request) -> Response:
    """``{"token_uid": ..., "type": "RFID", "location_id": ..., "evse_uids": [...],
    "party": "CC-PID"}``: ask the platform for a real-time authorization."""
    emu = _emu(request)
    try:
        body = await _body(request)
        result = await authorize_at_platform(emu, request.app.state.http, body)
    except ActionError as exc:
        return _error(400 if not exc.upstream else 502, str(exc))
    return JSONResponse(result)


async def do_command(request: Request) -> Response:
    """``{"command": "START_SESSION", "body": {...}, "party": "CC-PID"}``: send a command to
    the platform; the result it posts back shows in ``state``'s ``command_results``."""
    emu = _emu(request)
    try:
        body = await _body(request)
        result = await send_command(emu, request.app.state.http, body)
    except ActionError as exc:
        return _error(400 if not exc.upstream else 502, str(exc))
    return JSONResponse(result)


def _fleet(request: Request) -> Any:
    fleet = _emu(request).fleet
    if fleet is None:
        raise ActionError(
            "this emulator has no charge points (ocpikit emulate cpo --chargepoints N)"
        )
    return fleet


async def chargepoints(request: Request) -> Response:
    """The charge points: their Location and EVSEs, connection, and per connector the EVSE
    status, the OCPP status, the open transaction and its Session."""
    try:
        return JSONResponse(_fleet(request).describe())
    except ActionError as exc:
        return _error(404, str(exc))


async def tap(request: Request) -> Response:
    """``{"token_uid": ..., "chargepoint": ID, "connector": N}``: a driver taps a token at a
    charge point (the first free connector when not given); the charger's authorization
    status and the Session it started."""
    from .fleet import FleetError

    try:
        fleet = _fleet(request)
        body = await _body(request)
        uid = body.get("token_uid")
        if not isinstance(uid, str) or not uid:
            raise ActionError("token_uid: required")
        cp = body.get("chargepoint")
        result = await fleet.tap(uid, str(cp) if cp is not None else None, body.get("connector"))
    except (ActionError, FleetError) as exc:
        return _error(400, str(exc))
    return JSONResponse(result)


async def chargepoint_action(request: Request) -> Response:
    """``POST /control/chargepoints/{id}/{status|meter|stop|tap}``: what happens at a charge
    point (:meth:`~.fleet.Fleet.act`); the charge point afterwards."""
    from .fleet import FleetError

    try:
        fleet = _fleet(request)
        body = await _body(request)
        p = request.path_params
        result = await fleet.act(p["cp_id"], p["action"], body)
    except (ActionError, FleetError) as exc:
        return _error(400, str(exc))
    return JSONResponse(result)


ROUTES = [
    Route("/control/state", state, methods=["GET"]),
    Route("/control/received", received, methods=["GET"]),
    Route("/control/received", clear_received, methods=["DELETE"]),
    Route("/control/sent", sent, methods=["GET"]),
    Route("/control/objects/{module}", objects, methods=["GET"]),
    Route("/control/faults", faults, methods=["POST"]),
    Route("/control/register", register, methods=["POST"]),
    Route("/control/push", do_push, methods=["POST"]),
    Route("/control/authorize", do_authorize, methods=["POST"]),
    Route("/control/command", do_command, methods=["POST"]),
    Route("/control/chargepoints", chargepoints, methods=["GET"]),
    Route("/control/tap", tap, methods=["POST"]),
    Route("/control/chargepoints/{cp_id}/{action}", chargepoint_action, methods=["POST"]),
]
