"""What the control API makes the emulated partner do towards the platform it is registered
with: push new objects (Receiver interfaces: PUT client-owned objects, POST CDRs), ask for a
real-time authorization (mod_tokens §POST authorize), send a command (mod_commands).

A hub sends as the party behind it that owns the objects (``OCPI-from-*``), to the platform's
party with the receiving role (``OCPI-to-*``): transport_and_format §Message Routing Headers.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

import httpx

from .config import ConfigError, parse_party
from .data import MODULE_OBJECT, Entry, object_id
from .outbound import OutboundError, break_object, call, skew_object, stale_copy
from .state import Emulator, Registration
from .wire import now

__all__ = ["ActionError", "authorize_at_platform", "push", "send_command"]

#: the platform's role that receives each module's pushes
_RECEIVING_ROLE = {"tokens": "CPO", "commands": "CPO"}


class ActionError(Exception):
    """A control call that cannot be done; ``upstream`` when the platform is the cause."""

    def __init__(self, message: str, upstream: bool = False) -> None:
        super().__init__(message)
        self.upstream = upstream


def _registration(emu: Emulator) -> Registration:
    if emu.registration is None:
        raise ActionError("not registered with a platform (POST /control/register first)")
    return emu.registration


def _party(emu: Emulator, body: dict[str, Any], role: str) -> str:
    """The party of ours that acts: ``body["party"]`` (one we speak for, with ``role``), or
    the first of ours with ``role``."""
    given = body.get("party")
    if given is None:
        candidates = emu.config.parties_of(role)
        if not candidates:
            raise ActionError(f"this {emu.config.role} has no {role} party")
        return candidates[0]
    try:
        party = parse_party(str(given), "party")
    except ConfigError as exc:
        raise ActionError(str(exc)) from None
    if emu.config.owner_of(party) != role:
        raise ActionError(f"party {party}: not a {role} party of this emulator")
    return party


async def _push_one(
    emu: Emulator, http: httpx.AsyncClient, reg: Registration, module: str, entry: Entry, url: str
) -> list[dict[str, Any]]:
    faults = emu.plan.decide(module, "push", outbound=True)
    data = entry.data
    if any(t.mode == "clock-skew" for t in faults):
        skew = next(t for t in faults if t.mode == "clock-skew").rule.delay
        data = skew_object(data, skew, entry)
    if any(t.mode == "bad-objects" for t in faults):
        data = break_object(data)
    receiver = reg.party(_RECEIVING_ROLE.get(module, "EMSP"))
    cc, pid = entry.party.split("-")
    sends: list[tuple[str, str, dict[str, Any]]] = []
    if module == "cdrs":
        sends.append(("POST", url, data))
        if any(t.mode == "duplicate-cdr" for t in faults):
            sends.append(("POST", url, data))
    else:
        target = f"{url.rstrip('/')}/{cc}/{pid}/{quote(entry.id, safe='')}"
        sends.append(("PUT", target, data))
        if module == "sessions" and any(t.mode == "stale-session" for t in faults):
            sends.append(("PUT", target, stale_copy(data, entry)))
    results = []
    for method, target, body in sends:
        row: dict[str, Any] = {"module": module, "party": entry.party, "id": entry.id}
        row["faults"] = [t.rule.spec for t in faults]
        try:
            answer = await call(
                emu,
                http,
                method,
                target,
                token=reg.outbound_token,
                module=module,
                body=body,
                sender=entry.party,
                receiver=receiver,
                faults=faults,
            )
            row.update(answer.report())
        except OutboundError as exc:
            row.update({"method": method, "url": target, "error": str(exc)})
        results.append(row)
    return results


async def push(
    emu: Emulator, http: httpx.AsyncClient, body: dict[str, Any]
) -> list[dict[str, Any]]:
    """``POST /control/push``: create ``count`` new objects of ``party`` in ``module`` (they
    join what we serve) and push each to the platform's Receiver endpoint."""
    reg = _registration(emu)
    module = body.get("module")
    if not isinstance(module, str) or module not in MODULE_OBJECT:
        raise ActionError(f"module: one of {', '.join(MODULE_OBJECT)}")
    count = body.get("count", 1)
    if not isinstance(count, int) or not 1 <= count <= 1000:
        raise ActionError("count: a whole number from 1 to 1000")
    party = _party(emu, body, "EMSP" if module == "tokens" else "CPO")
    url = reg.endpoint(module, "RECEIVER")
    if url is None:
        raise ActionError(f"the platform has no {module} RECEIVER endpoint", upstream=True)
    results: list[dict[str, Any]] = []
    for _ in range(count):
        entry = emu.data.create(module, party, when=now())
        results.extend(await _push_one(emu, http, reg, module, entry, url))
    return results


