"""The backend API's object endpoints: our own Locations, Tariffs, Sessions, CDRs and Tokens
(``PUT|PATCH|GET|DELETE /admin/api/{module}/{country_code}/{party_id}/{id}``) and listings of
ours or of what partners pushed (``GET /admin/api/{module}``). Bodies are head JSON unless the
request names a version; a change of ours is queued for the partners that receive it in the same
transaction (the outbox: :mod:`ocpikit.operations.own_objects`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.errors import InvalidOrMissingParameters, NotFound
from ocpikit.core.types import ci_equal, format_datetime
from ocpikit.core.versions import Version
from ocpikit.operations import delete_own_object, patch_own_object, put_own_object
from ocpikit.operations.own_objects import ImmutableTariff
from ocpikit.protocol.handlers.base import (
    embeds_location,
    head_to_version,
    last_updated_of,
    load_head,
    load_patch,
    location_lookup,
)
from ocpikit.protocol.handlers.objects import merge_patch, token_key_id
from ocpikit.protocol.ports import ANY_OWNER, ObjectKey, OwnerFilter
from ocpikit.server.admin.common import (
    Conflict,
    backend_module,
    json_response,
    read_body,
    requested_version,
)
from ocpikit.server.platform import Platform

__all__ = ["delete_object", "get_object", "list_objects", "patch_object", "put_object"]


def _key(request: Request, platform: Platform, kind: str) -> ObjectKey:
    cc, pid = request.path_params["country_code"], request.path_params["party_id"]
    if not any(
        ci_equal(p.country_code, cc) and ci_equal(p.party_id, pid)
        for p in platform.settings.parties
    ):
        raise NotFound(f"{cc}-{pid} is not one of our parties")
    ident = request.path_params["id"]
    if kind == "Token":
        ident = token_key_id(ident, request.query_params.get("type"))
    return ObjectKey(kind, cc, pid, ident)


async def _in_version(
    platform: Platform, version: Version, kind: str, items: list[tuple[str | None, Any]]
) -> list[dict[str, Any]]:
    """Head documents (with their owners) in ``version``. 2.1.1 Sessions and CDRs embed their
    Location, read from storage (the same owner's), so the answer shows the real one."""
    if not embeds_location(version, kind):
        return [head_to_version(doc, version, kind) for _owner, doc in items]
    lookups = {
        owner: await location_lookup(
            platform.storage.objects, [d for o, d in items if o == owner], owner=owner
        )
        for owner in {o for o, _d in items}
    }
    return [head_to_version(doc, version, kind, lookup=lookups[owner]) for owner, doc in items]


async def put_object(request: Request, platform: Platform) -> Response:
    kind, id_field = backend_module(request)
    key = _key(request, platform, kind)
    version = requested_version(request)
    head = load_head(
        version,
        kind,
        await read_body(request),
        country_code=key.country_code,
        party_id=key.party_id,
    )
    if version < Version("2.2"):
        head["country_code"], head["party_id"] = key.country_code, key.party_id
    for f, want in ((id_field, request.path_params["id"]),):
        if not ci_equal(str(head.get(f, "")), want):
            raise InvalidOrMissingParameters(f"{f}: differs from the URL", path=f)
    for f in ("country_code", "party_id"):
        if not ci_equal(str(head.get(f, "")), request.path_params[f]):
            raise InvalidOrMissingParameters(f"{f}: differs from the URL", path=f)
    try:
        stored = await put_own_object(
            platform.storage,
            key,
            head,
            last_updated=last_updated_of(head, platform.clock.now()),
            rules=platform.settings.routing,
        )
    except ImmutableTariff as exc:
        raise Conflict(str(exc)) from None
    [out] = await _in_version(platform, version, kind, [(None, head)])
    return json_response(out, 201 if stored.created else 200)


async def patch_object(request: Request, platform: Platform) -> Response:
    kind, _ = backend_module(request)
    key = _key(request, platform, kind)
    version = requested_version(request)
    patch = await read_body(request)
    if not isinstance(patch, dict):
        raise InvalidOrMissingParameters("The body must be a JSON object")
    patch.setdefault("last_updated", format_datetime(platform.clock.now()))
    patch = load_patch(version, kind, patch)

    current = await platform.storage.objects.get(key)
    if current is None:
        raise NotFound(f"Unknown {kind} {request.path_params['id']!r}")
    lookup = (
        await location_lookup(platform.storage.objects, [current.document], owner=None)
        if embeds_location(version, kind)
        else None
    )

    def merge(current: Any) -> Any:
        merged = merge_patch(head_to_version(current, version, kind, lookup=lookup), patch)
        return load_head(
            version, kind, merged, country_code=key.country_code, party_id=key.party_id
        )

    try:
        stored = await patch_own_object(platform.storage, key, merge, platform.settings.routing)
    except ImmutableTariff as exc:
        raise Conflict(str(exc)) from None
    if stored is None:
        raise NotFound(f"Unknown {kind} {request.path_params['id']!r}")
    [out] = await _in_version(platform, version, kind, [(stored.owner, stored.document)])
    return json_response(out)


async def get_object(request: Request, platform: Platform) -> Response:
    kind, _ = backend_module(request)
    stored = await platform.storage.objects.get(_key(request, platform, kind))
    if stored is None:
        raise NotFound(f"Unknown {kind} {request.path_params['id']!r}")
    [out] = await _in_version(
        platform, requested_version(request), kind, [(stored.owner, stored.document)]
    )
    return json_response(out)


async def delete_object(request: Request, platform: Platform) -> Response:
    kind, _ = backend_module(request)
    key = _key(request, platform, kind)
    if not await delete_own_object(platform.storage, key):
        raise NotFound(f"Unknown {kind} {request.path_params['id']!r}")
    return Response(status_code=204)


async def list_objects(request: Request, platform: Platform) -> Response:
    kind, _ = backend_module(request)
    version = requested_version(request)
    q = request.query_params
    owner_text = q.get("owner", "own")
    owner: OwnerFilter = (
        None if owner_text == "own" else ANY_OWNER if owner_text == "any" else owner_text
    )
    try:
        offset, limit = int(q.get("offset", "0")), min(int(q.get("limit", "100")), 1000)
    except ValueError:
        raise InvalidOrMissingParameters("offset/limit must be integers") from None
    page = await platform.storage.objects.list_page(kind, offset=offset, limit=limit, owner=owner)
    objects = await _in_version(
        platform, version, kind, [(item.owner, item.document) for item in page.items]
    )
    return json_response(
        {
            "total": page.total,
            "offset": offset,
            "limit": limit,
            "items": [
                {"owner": item.owner, "object": obj}
                for item, obj in zip(page.items, objects, strict=True)
            ],
        }
    )
