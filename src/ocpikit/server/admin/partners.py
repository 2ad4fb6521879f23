"""The backend API's partner endpoints: ``GET /admin/api/partners`` and
``POST /admin/api/invites`` (a token A), over :mod:`ocpikit.server.registry`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.server.admin.common import json_response
from ocpikit.server.platform import Platform
from ocpikit.server.registry import invite, partner_summary

__all__ = ["create_invite", "list_partners"]


async def list_partners(request: Request, platform: Platform) -> Response:
    return json_response([partner_summary(p) for p in await platform.storage.partners.all()])


async def create_invite(request: Request, platform: Platform) -> Response:
    party = request.query_params.get("party")
    return json_response(await invite(platform.settings, platform.storage, party), 201)
