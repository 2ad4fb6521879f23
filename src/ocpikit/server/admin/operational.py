"""The backend API's operational endpoints: what ``ocpikit partners``, ``invite``,
``register``, ``unregister`` and ``outbox`` do, over :mod:`ocpikit.operations.partners` and
the outbox port.

- ``GET /admin/api/partners/{partner_id}``: one connection with its effective switches and
  sync state; ``DELETE``: unregister it (its tokens stop working, its outbox is dropped);
- ``GET|PATCH /admin/api/partners/{partner_id}/switches``: show or set its hub profile and
  switches (``{"profile": "gireve", "switches": {"name": value, "other": null}}``, null
  removes a switch);
- ``GET /admin/api/partners/{partner_id}/sync``: per pulled module, the last complete pull
  and how many objects we hold;
- ``GET /admin/api/invites``: the tokens A that still work (never the tokens);
  ``DELETE /admin/api/invites/{invite_id}``: revoke one;
- ``POST /admin/api/partners/{id}/rotate``: renew its tokens both ways (credentials PUT)
- ``POST /admin/api/registrations``: register with a partner that gave us a token A
  (``{"versions_url", "token", "party", "profile"}``);
- ``GET /admin/api/outbox?state=&partner=&limit=&after=``: counts per state and entries;
  ``POST /admin/api/outbox/replay?entry=&partner=``: dead letters back to pending.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.errors import InvalidOrMissingParameters, NotFound
from ocpikit.operations import partners as ops
from ocpikit.operations.outbox import entry_summary
from ocpikit.protocol.ports import OutboxEntry, OutboxState, Partner
from ocpikit.server.admin.common import json_response, read_body
from ocpikit.server.platform import Platform
from ocpikit.server.registry import register_with, rotate

__all__ = [
    "create_registration",
    "delete_invite",
    "delete_partner",
    "get_partner",
    "get_switches",
    "get_sync",
    "list_invites",
    "list_outbox",
    "patch_switches",
    "replay_outbox",
    "rotate_partner",
]


async def _partner(request: Request, platform: Platform) -> Partner:
    partner_id = request.path_params["partner_id"]
    partner = await platform.storage.partners.get(partner_id)
    if partner is None:
        raise NotFound(f"Unknown partner {partner_id!r}")
    return partner


async def get_partner(request: Request, platform: Platform) -> Response:
    partner = await _partner(request, platform)
    row = ops.partner_switches(partner)
    row["sync"] = await ops.sync_status(platform.storage, partner.id)
    return json_response(row)


async def delete_partner(request: Request, platform: Platform) -> Response:
    partner = await _partner(request, platform)
    await ops.unregister(platform.storage, partner.id)
    return Response(status_code=204)


async def get_switches(request: Request, platform: Platform) -> Response:
    return json_response(ops.partner_switches(await _partner(request, platform)))


async def patch_switches(request: Request, platform: Platform) -> Response:
    body = await read_body(request)
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("The body must be a JSON object")
    profile, switches = body.get("profile"), body.get("switches", {})
    if profile is not None and not isinstance(profile, str):
        raise InvalidOrMissingParameters("profile: a profile name", path="profile")
    if not isinstance(switches, dict):
        raise InvalidOrMissingParameters("switches: an object of name: value", path="switches")
    try:
        partner = await ops.set_partner_switches(
            platform.storage,
            request.path_params["partner_id"],
            profile=profile,
            switches=switches,
        )
    except ops.UnknownProfile as exc:
        raise InvalidOrMissingParameters(str(exc), path="profile") from None
    except ValueError as exc:
        raise InvalidOrMissingParameters(str(exc), path="switches") from None
    if partner is None:
        raise NotFound(f"Unknown partner {request.path_params['partner_id']!r}")
    return json_response(ops.partner_switches(partner))


async def get_sync(request: Request, platform: Platform) -> Response:
    partner = await _partner(request, platform)
    return json_response(await ops.sync_status(platform.storage, partner.id))


async def list_invites(request: Request, platform: Platform) -> Response:
    return json_response(await ops.invites(platform.storage))


async def delete_invite(request: Request, platform: Platform) -> Response:
    invite_id = request.path_params["invite_id"]
    if len(invite_id) < 4:
        raise InvalidOrMissingParameters("invite_id: at least 4 characters", path="invite_id")
    if not await ops.revoke_invite(platform.storage, invite_id):
        raise NotFound(f"No working token A {invite_id!r}")
    return Response(status_code=204)


async def create_registration(request: Request, platform: Platform) -> Response:
    body = await read_body(request)
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("The body must be a JSON object")
    for name in ("versions_url", "token"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise InvalidOrMissingParameters(f"{name}: required", path=name)
    profile = body.get("profile")
    if profile is not None and not isinstance(profile, str):
        raise InvalidOrMissingParameters("profile: a profile name", path="profile")
    try:
        party = platform.settings.party(body.get("party")).key
    except ValueError as exc:
        raise InvalidOrMissingParameters(str(exc), path="party") from None
    driver = platform.registration.driver
    if driver is None:
        raise NotFound("This server cannot call partners (no registration driver)")
    partner = await register_with(
        platform.settings,
        platform.storage,
        driver,
        body["versions_url"],
        body["token"],
        party,
        {"profile": profile} if profile else None,
    )
    return json_response(ops.partner_summary(partner), 201)


async def rotate_partner(request: Request, platform: Platform) -> Response:
    """A credentials PUT to the partner: new tokens both ways (``ocpikit rotate``)."""
    driver = platform.registration.driver
    if driver is None:
        raise NotFound("This server cannot call partners (no registration driver)")
    partner_id = request.path_params["partner_id"]
    if await platform.storage.partners.get(partner_id) is None:
        raise NotFound(f"Unknown partner {partner_id!r}")
    partner = await rotate(platform.settings, platform.storage, driver, partner_id)
    return json_response(ops.partner_summary(partner))


def outbox_entry_json(e: OutboxEntry) -> dict[str, Any]:
    """One outbox entry as ``ocpikit outbox list --json`` shows it."""
    return entry_summary(e)


def _number(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    try:
        return int(text) if text else default
    except ValueError:
        raise InvalidOrMissingParameters(f"{name}: a whole number", path=name) from None


async def list_outbox(request: Request, platform: Platform) -> Response:
    q = request.query_params
    try:
        state = OutboxState(q["state"]) if q.get("state") else None
    except ValueError:
        states = ", ".join(s.value for s in OutboxState)
        raise InvalidOrMissingParameters(f"state: one of {states}", path="state") from None
    storage = platform.storage
    entries = await storage.outbox.entries(
        state=state,
        partner_id=q.get("partner") or None,
        limit=max(1, min(_number(request, "limit", 100), 1000)),
        after_id=_number(request, "after", 0),
    )
    counts = await storage.outbox.counts()
    return json_response(
        {
            "counts": {k.value: v for k, v in counts.items()},
            "entries": [outbox_entry_json(e) for e in entries],
        }
    )


async def replay_outbox(request: Request, platform: Platform) -> Response:
    q = request.query_params
    entry = _number(request, "entry", 0) or None
    n = await platform.storage.outbox.replay(entry_id=entry, partner_id=q.get("partner") or None)
    return json_response({"replayed": n})
