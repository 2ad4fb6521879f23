"""Commands between OCPI 2.1.1 and 2.2.1 (DIGEST §3.6, §6.8).

2.1.1 has one ``CommandResponse`` both for the synchronous answer and for the asynchronous
result POSTed to ``response_url``; 2.2.1 splits them into ``CommandResponse`` and
``CommandResult``. Objects are converted by name, so:

- ``UP["CommandResponse"]`` / ``DOWN["CommandResponse"]`` convert the synchronous answer:
  up adds the now required ``timeout`` (:data:`DEFAULT_TIMEOUT`, reported) and maps the
  2.1.1-only ``TIMEOUT`` to ``REJECTED``; down drops ``timeout`` and ``message``.
- ``UP["CommandResult"]`` / ``DOWN["CommandResult"]`` convert the asynchronous body: the 2.1.1
  side is a CommandResponse-shaped ``{"result": ...}`` dict (``convert(body, "CommandResult",
  "2.1.1", ...)`` works on dicts; a bare 2.1.1 result string is normalised by parsing it with
  the 2.1.1 ``CommandResponse`` model first, errata A3). Up, ``UNKNOWN_SESSION`` becomes
  ``REJECTED``; down, the finer 2.2 results become ``REJECTED``.
- ``StartSession``/``ReserveNow`` convert their embedded Token (:mod:`.tokens`); down they lose
  ``authorization_reference`` and (StartSession) ``connector_id``, which breaks EVSEs with
  START_SESSION_CONNECTOR_REQUIRED.
- ``ReserveNow.reservation_id``: up, the int becomes its decimal string (lossless). Down, a
  canonical decimal string becomes the int; any other id is mapped by
  ``ctx.lookup["reservation_id"](id)`` (which returns ``{"reservation_id": int}``) when given,
  else by a stable 31-bit CRC-32 of the id (reported as approximated: the CPO must keep the
  mapping to recognise the reservation later).
- ``CancelReservation`` has no 2.1.1 form; a 2.1.1 CPO is not asked (answer NOT_SUPPORTED).

Location and EVSE ids are string(39) in 2.1.1 and CiString(36) in 2.2.1; longer ids are passed
unchanged (2.2.1 validation then rejects them with their path; DIGEST §6.3 needs an id map).
"""

from __future__ import annotations

import zlib
from typing import Any

from ocpikit.convert.base import Context, Converter, LossKind, LossRule, join_path

from .tokens import down_token, up_token

__all__ = ["DEFAULT_TIMEOUT", "DOWN", "RULES", "UP"]

#: seconds announced in a 2.2.1 CommandResponse built from a 2.1.1 one (a gateway default)
DEFAULT_TIMEOUT = 30


def _rule(direction: str, obj: str, field: str, kind: LossKind, note: str) -> LossRule:
    source, target = ("2.1.1", "2.2.1") if direction == "up" else ("2.2.1", "2.1.1")
    return LossRule(f"{source}>{target} {obj}.{field}", obj, field, source, target, kind, note)


RESPONSE_TIMEOUT_UP = _rule(
    "up", "CommandResponse", "timeout", "defaulted", f"not in 2.1.1; {DEFAULT_TIMEOUT} seconds"
)
RESPONSE_RESULT_UP = _rule(
    "up", "CommandResponse", "result", "renamed-value", "TIMEOUT is not a 2.2 response: REJECTED"
)
RESPONSE_TIMEOUT_DOWN = _rule("down", "CommandResponse", "timeout", "dropped", "not in 2.1.1")
RESPONSE_MESSAGE_DOWN = _rule("down", "CommandResponse", "message", "dropped", "not in 2.1.1")
RESULT_RESULT_UP = _rule(
    "up", "CommandResult", "result", "renamed-value", "UNKNOWN_SESSION is no result: REJECTED"
)
RESULT_RESULT_DOWN = _rule(
    "down",
    "CommandResult",
    "result",
    "renamed-value",
    "CANCELED_RESERVATION, EVSE_OCCUPIED, EVSE_INOPERATIVE, FAILED, UNKNOWN_RESERVATION: REJECTED",
)
RESULT_MESSAGE_DOWN = _rule("down", "CommandResult", "message", "dropped", "not in 2.1.1")
RESERVATION_ID_DOWN = _rule(
    "down",
    "ReserveNow",
    "reservation_id",
    "approximated",
    "2.1.1 needs an int: non-numeric ids are hashed (CRC-32) unless ctx maps them",
)
RESERVE_REFERENCE_DOWN = _rule(
    "down", "ReserveNow", "authorization_reference", "dropped", "not in 2.1.1"
)
START_CONNECTOR_DOWN = _rule(
    "down", "StartSession", "connector_id", "dropped", "2.1.1 cannot choose a connector"
)
START_REFERENCE_DOWN = _rule(
    "down", "StartSession", "authorization_reference", "dropped", "not in 2.1.1"
)

