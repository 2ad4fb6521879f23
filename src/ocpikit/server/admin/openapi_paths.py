"""The backend API's operations beside the object CRUD, as OpenAPI 3.1 path items (partners,
invites, registrations, pulls, the outbox, the traffic log, commands and charging profiles,
authorization, hub client info, the party directories, CDR checks, payments) and what is served
without the admin token (the probes ``/health``, ``/ready``, ``/metrics``; the NAP feeds and OCPI
open data), with the schemas they refer to. :mod:`.openapi` puts them in the
document; a test holds every registered route to it."""

from __future__ import annotations

from typing import Any

from ocpikit.core.versions import HEAD
from ocpikit.models import model_for
from ocpikit.protocol.commands import COMMAND_OBJECTS, PROFILE_ACTIONS

__all__ = ["operational_paths", "operational_schemas"]

_STR: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer"}
_OBJ: dict[str, Any] = {"type": "object"}
_ERRORS: dict[str, Any] = {
    "400": {"description": "Invalid input (status_code 2001 names the field)"},
    "401": {"description": "Admin token missing or wrong"},
    "404": {"description": "Unknown partner, object or command"},
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "path", "required": True, "schema": _STR} for n in names]


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _op(
    summary: str,
    answer: dict[str, Any],
    *,
    status: str = "200",
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    public: bool = False,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {status: answer, **_ERRORS}}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if public:
        op["security"] = []
        op["responses"] = {status: answer}
    return op


def operational_schemas() -> dict[str, Any]:
    """Schemas of the operational answers, and the head models the flows take and give."""
    schemas: dict[str, Any] = {}
    models = [*COMMAND_OBJECTS.values(), "SetChargingProfile", "CommandResult"]
    models += ["ChargingProfileResult", "LocationReferences", "AuthorizationInfo", "ClientInfo"]
    for name in models:
        schema = model_for(HEAD, name).model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for sub, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(sub, definition)
        schemas[name] = schema
    nullable_str = {"type": ["string", "null"]}
    schemas["Exchange"] = {
        "type": "object",
        "description": "One OCPI exchange as stored: Authorization and tokens redacted",
        "properties": {
            "id": _INT,
            "direction": {"type": "string", "enum": ["in", "out"]},
            "started_at": {"type": "string", "format": "date-time"},
            **{k: nullable_str for k in ("partner", "module", "object_id", "error")},
            "method": _STR,
            "url": _STR,
            "status": {"type": ["integer", "null"]},
            "ocpi_status": {"type": ["integer", "null"]},
            "duration_ms": {"type": ["number", "null"]},
            "request_id": nullable_str,
            "correlation_id": nullable_str,
            "request_headers": {"type": "array", "items": {"type": "array", "items": _STR}},
            "request_body": nullable_str,
            "response_headers": {"type": "array", "items": {"type": "array", "items": _STR}},
            "response_body": nullable_str,
        },
    }
    schemas["ExchangePage"] = {
        "type": "object",
        "properties": {
            "exchanges": {"type": "array", "items": _ref("Exchange")},
            "next_before": {"type": ["integer", "null"], "description": "pass as `before`"},
        },
    }
    schemas["OutboxPage"] = {
        "type": "object",
        "properties": {
            "counts": {"type": "object", "additionalProperties": _INT},
            "entries": {"type": "array", "items": _OBJ},
        },
    }
    schemas["CommandRecord"] = {
        "type": "object",
        "description": "A command or charging-profile request, sent or received, and its state",
        "properties": {
            "id": _STR,
            "direction": {"type": "string", "enum": ["sent", "received"]},
            "command": _STR,
            "state": _STR,
            "final": {"type": "boolean"},
            "partner": nullable_str,
            "result": {"type": ["object", "null"]},
        },
    }
    return schemas