async def authorize_at_platform(
    emu: Emulator, http: httpx.AsyncClient, body: dict[str, Any]
) -> dict[str, Any]:
    """``POST /control/authorize``: a CPO (or a hub's CPO) asks the platform's Tokens Sender
    to authorize ``token_uid`` (at ``location_id`` with ``evse_uids`` when given)."""
    reg = _registration(emu)
    uid = body.get("token_uid")
    if not isinstance(uid, str) or not uid:
        raise ActionError("token_uid: required")
    party = _party(emu, body, "CPO")
    url = reg.endpoint("tokens", "SENDER")
    if url is None:
        raise ActionError("the platform has no tokens SENDER endpoint", upstream=True)
    target = f"{url.rstrip('/')}/{quote(uid, safe='')}/authorize"
    token_type = body.get("type")
    if isinstance(token_type, str):
        target += f"?type={quote(token_type)}"
    refs = None
    if isinstance(body.get("location_id"), str):
        refs = {"location_id": body["location_id"]}
        if isinstance(body.get("evse_uids"), list):
            refs["evse_uids"] = body["evse_uids"]
    receiver = body.get("to") if isinstance(body.get("to"), str) else reg.party("EMSP")
    try:
        answer = await call(
            emu,
            http,
            "POST",
            target,
            token=reg.outbound_token,
            module="tokens",
            body=refs,
            sender=party,
            receiver=receiver,
        )
    except OutboundError as exc:
        raise ActionError(str(exc), upstream=True) from exc
    return {**answer.report(), "data": answer.data}


async def send_command(
    emu: Emulator, http: httpx.AsyncClient, body: dict[str, Any]
) -> dict[str, Any]:
    """``POST /control/command``: an eMSP (or a hub's eMSP) sends ``command`` with ``body``
    to the platform's Commands Receiver; ``response_url`` is ours, the result lands in
    ``state``'s ``command_results`` under the returned ``reference``."""
    reg = _registration(emu)
    command = body.get("command")
    payload = body.get("body", {})
    if not isinstance(command, str) or not isinstance(payload, dict):
        raise ActionError('expected {"command": "START_SESSION", "body": {...}}')
    party = _party(emu, body, "EMSP")
    url = reg.endpoint("commands", "RECEIVER")
    if url is None:
        raise ActionError("the platform has no commands RECEIVER endpoint", upstream=True)
    reference = secrets.token_hex(8)
    version = emu.config.version
    payload = {
        **payload,
        "response_url": f"{emu.base_url}/ocpi/{version}/sender/commands/{command}/{reference}",
    }
    if "token" not in payload and command in ("START_SESSION", "RESERVE_NOW"):
        token = emu.data.find("tokens", object_id("tokens", party, 1))
        if token is not None:
            payload["token"] = token.data
    try:
        answer = await call(
            emu,
            http,
            "POST",
            f"{url.rstrip('/')}/{command}",
            token=reg.outbound_token,
            module="commands",
            body=payload,
            sender=party,
            receiver=reg.party("CPO"),
        )
    except OutboundError as exc:
        raise ActionError(str(exc), upstream=True) from exc
    return {**answer.report(), "data": answer.data, "reference": f"{command}/{reference}"}


async def push_client_info(emu: Emulator, http: httpx.AsyncClient, delay: float = 0.0) -> None:
    """A hub PUTs the ClientInfo of every party behind it to the platform's hubclientinfo
    Receiver (mod_hub_client_info §Receiver interface), after ``delay`` seconds (the platform
    that registered with us stores our token only once we answered)."""
    import asyncio

    await asyncio.sleep(delay)
    reg = emu.registration
    url = reg.endpoint("hubclientinfo", "RECEIVER") if reg else None
    if reg is None or url is None or emu.config.role != "hub":
        return
    for party, role in emu.config.behind:
        cc, pid = party.split("-")
        info = {
            "country_code": cc,
            "party_id": pid,
            "role": role,
            "status": "CONNECTED",
            "last_updated": "2025-01-01T00:00:00Z",
        }
        try:
            await call(
                emu,
                http,
                "PUT",
                f"{url.rstrip('/')}/{cc}/{pid}",
                token=reg.outbound_token,
                module="hubclientinfo",
                body=info,
            )
        except OutboundError as exc:
            emu.sent.append(
                {"method": "PUT", "url": url, "error": str(exc), "module": "hubclientinfo"}
            )
