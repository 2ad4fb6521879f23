"""Stages ``flows`` and ``results`` (``--mode write``): a command with our ``response_url``
answers a CommandResponse now and a CommandResult later at our party (mod_commands §Receiver
interface, §Sender interface); a real-time authorization of a known token answers an
AuthorizationInfo, of an unknown one HTTP 404 with 2004 (mod_tokens §POST Method, real-time
authorization).

The command is sent early (stage ``flows``) and its result awaited late (stage ``results``,
up to the CommandResponse's ``timeout`` plus a grace, at most ``command_wait`` seconds), so the
wait overlaps the other stages.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from ocpikit.testing.emulator.data import make_object

from ..context import Context
from ..pure import join_url, model_problems
from ..registry import Failed, Skipped, check
from ..target import Exchange
from ._util import listing, need_write, status_of

_GRACE = 10.0
_CMD = "START_SESSION"


async def _location(ctx: Context) -> dict[str, Any]:
    walk = await ctx.walk("locations")
    for obj in walk.items:
        if isinstance(obj, dict) and isinstance(obj.get("id"), str) and obj.get("evses"):
            return obj
    raise Skipped("no Location with an EVSE to start a session at")


@check(
    "commands.response",
    "flows",
    ("mod_commands", "Receiver Interface"),
    "START_SESSION with our response_url answers 1000 with a valid CommandResponse",
    v211=("mod_commands", "CPO Interface"),
)
async def command_response(ctx: Context) -> str:
    need_write(ctx.options.mode)
    await ctx.need_details()
    if ctx.role != "cpo":
        raise Skipped("commands are sent to a CPO")
    base = ctx.endpoint("commands", "RECEIVER")
    if base is None:
        raise Skipped("no commands Receiver interface")
    token = await ctx.ready()
    assert ctx.party is not None
    location = await _location(ctx)
    reference = secrets.token_hex(6)
    body: dict[str, Any] = {
        "response_url": ctx.party.response_url(_CMD, reference),
        "token": make_object("tokens", ctx.party_id, 1, seed=0, version=ctx.version),
        "location_id": location["id"],
    }
    evse = location["evses"][0]
    if isinstance(evse, dict) and isinstance(evse.get("uid"), str):
        body["evse_uid"] = evse["uid"]
    if ctx.version in {"2.2.1", "2.3.0"}:
        body["authorization_reference"] = "CF" + reference
    problems = model_problems(ctx.version, "StartSession", body)
    assert not problems, problems
    ex = await ctx.client.call(
        "POST", join_url(base, _CMD), token=token, module="commands", json=body
    )
    ctx.notes["command"] = (reference, ex, time.monotonic())
    if ex.status_code != 1000:
        raise Failed(
            f"POST {_CMD}: {status_of(ex)} {ex.message}",
            ex,
            "status 1000",
        )
    bad = model_problems(ctx.version, "CommandResponse", ex.data)
    if bad:
        raise Failed(f"invalid CommandResponse: {listing(bad)}", ex, "a CommandResponse")
    return f"{_CMD} at {location['id']}: {ex.data.get('result')}"


@check(
    "commands.async_result",
    "results",
    ("mod_commands", "Sender Interface"),
    "the command's result is POSTed to our response_url",
    v211=("mod_commands", "eMSP Interface"),
)
async def command_result(ctx: Context) -> str:
    need_write(ctx.options.mode)
    await ctx.need_details()
    if ctx.role != "cpo":
        raise Skipped("commands are sent to a CPO")
    if "command" not in ctx.notes:
        await command_response(ctx)
    reference, ex, sent_at = ctx.notes["command"]
    if ex.status_code != 1000 or not isinstance(ex.data, dict):
        raise Skipped("the command was not accepted (commands.response)")
    if ex.data.get("result") != "ACCEPTED":
        raise Skipped(f"the CommandResponse said {ex.data.get('result')}: no result follows")
    if ctx.version == "2.1.1":
        # 2.1.1 has no asynchronous result object of its own: a CommandResponse is POSTed
        kind = "CommandResponse"
    else:
        kind = "CommandResult"
    raw_timeout = ex.data.get("timeout")
    timeout = raw_timeout if isinstance(raw_timeout, int) else 30
    deadline = sent_at + min(float(timeout) + _GRACE, ctx.options.command_wait)
    assert ctx.party is not None
    while (
        result := ctx.party.command_result(_CMD, reference)
    ) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    if result is None:
        raise Failed(
            f"no result at {ctx.party.response_url(_CMD, reference)} within {deadline - sent_at:.0f} s",
            ex,
            f"a {kind} POSTed to the response_url",
        )
    bad = model_problems(ctx.version, kind, result)
    if bad:
        raise Failed(f"invalid {kind} {result!r:.200}: {listing(bad)}", ex, f"a {kind}")
    return f"{kind} received: {result.get('result')}"


async def _authorize(ctx: Context, uid: str, token_type: str) -> Exchange:
    base = ctx.endpoint("tokens", "SENDER")
    assert base is not None
    params = {"type": token_type} if ctx.version != "2.1.1" else None
    body: dict[str, Any] = {"location_id": "CfLoc-AUTH", "evse_uids": ["CfLoc-AUTH-E1"]}
    return await ctx.client.call(
        "POST",
        join_url(base, uid, "authorize"),
        token=ctx.token,
        module="tokens",
        json=body,
        params=params,
    )


@check(
    "authorization.realtime",
    "flows",
    ("mod_tokens", "POST Method"),
    "real-time authorization of a listed token answers 1000 with a valid AuthorizationInfo",
    v211=("mod_tokens", "eMSP Interface"),
)
async def realtime(ctx: Context) -> str:
    need_write(ctx.options.mode)
    await ctx.need_details()
    if ctx.role != "emsp" or ctx.endpoint("tokens", "SENDER") is None:
        raise Skipped("real-time authorization is asked of an eMSP's tokens Sender")
    await ctx.ready()
    walk = await ctx.walk("tokens")
    token = next(
        (t for t in walk.items if isinstance(t, dict) and isinstance(t.get("uid"), str)), None
    )
    if token is None:
        raise Skipped("the tokens list is empty")
    ex = await _authorize(ctx, token["uid"], str(token.get("type", "RFID")))
    if ex.status_code != 1000:
        raise Failed(f"{status_of(ex)} {ex.message}", ex, "status 1000")
    bad = model_problems(ctx.version, "AuthorizationInfo", ex.data)
    if bad:
        raise Failed(f"invalid AuthorizationInfo: {listing(bad)}", ex, "an AuthorizationInfo")
    return f"token {token['uid']}: {ex.data.get('allowed')}"


@check(
    "authorization.unknown_token",
    "flows",
    ("mod_tokens", "POST Method"),
    "real-time authorization of an unknown token answers HTTP 404 (2.2+: status 2004)",
    v211=("mod_tokens", "eMSP Interface"),
)
async def unknown_token(ctx: Context) -> str:
    need_write(ctx.options.mode)
    await ctx.need_details()
    if ctx.role != "emsp" or ctx.endpoint("tokens", "SENDER") is None:
        raise Skipped("real-time authorization is asked of an eMSP's tokens Sender")
    await ctx.ready()
    ex = await _authorize(ctx, "CFUNKNOWN" + secrets.token_hex(4).upper(), "RFID")
    want = 2004 if ctx.version != "2.1.1" else None
    if ex.status != 404 or ex.status_code == 1000 or (want and ex.status_code != want):
        raise Failed(
            f"an unknown token answered {status_of(ex)}",
            ex,
            "HTTP 404" + (f" with status {want}" if want else " with an error status"),
        )
    return status_of(ex)