def _partner_paths() -> dict[str, Any]:
    one = "/admin/api/partners/{partner_id}"
    pid = _path("partner_id")
    return {
        "/admin/api/partners": {
            "get": _op(
                "Partners with their sync state (`ocpikit partners --json`)",
                _json({"type": "array", "items": _OBJ}, "Partners"),
            )
        },
        one: {
            "get": _op(
                "One connection: roles, endpoints, switches, sync state (`ocpikit partners show`)",
                _json(_OBJ, "The connection"),
                params=pid,
            ),
            "delete": _op(
                "Unregister a partner: its tokens stop working, its outbox goes (`ocpikit unregister`)",
                {"description": "Unregistered"},
                status="204",
                params=pid,
            ),
        },
        f"{one}/switches": {
            "get": _op(
                "The connection's hub profile and each switch's effective value and source",
                _json(_OBJ, "Switches"),
                params=pid,
            ),
            "patch": _op(
                "Set the hub profile and/or switches (a null value removes one) (`ocpikit partners set`)",
                _json(_OBJ, "Switches after the change"),
                params=pid,
                body={"type": "object", "properties": {"profile": _STR, "switches": _OBJ}},
            ),
        },
        f"{one}/sync": {
            "get": _op(
                "Per pulled module: the last complete pull and the objects held",
                _json(_OBJ, "Sync state"),
                params=pid,
            )
        },
        f"{one}/pull": {
            "post": _op(
                "Pull a module (or all) from the partner into storage (`ocpikit pull`)",
                _json({"type": "array", "items": _OBJ}, "One report row per module"),
                params=pid,
                body={
                    "type": "object",
                    "properties": {
                        "module": _STR,
                        "since": {"type": "string", "format": "date-time"},
                        "full": {"type": "boolean"},
                    },
                },
            )
        },
        "/admin/api/invites": {
            "get": _op(
                "Tokens A that still work, never the tokens (`ocpikit invite --list`)",
                _json({"type": "array", "items": _OBJ}, "Invites"),
            ),
            "post": _op(
                "Create a registration token A (`ocpikit invite`)",
                _json(_OBJ, "{versions_url, token, id, expires_at}: the token is shown once"),
                status="201",
                params=[
                    _query("party", _STR, "our party (CC-PID)"),
                    _query("ttl", _STR, "7d, 12h, 30m or never"),
                    _query("for", _STR, "the party that must register (CC-PID)"),
                    _query("replace", _STR, "a partner the token may re-register"),
                ],
            ),
        },
        "/admin/api/invites/{invite_id}": {
            "delete": _op(
                "Revoke a token A by its id (`ocpikit invite --revoke`)",
                {"description": "Revoked"},
                status="204",
                params=_path("invite_id"),
            )
        },
        "/admin/api/partners/{partner_id}/rotate": {
            "post": _op(
                "Renew the partner's tokens both ways: a credentials PUT (`ocpikit rotate`)",
                _json(_OBJ, "The partner with its new token"),
                params=_path("partner_id"),
            )
        },
        "/admin/api/registrations": {
            "post": _op(
                "Register with a partner that gave us a token A (`ocpikit register`)",
                _json(_OBJ, "The new partner"),
                status="201",
                body={
                    "type": "object",
                    "required": ["versions_url", "token"],
                    "properties": {
                        "versions_url": _STR,
                        "token": _STR,
                        "party": _STR,
                        "profile": _STR,
                    },
                },
            )
        },
    }


def _queue_and_traffic_paths() -> dict[str, Any]:
    return {
        "/admin/api/outbox": {
            "get": _op(
                "The push queue: counts per state and entries (`ocpikit outbox list`)",
                _json(_ref("OutboxPage"), "Counts and entries"),
                params=[
                    _query(
                        "state",
                        {"type": "string", "enum": ["pending", "in_flight", "dead"]},
                        "dead: the dead letters",
                    ),
                    _query("partner", _STR, "one partner's entries"),
                    _query("limit", _INT, "1 to 1000 (default 100)"),
                    _query("after", _INT, "entries after this id (paging)"),
                ],
            )
        },
        "/admin/api/outbox/replay": {
            "post": _op(
                "Dead letters back to pending: one, one partner's, or all (`ocpikit outbox replay`)",
                _json({"type": "object", "properties": {"replayed": _INT}}, "How many"),
                params=[
                    _query("entry", _INT, "one entry id"),
                    _query("partner", _STR, "one partner's"),
                ],
            )
        },
        "/admin/api/exchanges": {
            "get": _op(
                "The traffic log, in and out, newest first, redacted",
                _json(_ref("ExchangePage"), "A page of exchanges"),
                params=[
                    _query(
                        "direction",
                        {"type": "string", "enum": ["in", "out"]},
                        "in: partners calling us; out: our calls",
                    ),
                    _query("partner", _STR, "partner id"),
                    _query("module", _STR, "OCPI module (sessions, commands, credentials...)"),
                    _query("object_id", _STR, "the object an exchange was about"),
                    _query("status", _STR, "an HTTP status (200), a class (4xx) or error"),
                    _query(
                        "since", {"type": "string", "format": "date-time"}, "started at or after"
                    ),
                    _query("before", _INT, "exchanges older than this id (next_before of a page)"),
                    _query("limit", _INT, "1 to 1000 (default 100)"),
                ],
            )
        },
        "/admin/api/cdr-checks": {
            "get": _op(
                "Checks of received CDRs (`ocpikit cdr disputes --json`)",
                _json({"type": "array", "items": _OBJ}, "Checks"),
                params=[
                    _query("verdict", _STR, "a verdict, or disputes (repeatable)"),
                    _query("partner", _STR, "partner id"),
                    _query("since", {"type": "string", "format": "date-time"}, "checked since"),
                    _query("limit", _INT, "at most (default 1000)"),
                ],
            )
        },
        "/admin/api/cdr-checks/{cdr_id}/resolution": {
            "post": _op(
                "Resolve a dispute: accepted or contested",
                _json(_OBJ, "The check"),
                params=_path("cdr_id"),
                body={
                    "type": "object",
                    "required": ["resolution"],
                    "properties": {
                        "resolution": {"type": "string", "enum": ["accepted", "contested"]},
                        "note": _STR,
                        "party": _STR,
                    },
                },
            )
        },
        "/admin/api/parties": {
            "get": _op(
                "The party directory: remote parties and the connection reaching each",
                _json(
                    {"type": "array", "items": _OBJ}, "Directory rows (as `ocpikit parties --json`)"
                ),
            )
        },
        "/admin/api/hub/parties": {
            "get": _op(
                "A hub's connected parties: roles, version, status, last exchange",
                _json({"type": "array", "items": _OBJ}, "Rows (as `ocpikit hub parties --json`)"),
            )
        },
    }