RULES: list[LossRule] = [
    RESPONSE_TIMEOUT_UP,
    RESPONSE_RESULT_UP,
    RESPONSE_TIMEOUT_DOWN,
    RESPONSE_MESSAGE_DOWN,
    RESULT_RESULT_UP,
    RESULT_RESULT_DOWN,
    RESULT_MESSAGE_DOWN,
    RESERVATION_ID_DOWN,
    RESERVE_REFERENCE_DOWN,
    START_CONNECTOR_DOWN,
    START_REFERENCE_DOWN,
]

_RESULTS_211 = frozenset({"ACCEPTED", "REJECTED", "NOT_SUPPORTED", "TIMEOUT"})


def _drop(out: dict[str, Any], key: str, rule: LossRule, ctx: Context, path: str) -> None:
    value = out.pop(key, None)
    if value is not None and value != []:
        ctx.lose(rule, join_path(path, key), value if isinstance(value, str) else "")


def _with_token(data: dict[str, Any], ctx: Context, path: str, fn: Converter) -> dict[str, Any]:
    out = dict(data)
    if isinstance(out.get("token"), dict):
        out["token"] = fn(out["token"], ctx, join_path(path, "token"))
    return out


def up_command_response(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 CommandResponse (synchronous) → 2.2.1 CommandResponse."""
    out = dict(data)
    if out.get("result") == "TIMEOUT":
        out["result"] = "REJECTED"
        ctx.lose(RESPONSE_RESULT_UP, join_path(path, "result"), "TIMEOUT -> REJECTED")
    if "timeout" not in out:
        out["timeout"] = DEFAULT_TIMEOUT
        ctx.lose(RESPONSE_TIMEOUT_UP, join_path(path, "timeout"), str(DEFAULT_TIMEOUT))
    return out


def down_command_response(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 CommandResponse → 2.1.1 CommandResponse (synchronous)."""
    out = dict(data)
    timeout = out.pop("timeout", None)
    if timeout is not None:
        ctx.lose(RESPONSE_TIMEOUT_DOWN, join_path(path, "timeout"), str(timeout))
    _drop(out, "message", RESPONSE_MESSAGE_DOWN, ctx, path)
    return out


def up_command_result(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 asynchronous CommandResponse body → 2.2.1 CommandResult."""
    out = dict(data)
    if out.get("result") == "UNKNOWN_SESSION":
        out["result"] = "REJECTED"
        ctx.lose(RESULT_RESULT_UP, join_path(path, "result"), "UNKNOWN_SESSION -> REJECTED")
    return out


def down_command_result(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 CommandResult → 2.1.1 asynchronous CommandResponse body."""
    out = dict(data)
    result = out.get("result")
    if isinstance(result, str) and result not in _RESULTS_211:
        out["result"] = "REJECTED"
        ctx.lose(RESULT_RESULT_DOWN, join_path(path, "result"), f"{result} -> REJECTED")
    _drop(out, "message", RESULT_MESSAGE_DOWN, ctx, path)
    return out


def up_start_session(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 StartSession → 2.2.1: the Token goes up."""
    return _with_token(data, ctx, path, up_token)


def down_start_session(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 StartSession → 2.1.1: Token down; connector and reference lost."""
    out = _with_token(data, ctx, path, down_token)
    _drop(out, "connector_id", START_CONNECTOR_DOWN, ctx, path)
    _drop(out, "authorization_reference", START_REFERENCE_DOWN, ctx, path)
    return out


def up_reserve_now(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.1.1 ReserveNow → 2.2.1: Token up; the int reservation id becomes a string."""
    out = _with_token(data, ctx, path, up_token)
    rid = out.get("reservation_id")
    if isinstance(rid, int) and not isinstance(rid, bool):
        out["reservation_id"] = str(rid)
    return out


def _numeric_reservation_id(rid: str, ctx: Context, path: str) -> int:
    if rid.isascii() and rid.isdigit() and str(int(rid)) == rid and int(rid) < 2**31:
        return int(rid)
    lookup = ctx.lookup.get("reservation_id")
    mapped = lookup(rid) if lookup is not None else None
    if mapped is not None and isinstance(mapped.get("reservation_id"), int):
        return int(mapped["reservation_id"])
    number = zlib.crc32(rid.encode()) & 0x7FFFFFFF
    ctx.lose(RESERVATION_ID_DOWN, join_path(path, "reservation_id"), f"{rid} -> {number}")
    return number


def down_reserve_now(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    """2.2.1 ReserveNow → 2.1.1: Token down; reservation id to int; reference lost."""
    out = _with_token(data, ctx, path, down_token)
    rid = out.get("reservation_id")
    if isinstance(rid, str):
        out["reservation_id"] = _numeric_reservation_id(rid, ctx, path)
    _drop(out, "authorization_reference", RESERVE_REFERENCE_DOWN, ctx, path)
    return out


UP: dict[str, Converter] = {
    "CommandResponse": up_command_response,
    "CommandResult": up_command_result,
    "ReserveNow": up_reserve_now,
    "StartSession": up_start_session,
}
DOWN: dict[str, Converter] = {
    "CommandResponse": down_command_response,
    "CommandResult": down_command_result,
    "ReserveNow": down_reserve_now,
    "StartSession": down_start_session,
}
