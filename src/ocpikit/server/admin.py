"""The backend API for the operator's own systems (CSMS, billing), under ``/admin/api``.

Authenticated by the admin token (``Authorization: Bearer <token>``; ``Token <token>`` works
too). Plain JSON, not OCPI envelopes: this is not an OCPI interface. Errors are
``{"error": ..., "status_code": <OCPI code>}`` with the HTTP status of the code.

- ``PUT|PATCH|GET|DELETE /admin/api/{module}/{country_code}/{party_id}/{id}``: our own
  Locations, Tariffs, Sessions, CDRs and Tokens. Bodies are head (2.3.0) JSON unless the
  request names a version (``?version=2.1.1`` or header ``OCPI-Version: 2.1.1``); answers use
  the same version.
- ``GET /admin/api/{module}?owner=own|any|<partner id>&offset=&limit=&version=``: list ours, or
  what partners pushed to us.
- ``GET /admin/api/partners``; ``POST /admin/api/invites`` (a token A).
- ``GET /admin/api/openapi.json``: this description (no authentication).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ocpikit.core.errors import InvalidJson, InvalidOrMissingParameters, NotFound, OcpiError
from ocpikit.core.types import ci_equal, format_datetime
from ocpikit.core.versions import HEAD, SUPPORTED_VERSIONS, Version
from ocpikit.models import model_for
from ocpikit.protocol.commands import (
    COMMAND_OBJECTS,
    PROFILE_ACTIONS,
    InvalidTransition,
    PartnerFlows,
)
from ocpikit.protocol.handlers.base import (
    embeds_location,
    head_to_version,
    last_updated_of,
    load_head,
    load_patch,
    location_lookup,
)
from ocpikit.protocol.handlers.objects import merge_patch, token_key_id
from ocpikit.protocol.ports import (
    ANY_OWNER,
    CommandDirection,
    CommandRecord,
    ObjectKey,
    OwnerFilter,
    PartnerStatus,
)
from ocpikit.protocol.push import push_targets
from ocpikit.protocol.webhooks import KIND as WEBHOOK_KIND
from ocpikit.server.platform import Platform
from ocpikit.server.registry import invite, partner_summary

__all__ = ["MODULES", "admin_routes", "flow_routes", "openapi"]

#: backend module path -> (head object name, id field)
MODULES: dict[str, tuple[str, str]] = {
    "locations": ("Location", "id"),
    "tariffs": ("Tariff", "id"),
    "sessions": ("Session", "id"),
    "cdrs": ("CDR", "id"),
    "tokens": ("Token", "uid"),
}


class _Forbidden(OcpiError):
    default_status_code = 2000
    default_http_status = 401


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def _check_admin(request: Request, platform: Platform) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not hmac.compare_digest(
        value.strip().encode(), platform.settings.admin_token.encode()
    ):
        raise _Forbidden("Admin token missing or wrong")


def _version(request: Request) -> Version:
    text = request.query_params.get("version") or request.headers.get("ocpi-version")
    if not text:
        return HEAD
    v = Version(text)
    if v not in SUPPORTED_VERSIONS:
        raise InvalidOrMissingParameters(f"version: unsupported {text!r}", path="version")
    return v


def _module(request: Request) -> tuple[str, str]:
    module = request.path_params["module"]
    if module not in MODULES:
        raise NotFound(f"No backend module {module!r}; known: {sorted(MODULES)}")
    return MODULES[module]


def _endpoint(
    fn: Callable[[Request, Platform], Awaitable[Response]], *, auth: bool = True
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        platform = _platform(request)
        try:
            if auth:
                _check_admin(request, platform)
            return await fn(request, platform)
        except OcpiError as exc:
            return _json({"error": exc.message, "status_code": exc.status_code}, exc.http_status)
        except Exception:
            return _json({"error": "Internal error", "status_code": 3000}, 500)

    return endpoint


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


async def _body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidJson() from None


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
    kind, id_field = _module(request)
    key = _key(request, platform, kind)
    version = _version(request)
    head = load_head(
        version, kind, await _body(request), country_code=key.country_code, party_id=key.party_id
    )
    if version < Version("2.2"):
        head["country_code"], head["party_id"] = key.country_code, key.party_id
    for f, want in ((id_field, request.path_params["id"]),):
        if not ci_equal(str(head.get(f, "")), want):
            raise InvalidOrMissingParameters(f"{f}: differs from the URL", path=f)
    for f in ("country_code", "party_id"):
        if not ci_equal(str(head.get(f, "")), request.path_params[f]):
            raise InvalidOrMissingParameters(f"{f}: differs from the URL", path=f)
    stored = await platform.storage.objects.put(
        key,
        orjson.dumps(head),
        last_updated=last_updated_of(head, platform.clock.now()),
        owner=None,
        push_to=await _push_to(platform, key, head),
    )
    [out] = await _in_version(platform, version, kind, [(None, head)])
    return _json(out, 201 if stored.created else 200)


async def _push_to(platform: Platform, key: ObjectKey, document: Any) -> list[str]:
    """Partners that receive this change of our object (transactional outbox, issue 4
    point 2): written in the same transaction as the object."""
    partners = await platform.storage.partners.all(status=PartnerStatus.REGISTERED)
    return push_targets(partners, key, document)


async def patch_object(request: Request, platform: Platform) -> Response:
    kind, _ = _module(request)
    key = _key(request, platform, kind)
    version = _version(request)
    patch = await _body(request)
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

    push_to = await _push_to(platform, key, current.document)
    stored = await platform.storage.objects.patch(key, merge, push_to=push_to)
    if stored is None:
        raise NotFound(f"Unknown {kind} {request.path_params['id']!r}")
    [out] = await _in_version(platform, version, kind, [(stored.owner, stored.document)])
    return _json(out)


async def get_object(request: Request, platform: Platform) -> Response:
    kind, _ = _module(request)
    stored = await platform.storage.objects.get(_key(request, platform, kind))
    if stored is None:
        raise NotFound(f"Unknown {kind} {request.path_params['id']!r}")
    [out] = await _in_version(platform, _version(request), kind, [(stored.owner, stored.document)])
    return _json(out)


async def delete_object(request: Request, platform: Platform) -> Response:
    kind, _ = _module(request)
    key = _key(request, platform, kind)
    # only Tariffs have a DELETE at the partners' Receivers (DIGEST §3.4)
    push_to = await _push_to(platform, key, {}) if kind == "Tariff" else []
    if not await platform.storage.objects.delete(key, push_to=push_to):
        raise NotFound(f"Unknown {kind} {request.path_params['id']!r}")
    return Response(status_code=204)


async def list_objects(request: Request, platform: Platform) -> Response:
    kind, _ = _module(request)
    version = _version(request)
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
    return _json(
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


async def list_partners(request: Request, platform: Platform) -> Response:
    return _json([partner_summary(p) for p in await platform.storage.partners.all()])


async def create_invite(request: Request, platform: Platform) -> Response:
    party = request.query_params.get("party")
    return _json(await invite(platform.settings, platform.storage, party), 201)


# --- flows: commands, charging profiles, authorization, hub client info (docs/flows.md) --------
def _record_json(record: CommandRecord) -> dict[str, Any]:
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
    direction = request.query_params.get("direction")
    far = datetime.max.replace(tzinfo=UTC)
    records = await platform.storage.commands.due(before=far, limit=1000)
    return _json(
        [
            _record_json(r)
            for r in records
            if r.command != WEBHOOK_KIND and (direction is None or r.direction.value == direction)
        ]
    )


async def get_command(request: Request, platform: Platform) -> Response:
    try:
        direction = CommandDirection(request.path_params["direction"])
    except ValueError:
        raise NotFound("direction is sent or received") from None
    record = await platform.storage.commands.get(direction, request.path_params["command_id"])
    if record is None:
        raise NotFound(f"Unknown command {request.path_params['command_id']!r}")
    return _json(_record_json(record))


async def list_clientinfo(request: Request, platform: Platform) -> Response:
    """What hubs pushed through HubClientInfo: the connection status of each party."""
    page = await platform.storage.objects.list_page("ClientInfo", limit=1000, owner=ANY_OWNER)
    return _json([{"hub": item.owner, **item.document} for item in page.items])


def _command_body(version: Version, command: str, body: Any) -> dict[str, Any]:
    name = COMMAND_OBJECTS.get(command)
    if name is None:
        raise NotFound(f"Unknown command {command!r}; known: {sorted(COMMAND_OBJECTS)}")
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("The body must be a JSON object")
    placeholder = "https://placeholder.invalid/response"
    head = load_head(version, name, {**body, "response_url": placeholder})
    head.pop("response_url", None)
    return head


def flow_routes(flows: PartnerFlows) -> list[BaseRoute]:
    """Backend API routes that talk to partners through ``flows`` (wired by the composition
    root, ``ocpikit.cli.flows``; pass them as ``create_app(extra_routes=...)``)."""

    async def send_command(request: Request, platform: Platform) -> Response:
        command = request.path_params["command"].upper()
        body = _command_body(_version(request), command, await _body(request))
        partner = request.path_params["partner_id"]
        if await platform.storage.partners.get(partner) is None:
            raise NotFound(f"Unknown partner {partner!r}")
        record = await flows.send_command(partner, command, body)
        return _json(_record_json(record), 201)

    async def send_profile(request: Request, platform: Platform) -> Response:
        body = await _body(request)
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
        record = await flows.send_profile(partner, action, request.path_params["session_id"], body)
        return _json(_record_json(record), 201)

    async def report_result(request: Request, platform: Platform) -> Response:
        body = await _body(request)
        if not isinstance(body, dict) or not isinstance(body.get("result"), str):
            raise InvalidOrMissingParameters(path="result")
        command_id = request.path_params["command_id"]
        record = await platform.storage.commands.get(CommandDirection.RECEIVED, command_id)
        if record is None:
            raise NotFound(f"Unknown command {command_id!r}")
        name = "ChargingProfileResult" if record.command in PROFILE_ACTIONS else "CommandResult"
        if record.command == "GET_PROFILE":
            name = "ActiveChargingProfileResult"
        result = load_head(HEAD, name, body)
        try:
            done = await flows.report_result(command_id, result)
        except InvalidTransition as exc:
            raise _Conflict(str(exc)) from None
        return _json(_record_json(done))

    async def authorize(request: Request, platform: Platform) -> Response:
        body = await _body(request)
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
        info = await flows.authorize(
            (party.country_code, party.party_id),
            body["uid"],
            token_type=body.get("type"),
            emsp=emsp,
            location=location,
        )
        return _json(info)

    return [
        Route(
            "/admin/api/partners/{partner_id}/commands/{command}",
            _endpoint(send_command),
            methods=["POST"],
        ),
        Route(
            "/admin/api/partners/{partner_id}/chargingprofiles/{session_id}",
            _endpoint(send_profile),
            methods=["POST"],
        ),
        Route(
            "/admin/api/commands/{command_id}/result", _endpoint(report_result), methods=["POST"]
        ),
        Route("/admin/api/authorize", _endpoint(authorize), methods=["POST"]),
    ]


class _Conflict(OcpiError):
    default_status_code = 2000
    default_http_status = 409


async def openapi_json(request: Request, platform: Platform) -> Response:
    return Response(openapi(platform.settings.base_url), media_type="application/json")


@cache
def openapi(base_url: str) -> bytes:
    """The OpenAPI 3.1 description; object schemas are the head models' JSON schemas."""
    schemas: dict[str, Any] = {}
    for kind, _ in MODULES.values():
        schema = model_for(HEAD, kind).model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for name, sub in schema.pop("$defs", {}).items():
            schemas.setdefault(name, sub)
        schemas[kind] = schema
    error = {
        "type": "object",
        "properties": {"error": {"type": "string"}, "status_code": {"type": "integer"}},
    }
    schemas["Error"] = error
    version_param = {
        "name": "version",
        "in": "query",
        "required": False,
        "description": "OCPI version of the JSON in and out (default: head = 2.3.0)",
        "schema": {"type": "string", "enum": [v.text for v in SUPPORTED_VERSIONS]},
    }
    paths: dict[str, Any] = {}
    errors = {
        "400": {"description": "Invalid input (status_code 2001 names the field)"},
        "401": {"description": "Admin token missing or wrong"},
        "404": {"description": "Unknown object or party"},
    }
    for module, (kind, _) in MODULES.items():
        ref = {"$ref": f"#/components/schemas/{kind}"}
        body = {"required": True, "content": {"application/json": {"schema": ref}}}
        obj = {"content": {"application/json": {"schema": ref}}}
        params = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in ("country_code", "party_id", "id")
        ] + [version_param]
        paths[f"/admin/api/{module}/{{country_code}}/{{party_id}}/{{id}}"] = {
            "put": {
                "summary": f"Create or replace one of our {kind} objects",
                "parameters": params,
                "requestBody": body,
                "responses": {
                    "200": {"description": "Replaced", **obj},
                    "201": {"description": "Created", **obj},
                    **errors,
                },
            },
            "patch": {
                "summary": f"Update fields of one of our {kind} objects",
                "parameters": params,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {"200": {"description": "Updated", **obj}, **errors},
            },
            "get": {
                "summary": f"Read one of our {kind} objects",
                "parameters": params,
                "responses": {"200": {"description": "The object", **obj}, **errors},
            },
            "delete": {
                "summary": f"Delete one of our {kind} objects",
                "parameters": params[:3],
                "responses": {"204": {"description": "Deleted"}, **errors},
            },
        }
        paths[f"/admin/api/{module}"] = {
            "get": {
                "summary": f"List {kind} objects: ours (owner=own), a partner's, or all",
                "parameters": [
                    {"name": "owner", "in": "query", "schema": {"type": "string"}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    version_param,
                ],
                "responses": {"200": {"description": "A page"}, "401": errors["401"]},
            }
        }
    paths["/admin/api/partners"] = {
        "get": {"summary": "List partners", "responses": {"200": {"description": "Partners"}}}
    }
    paths["/admin/api/invites"] = {
        "post": {
            "summary": "Create a registration token A",
            "parameters": [{"name": "party", "in": "query", "schema": {"type": "string"}}],
            "responses": {"201": {"description": "{versions_url, token}"}},
        }
    }
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "ocpikit backend API", "version": "1"},
        "servers": [{"url": base_url}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"admin": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"admin": []}],
        "paths": paths,
    }
    return orjson.dumps(doc)


def admin_routes() -> list[BaseRoute]:
    obj = "/admin/api/{module}/{country_code}/{party_id}/{id}"
    return [
        Route("/admin/api/openapi.json", _endpoint(openapi_json, auth=False), methods=["GET"]),
        Route("/admin/api/partners", _endpoint(list_partners), methods=["GET"]),
        Route("/admin/api/invites", _endpoint(create_invite), methods=["POST"]),
        Route(obj, _endpoint(put_object), methods=["PUT"]),
        Route(obj, _endpoint(patch_object), methods=["PATCH"]),
        Route(obj, _endpoint(get_object), methods=["GET"]),
        Route(obj, _endpoint(delete_object), methods=["DELETE"]),
        Route("/admin/api/commands", _endpoint(list_commands), methods=["GET"]),
        Route(
            "/admin/api/commands/{direction}/{command_id}",
            _endpoint(get_command),
            methods=["GET"],
        ),
        Route("/admin/api/hubclientinfo", _endpoint(list_clientinfo), methods=["GET"]),
        Route("/admin/api/{module}", _endpoint(list_objects), methods=["GET"]),
    ]
