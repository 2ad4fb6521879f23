"""The backend API's partner endpoints: ``GET /admin/api/partners`` (each with its sync state
per module, as ``ocpikit partners --json``) and ``POST /admin/api/invites`` (a token A), over
:mod:`ocpikit.operations.partners` and :mod:`ocpikit.server.registry`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.operations import partner_overview
from ocpikit.server.admin.common import json_response
from ocpikit.server.platform import Platform
from ocpikit.server.registry import invite

__all__ = ["create_invite", "list_partners"]


async def list_partners(request: Request, platform: Platform) -> Response:
    return json_response(await partner_overview(platform.storage))


async def create_invite(request: Request, platform: Platform) -> Response:
    party = request.query_params.get("party")
    return json_response(await invite(platform.settings, platform.storage, party), 201)
