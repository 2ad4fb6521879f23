"""The backend API's OpenAPI 3.1 description (``GET /admin/api/openapi.json``, no
authentication); object schemas are the head models' JSON schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.versions import HEAD, SUPPORTED_VERSIONS
from ocpikit.models import model_for
from ocpikit.server.admin.common import MODULES
from ocpikit.server.admin.openapi_paths import operational_paths, operational_schemas
from ocpikit.server.platform import Platform

__all__ = ["openapi", "openapi_json"]


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
    paths.update(operational_paths())
    for name, schema in operational_schemas().items():
        schemas.setdefault(name, schema)
    paths.update(_afir_paths(errors))
    paths.update(_cdr_paths(errors))
    paths.update(_hub_paths())
    paths.update(_evse_paths(version_param, errors))
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "ocpikit backend API",
            "version": "1",
            "description": "The operator's API (plain JSON, not OCPI envelopes): every "
            "operation of the CLI. Authorization: Bearer <admin token>.",
        },
        "servers": [{"url": base_url}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"admin": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"admin": []}],
        "paths": paths,
    }
    return orjson.dumps(doc)


def _afir_paths(errors: dict[str, Any]) -> dict[str, Any]:
    """The AFIR backend API (docs/afir.md)."""
    paths: dict[str, Any] = {}
    paths["/admin/api/afir/check"] = {
        "get": {
            "summary": "The AFIR data check (Tables A, B, F) per location and EVSE (docs/afir.md)",
            "parameters": [{"name": "location", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "{summary, locations}"}, "404": errors["404"]},
        }
    }
    paths["/admin/api/afir/supplement"] = {
        "get": {
            "summary": "The AFIR supplement: config merged with what the API stored",
            "responses": {"200": {"description": "{common, party, location}"}},
        }
    }
    paths["/admin/api/afir/supplement/{location_id}"] = {
        "put": {
            "summary": "Store one location's AFIR supplement (legal_name, nuts1, ...)",
            "parameters": [
                {
                    "name": "location_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
            ],
            "responses": {"200": {"description": "The location's merged supplement"}},
        }
    }
    return paths


def _cdr_paths(errors: dict[str, Any]) -> dict[str, Any]:
    """The CDR pipeline's endpoints (docs/cdrs.md): checks of received CDRs, CDRs built for
    our sessions, corrections."""
    q = [
        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
    ]
    return {
        "/admin/api/cdr-checks": {
            "get": {
                "summary": "Checks of received CDRs (verdict=disputes: disputed and unverifiable)",
                "parameters": [
                    {"name": "verdict", "in": "query", "schema": {"type": "string"}},
                    {"name": "partner", "in": "query", "schema": {"type": "string"}},
                    {"name": "since", "in": "query", "schema": {"type": "string"}},
                    *q,
                ],
                "responses": {
                    "200": {"description": "Rows (as `ocpikit cdr disputes --json`)"},
                    "400": errors["400"],
                },
            }
        },
        "/admin/api/cdr-checks/{cdr_id}/resolution": {
            "post": {
                "summary": "Mark a dispute accepted or contested with a note",
                "parameters": [
                    {"name": "cdr_id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {"200": {"description": "The check"}, **errors},
            }
        },
        "/admin/api/cdr-builds": {
            "get": {
                "summary": "Finished sessions of ours and the CDR the platform built for each",
                "parameters": [
                    {"name": "state", "in": "query", "schema": {"type": "string"}},
                    *q,
                ],
                "responses": {"200": {"description": "Rows"}, "400": errors["400"]},
            }
        },
        "/admin/api/invoice-checks": {
            "get": {
                "summary": "Invoice Reconciliation records we hold, checked against our CDRs",
                "parameters": [
                    {"name": "partner", "in": "query", "schema": {"type": "string"}},
                    {"name": "own", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "differences", "in": "query", "schema": {"type": "boolean"}},
                    *q,
                ],
                "responses": {"200": {"description": "Rows"}, "400": errors["400"]},
            }
        },
        "/admin/api/session-estimates": {
            "get": {
                "summary": "Partners' sessions: reported total_cost against the engine's estimate",
                "parameters": [
                    {"name": "partner", "in": "query", "schema": {"type": "string"}},
                    {"name": "status", "in": "query", "schema": {"type": "string"}},
                    {"name": "differences", "in": "query", "schema": {"type": "boolean"}},
                    *q,
                ],
                "responses": {"200": {"description": "Rows"}, "400": errors["400"]},
            }
        },
        "/admin/api/cdrs/{id}/credit": {
            "post": {
                "summary": "Correct a CDR of ours: a Credit CDR, then a new CDR (both pushed)",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {"201": {"description": "{credit, cdr}"}, **errors},
            }
        },
    }


def _hub_paths() -> dict[str, Any]:
    """The hub's endpoints (docs/hubs.md "ocpikit as a hub")."""
    paths: dict[str, Any] = {}
    paths["/admin/api/hub/parties"] = {
        "get": {
            "summary": "A hub's connected parties: roles, version, connection status, last "
            "exchange, forwarded requests by outcome (`forwarded.sent`, `forwarded.received`)",
            "responses": {"200": {"description": "Rows (as `ocpikit hub parties --json`)"}},
        }
    }
    paths["/admin/api/hub/losses"] = {
        "get": {
            "summary": "What version conversions of a hub's forwarded objects could not carry, "
            "per connection and loss rule: partner, rule, object, from, to, field, count",
            "responses": {"200": {"description": "Rows (as `ocpikit hub losses --json`)"}},
        }
    }
    return paths


def _evse_paths(version_param: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    """The paths of one EVSE or Connector of our Location (``server/admin/evses.py``)."""
    paths: dict[str, Any] = {}
    evse_params = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
        for n in ("id", "uid")
    ] + [version_param]
    for path, name, params in (
        ("/admin/api/locations/{id}/evses/{uid}", "EVSE", evse_params),
        (
            "/admin/api/locations/{id}/evses/{uid}/connectors/{connector_id}",
            "Connector",
            [
                *evse_params,
                {"name": "connector_id", "in": "path", "required": True, "schema": {}},
            ],
        ),
    ):
        paths[path] = {
            "patch": {
                "summary": f"Update fields of one {name} of our Location (status included); "
                f"pushed to partners as a {name}-level PATCH",
                "parameters": params,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {"200": {"description": f"The {name}"}, **errors},
            },
            "get": {
                "summary": f"Read one {name} of our Location",
                "parameters": params,
                "responses": {"200": {"description": f"The {name}"}, **errors},
            },
        }
    return paths