def _flow_paths() -> dict[str, Any]:
    commands = {
        "oneOf": [_ref(name) for name in COMMAND_OBJECTS.values()],
        "description": "the command's object without response_url",
    }
    command = [
        {
            "name": "command",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": list(COMMAND_OBJECTS)},
        }
    ]
    record = _json(_ref("CommandRecord"), "The command's record")
    return {
        "/admin/api/partners/{partner_id}/commands/{command}": {
            "post": _op(
                "Send a command to a partner (CPO)",
                record,
                status="201",
                params=_path("partner_id") + command,
                body=commands,
            )
        },
        "/admin/api/parties/{party}/commands/{command}": {
            "post": _op(
                "Send a command to a CPO party over the connection that reaches it",
                record,
                status="201",
                params=_path("party") + command,
                body=commands,
            )
        },
        "/admin/api/partners/{partner_id}/chargingprofiles/{session_id}": {
            "post": _op(
                "Set, get or clear a session's charging profile",
                record,
                status="201",
                params=_path("partner_id", "session_id"),
                body={
                    "allOf": [
                        {
                            "type": "object",
                            "properties": {
                                "action": {"type": "string", "enum": list(PROFILE_ACTIONS)}
                            },
                        }
                    ],
                    "description": "SET_PROFILE: a SetChargingProfile without response_url",
                },
            )
        },
        "/admin/api/commands": {
            "get": _op(
                "Open commands and charging-profile requests, oldest deadline first (`ocpikit flows commands`)",
                _json({"type": "array", "items": _ref("CommandRecord")}, "Records"),
                params=[
                    _query(
                        "direction",
                        {"type": "string", "enum": ["sent", "received"]},
                        "sent or received",
                    )
                ],
            )
        },
        "/admin/api/commands/{direction}/{command_id}": {
            "get": _op("One command's record", record, params=_path("direction", "command_id"))
        },
        "/admin/api/commands/{command_id}/result": {
            "post": _op(
                "Report the result of a command we received (sent to the partner's response_url)",
                record,
                params=_path("command_id"),
                body={"oneOf": [_ref("CommandResult"), _ref("ChargingProfileResult")]},
            )
        },
        "/admin/api/authorize": {
            "post": _op(
                "Authorize a token in real time (from the cache or by asking its eMSP)",
                _json(_ref("AuthorizationInfo"), "The eMSP's answer"),
                body={
                    "type": "object",
                    "required": ["uid"],
                    "properties": {
                        "uid": _STR,
                        "type": _STR,
                        "party": _STR,
                        "emsp": _STR,
                        "location": _ref("LocationReferences"),
                    },
                },
            )
        },
        "/admin/api/hubclientinfo": {
            "get": _op(
                "What hubs pushed through HubClientInfo (`ocpikit flows clients`)",
                _json(
                    {"type": "array", "items": _ref("ClientInfo")},
                    "ClientInfo objects, each with its hub",
                ),
            )
        },
    }


def _probe_paths() -> dict[str, Any]:
    text = {"description": "Prometheus text format", "content": {"text/plain": {"schema": _STR}}}
    return {
        "/health": {
            "get": _op("The process is alive", _json(_OBJ, '{"status": "ok"}'), public=True)
        },
        "/ready": {
            "get": {
                **_op(
                    "Database reachable and schema at the newest migration",
                    _json(_OBJ, '{"status": "ready"}'),
                    public=True,
                ),
                "responses": {
                    "200": _json(_OBJ, '{"status": "ready"}'),
                    "503": _json(_OBJ, '{"status": "not ready", "problems": [...]}'),
                },
            }
        },
        "/metrics": {
            "get": {
                **_op("Metrics (needs the admin token unless [metrics] public = true)", text),
                "responses": {"200": text, "401": _ERRORS["401"]},
            }
        },
        "/admin/api/openapi.json": {
            "get": _op("This description", _json(_OBJ, "OpenAPI 3.1"), public=True)
        },
    }


