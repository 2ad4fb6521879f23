"""The backend API's partner endpoints: ``GET /admin/api/partners`` (each with its sync state
per module, as ``ocpikit partners --json``) and ``POST /admin/api/invites`` (a token A), over
:mod:`ocpikit.operations.partners` and :mod:`ocpikit.server.registry`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.errors import InvalidOrMissingParameters
from ocpikit.operations import parse_duration, partner_overview, party_directory
from ocpikit.server.admin.common import json_response
from ocpikit.server.platform import Platform
from ocpikit.server.registry import invite

__all__ = [
    "create_invite",
    "list_hub_losses",
    "list_hub_parties",
    "list_parties",
    "list_partners",
]


async def list_partners(request: Request, platform: Platform) -> Response:
    return json_response(await partner_overview(platform.storage))


async def list_parties(request: Request, platform: Platform) -> Response:
    """The party directory, as ``ocpikit parties --json``."""
    return json_response(await party_directory(platform.storage, platform.settings.routing))


async def list_hub_parties(request: Request, platform: Platform) -> Response:
    """The parties connected to this hub, as ``ocpikit hub parties --json``."""
    from ocpikit.operations.hub_clients import hub_parties

    counters = await platform.hub.counters.all() if platform.hub is not None else None
    return json_response(await hub_parties(platform.storage, counters))


async def list_hub_losses(request: Request, platform: Platform) -> Response:
    """What version conversions of a hub's forwarded objects could not carry, per connection
    and loss rule, as ``ocpikit hub losses --json``."""
    from ocpikit.operations.hub_counters import loss_rows

    if platform.hub is not None:
        counters = await platform.hub.counters.all()
    else:
        counters = await platform.storage.hub_counters.all()
    return json_response(loss_rows(counters))


async def create_invite(request: Request, platform: Platform) -> Response:
    """``?party=CC-PID&ttl=7d&for=CC-PID&replace=PARTNER`` as ``ocpikit invite``."""
    q = request.query_params
    try:
        ttl = parse_duration(q.get("ttl", "7d"))
    except ValueError as exc:
        raise InvalidOrMissingParameters(f"ttl: {exc}", path="ttl") from None
    created = await invite(
        platform.settings,
        platform.storage,
        q.get("party"),
        now=platform.clock.now(),
        ttl=ttl,
        expected_party=q.get("for"),
        replace=q.get("replace"),
    )
    return json_response(created, 201)
