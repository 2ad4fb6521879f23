"""The backend API's fine-grained Location changes: ``PATCH /admin/api/locations/{id}/evses/
{uid}`` (an EVSE's fields, its ``status`` included) and ``PATCH /admin/api/locations/{id}/
evses/{uid}/connectors/{connector_id}`` (a Connector's), and ``GET`` of both. The Location is
ours, found by id among our parties (``?country_code=&party_id=`` pick one when several have
that id). The change is pushed to each partner as the smallest PATCH its version takes
(:mod:`ocpikit.operations.evse_updates`). Bodies are head JSON unless the request names a
version; ``last_updated`` defaults to now."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.errors import InvalidOrMissingParameters, NotFound
from ocpikit.core.types import ci_equal, format_datetime
from ocpikit.operations.evse_updates import find_child, patch_evse
from ocpikit.protocol.handlers.base import head_to_version, load_patch
from ocpikit.protocol.ports import ObjectKey, StoredObject
from ocpikit.server.admin.common import Conflict, json_response, read_body, requested_version
from ocpikit.server.platform import Platform

__all__ = ["get_evse", "patch_evse_route"]


async def _our_location(request: Request, platform: Platform) -> StoredObject:
    """Our Location of the URL's id (one of our parties; the query may name which)."""
    ident = request.path_params["id"]
    q = request.query_params
    found: list[StoredObject] = []
    for party in platform.settings.parties:
        if "country_code" in q and not ci_equal(q["country_code"], party.country_code):
            continue
        if "party_id" in q and not ci_equal(q["party_id"], party.party_id):
            continue
        key = ObjectKey("Location", party.country_code, party.party_id, ident)
        stored = await platform.storage.objects.get(key)
        if stored is not None and stored.owner is None:
            found.append(stored)
    if not found:
        raise NotFound(f"Unknown Location {ident!r}")
    if len(found) > 1:
        raise Conflict(
            f"Location {ident!r} exists for several of our parties: name one with "
            "?country_code=&party_id="
        )
    return found[0]


def _child(location: dict[str, Any], request: Request) -> dict[str, Any]:
    uid = request.path_params["uid"]
    evses = location.get("evses") or []
    i = find_child(evses, "uid", uid)
    if i < 0:
        raise NotFound(f"Unknown EVSE {uid!r}")
    connector_id = request.path_params.get("connector_id")
    if connector_id is None:
        return dict(evses[i])
    connectors = evses[i].get("connectors") or []
    j = find_child(connectors, "id", connector_id)
    if j < 0:
        raise NotFound(f"Unknown connector {connector_id!r}")
    return dict(connectors[j])


async def patch_evse_route(request: Request, platform: Platform) -> Response:
    """PATCH of one EVSE or Connector of our Location; answers its new state."""
    version = requested_version(request)
    location = await _our_location(request, platform)
    body = await read_body(request)
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("The body must be a JSON object")
    body.setdefault("last_updated", format_datetime(platform.clock.now()))
    connector_id = request.path_params.get("connector_id")
    patch = load_patch(version, "EVSE" if connector_id is None else "Connector", body)
    stored = await patch_evse(
        platform.storage,
        location.key,
        request.path_params["uid"],
        patch,
        now=platform.clock.now(),
        connector_id=connector_id,
        version=version,
        rules=platform.settings.routing,
    )
    return json_response(_child(head_to_version(stored.document, version, "Location"), request))


async def get_evse(request: Request, platform: Platform) -> Response:
    """GET of one EVSE or Connector of our Location."""
    version = requested_version(request)
    location = await _our_location(request, platform)
    return json_response(_child(head_to_version(location.document, version, "Location"), request))