def _payment_paths() -> dict[str, Any]:
    """2.3.0 Payments (docs/payments.md): ours as PTP, a CPO's calls to a PTP."""
    own = _query("own", {"type": "boolean"}, "true: ours (as PTP); false: received (as CPO)")
    rows = _json({"type": "array", "items": _OBJ}, "{party, partner, object} rows")
    terminal = _path("partner_id", "terminal_id")
    return {
        "/admin/api/terminals": {"get": _op("Payment terminals", rows, params=[own])},
        "/admin/api/terminals/{country_code}/{party_id}/{terminal_id}": {
            "put": _op(
                "PTP: publish a terminal serving that CPO party (queued to it)",
                _json(_OBJ, "The stored Terminal"),
                params=_path("country_code", "party_id", "terminal_id"),
                body=_OBJ,
            )
        },
        "/admin/api/financial-advice-confirmations": {
            "get": _op("Financial advice confirmations", rows, params=[own])
        },
        "/admin/api/financial-advice-confirmations/{country_code}/{party_id}": {
            "post": _op(
                "PTP: confirm a capture to that CPO party (queued to it)",
                _json(_OBJ, "The stored confirmation"),
                status="201",
                params=_path("country_code", "party_id"),
                body=_OBJ,
            )
        },
        "/admin/api/payments/confirmations": {
            "get": _op(
                "CPO: the confirmations received, each with the CDR of ours it pays",
                _json({"type": "array", "items": _OBJ}, "{partner, confirmation, cdr} rows"),
            )
        },
        "/admin/api/partners/{partner_id}/terminals/activate": {
            "post": _op(
                "CPO: ask the PTP to activate a station terminal (reference)",
                _json(_OBJ, "The activated Terminal"),
                status="201",
                params=_path("partner_id"),
                body=_OBJ,
            )
        },
        "/admin/api/partners/{partner_id}/terminals/{terminal_id}/deactivate": {
            "post": _op(
                "CPO: ask the PTP to deactivate a terminal", _json(_OBJ, "Done"), params=terminal
            )
        },
        "/admin/api/partners/{partner_id}/terminals/{terminal_id}/assign": {
            "post": _op(
                "CPO: assign locations and EVSEs (the PTP's PATCH)",
                _json(_OBJ, "The Terminal"),
                params=terminal,
                body=_OBJ,
            )
        },
        "/admin/api/partners/{partner_id}/terminals/{terminal_id}/update": {
            "post": _op(
                "CPO: update a terminal's data (the PTP's PUT)",
                _json(_OBJ, "The Terminal"),
                params=terminal,
                body=_OBJ,
            )
        },
    }


def _public_paths() -> dict[str, Any]:
    """What the platform serves without the admin token (docs/afir.md): the NAP feeds and,
    with ``[open_data] enabled = true``, read-only OCPI open data."""
    doc = _json(_OBJ, "A DATEX II publication (JSON; XML with ?format=datex2-xml)")
    since = _query("since", _STR, "a delta of the changes since this time (RFC 3339)")
    ocpi = _json(_OBJ, "An OCPI response envelope")
    version = _path("version")
    paths: dict[str, Any] = {
        "/nap/static": {"get": _op("NAP static table publication", doc, public=True)},
        "/nap/status": {
            "get": _op(
                "NAP status publication (full, or ?since= delta)", doc, params=[since], public=True
            )
        },
        "/open/ocpi/versions": {"get": _op("Open data: versions", ocpi, public=True)},
        "/open/ocpi/{version}": {
            "get": _op("Open data: version details", ocpi, params=version, public=True)
        },
    }
    for module in ("locations", "tariffs"):
        paths[f"/open/ocpi/{{version}}/{module}"] = {
            "get": _op(
                f"Open data: published {module}, paginated", ocpi, params=version, public=True
            )
        }
        paths[f"/open/ocpi/{{version}}/{module}/{{object_id}}"] = {
            "get": _op(
                f"Open data: one published {module[:-1]}",
                ocpi,
                params=_path("version", "object_id"),
                public=True,
            )
        }
    return paths


def operational_paths() -> dict[str, Any]:
    return {
        **_partner_paths(),
        **_queue_and_traffic_paths(),
        **_flow_paths(),
        **_probe_paths(),
        **_payment_paths(),
        **_public_paths(),
    }
