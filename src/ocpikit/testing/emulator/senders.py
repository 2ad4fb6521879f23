"""The Sender interfaces of the emulated partner: GET lists of its objects (paginated, see
paging.py), a Location by id, real-time authorization of its tokens, the CommandResults the
platform posts to our response URLs, and a hub's ClientInfo list.

At a hub the objects are those of the parties behind it (each carries its own
``country_code``/``party_id``); a GET list addressed (``OCPI-to-*``) to one of them lists only
that party's objects (transport_and_format §GET All via Hub: addressed to the hub, all of them).
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .data import Entry, format_time
from .outbound import break_object, stale_copy
from .paging import QueryError, page_of, parse_query
from .replies import Call, Refusal, call_of, read_json, refuse, reply

__all__ = ["authorize", "command_result", "hub_client_info", "sender"]


def _visible(call: Call, module: str) -> list[Entry]:
    entries = call.emu.data.entries(module)
    party = call.to_party
    if call.emu.config.role == "hub" and party and party != call.emu.config.party:
        return [e for e in entries if e.party == party]
    return entries


def _served(call: Call, module: str, entries: list[Entry]) -> list[dict[str, Any]]:
    """The wire objects of a page, changed by the faults that apply to pages' content."""
    items = [e.data for e in entries]
    skew = call.fault("clock-skew")
    if skew:
        items = [
            {**d, "last_updated": format_time(e.last_updated + timedelta(seconds=skew.rule.delay))}
            for d, e in zip(items, entries, strict=True)
        ]
    if call.fault("bad-objects") and items:
        items[len(items) // 2] = break_object(items[len(items) // 2])
    if call.fault("duplicate-cdr") and items:
        items.append(copy.deepcopy(items[0]))
    if call.fault("stale-session") and entries:
        items[0] = stale_copy(items[0], entries[0])
    return items


async def _list(call: Call, module: str) -> Response:
    emu = call.emu
    try:
        query = parse_query(list(call.request.query_params.multi_items()))
    except QueryError as exc:
        raise Refusal(2001, str(exc)) from None
    pagination = call.fault("pagination")
    base = f"{emu.base_url}{call.request.url.path}"
    page = page_of(
        _visible(call, module),
        query,
        base_url=base,
        max_page=emu.config.page_size,
        fault=pagination.kind if pagination else None,
    )
    return reply(call, _served(call, module, page.items), headers=page.headers)


def _location(call: Call, parts: list[str]) -> Response:
    entry = call.emu.data.find("locations", parts[0])
    if entry is None:
        raise Refusal(2003, f"unknown location {parts[0]}", http_status=404)
    obj: Any = entry.data
    if len(parts) > 1:
        obj = next((e for e in obj.get("evses", []) if e["uid"] == parts[1]), None)
        if obj is None:
            raise Refusal(2003, f"unknown EVSE {parts[1]}", http_status=404)
    if len(parts) > 2:
        obj = next((c for c in obj.get("connectors", []) if c["id"] == parts[2]), None)
        if obj is None:
            raise Refusal(2003, f"unknown connector {parts[2]}", http_status=404)
    if call.fault("bad-objects"):
        obj = break_object(obj)
    return reply(call, obj)


async def sender(request: Request) -> Response:
    """``/ocpi/{version}/sender/{module}[/...]``."""
    module = request.path_params["module"]
    call = call_of(request, module)
    rest = [p for p in request.path_params.get("rest", "").split("/") if p]
    try:
        if module == "hubclientinfo":
            return hub_client_info(call, rest)
        call.address()
        if request.method == "GET" and not rest:
            return await _list(call, module)
        if request.method == "GET" and module == "locations" and len(rest) <= 3:
            return _location(call, rest)
        if (
            request.method == "POST"
            and module == "tokens"
            and len(rest) == 2
            and rest[1] == "authorize"
        ):
            return await authorize(call, rest[0])
        if request.method == "POST" and module == "commands" and rest:
            return await command_result(call, "/".join(rest))
        raise Refusal(2000, f"{request.method} {request.url.path}: not an interface here", 404)
    except Refusal as refusal:
        return refuse(call, refusal)


def hub_client_info(call: Call, rest: list[str]) -> Response:
    """The hub's ClientInfo list (mod_hub_client_info §Sender interface): every party behind
    it, CONNECTED; no routing headers (a configuration module)."""
    emu = call.emu
    if rest or call.request.method != "GET":
        raise Refusal(2000, "hubclientinfo: only GET of the list", 404)
    infos = [
        {
            "country_code": party.split("-")[0],
            "party_id": party.split("-")[1],
            "role": role,
            "status": "CONNECTED",
            "last_updated": "2025-01-01T00:00:00Z",
        }
        for party, role in emu.config.behind
    ]
    return reply(
        call,
        infos,
        headers={"X-Total-Count": str(len(infos)), "X-Limit": str(len(infos) or 1)},
        routed=False,
    )


async def authorize(call: Call, uid: str) -> Response:
    """Real-time authorization of one of our tokens (mod_tokens §POST authorize): unknown →
    HTTP 404 with 2004 (2.2+); an invalid token is BLOCKED; a known valid one ALLOWED."""
    emu = call.emu
    body = await read_json(call)
    token_type = call.request.query_params.get("type", "RFID")
    party = (
        call.to_party if emu.config.role == "hub" and call.to_party != emu.config.party else None
    )
    entry = emu.data.find("tokens", uid)
    if entry is not None and (party is not None and entry.party != party):
        entry = None
    if entry is None or entry.data.get("type", "RFID") != token_type:
        code = 2000 if emu.config.version == "2.1.1" else 2004
        raise Refusal(code, f"unknown token {uid} ({token_type})", http_status=404)
    if body is not None and (
        not isinstance(body, dict) or not isinstance(body.get("location_id"), str)
    ):
        raise Refusal(2001, "LocationReferences.location_id: required when a body is sent")
    info: dict[str, Any] = {"allowed": "ALLOWED" if entry.data.get("valid") else "BLOCKED"}
    if emu.config.version != "2.1.1":
        info["token"] = entry.data
        info["authorization_reference"] = f"AUTH-{uid[-8:]}-{call.record.seq}"
    if isinstance(body, dict):
        info["location"] = body
    if emu.config.role == "hub":
        call.to_party = entry.party
    return reply(call, info)


async def command_result(call: Call, reference: str) -> Response:
    """A CommandResult (2.2+; a CommandResponse in 2.1.1) posted to one of our response URLs."""
    body = await read_json(call)
    if not isinstance(body, dict | str) or (isinstance(body, dict) and "result" not in body):
        raise Refusal(2001, "result: required")
    call.emu.command_results[reference] = body
    return reply(call)
