"""Requests the emulated partner sends to the platform: the versions and credentials calls of
a registration, pushes of its objects, CommandResults and real-time authorizations.

Every request carries ``Authorization`` in the version's form (raw in 2.1.1, Base64 later, raw
under ``auth:kind=raw``) and, on 2.2+, a fresh ``X-Request-ID``, an ``X-Correlation-ID`` and,
on functional modules, the routing headers (transport_and_format §Message Routing Headers). The
faults that apply to pushes (``bad-objects``, ``duplicate-cdr``, ``stale-session``,
``missing-headers``, ``clock-skew``) change what is sent, and the record of each request says so.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from .data import Entry, format_time
from .faults import Triggered
from .state import Emulator
from .wire import authorization, new_id, routing_request

__all__ = ["Answer", "OutboundError", "call"]

CONFIGURATION_MODULES = ("versions", "credentials", "hubclientinfo")


class OutboundError(Exception):
    """A call to the platform that failed; the message says which and why."""


@dataclass
class Answer:
    """What the platform answered, with what we sent (for the control API's reports)."""

    method: str
    url: str
    sent_headers: dict[str, str]
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def status_code(self) -> int | None:
        code = self.body.get("status_code") if isinstance(self.body, dict) else None
        return code if isinstance(code, int) else None

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    def report(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "sent_headers": self.sent_headers,
            "status": self.status,
            "status_code": self.status_code,
            "status_message": self.body.get("status_message")
            if isinstance(self.body, dict)
            else None,
        }


def _headers(
    emu: Emulator,
    token: str,
    module: str,
    sender: str | None,
    receiver: str | None,
    faults: list[Triggered],
    correlation_id: str | None,
) -> dict[str, str]:
    version = emu.config.version
    encode = version != "2.1.1" and not emu.plan.raw_tokens
    headers = {"Authorization": authorization(token, encode), "Accept": "application/json"}
    if version == "2.1.1":
        return headers
    missing = next((t.kind for t in faults if t.mode == "missing-headers"), None)
    if missing not in ("all", "ids"):
        headers["X-Request-ID"] = new_id()
        headers["X-Correlation-ID"] = correlation_id or new_id()
    if module not in CONFIGURATION_MODULES and sender and missing not in ("all", "routing"):
        headers.update(routing_request(sender, receiver))
    return headers


async def call(
    emu: Emulator,
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    token: str,
    module: str,
    body: Any = None,
    sender: str | None = None,
    receiver: str | None = None,
    faults: list[Triggered] | None = None,
    correlation_id: str | None = None,
) -> Answer:
    """Send one request; :class:`OutboundError` when nothing usable came back."""
    headers = _headers(emu, token, module, sender, receiver, faults or [], correlation_id)
    content = None
    if body is not None:
        content = orjson.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        response = await http.request(method, url, headers=headers, content=content)
    except httpx.HTTPError as exc:
        raise OutboundError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = response.text[:500]
    sent = {k: v for k, v in headers.items() if k != "Authorization"}
    answer = Answer(method, url, sent, response.status_code, parsed, dict(response.headers))
    emu.sent.append({**answer.report(), "module": module})
    return answer


def break_object(data: dict[str, Any]) -> dict[str, Any]:
    """A copy that no receiver may accept: ``last_updated`` gone and ``id`` (``uid``) a number
    (the ``bad-objects`` fault)."""
    broken = copy.deepcopy(data)
    broken.pop("last_updated", None)
    for key in ("id", "uid"):
        if key in broken:
            broken[key] = 12345
    return broken


def skew_object(data: dict[str, Any], seconds: float, entry: Entry) -> dict[str, Any]:
    """A copy with ``last_updated`` moved by ``seconds`` (the ``clock-skew`` fault)."""
    from datetime import timedelta

    moved = dict(data)
    moved["last_updated"] = format_time(entry.last_updated + timedelta(seconds=seconds))
    return moved


def stale_copy(data: dict[str, Any], entry: Entry) -> dict[str, Any]:
    """An older state of a Session sent after the current one (``stale-session``): ACTIVE,
    without end or cost, and ``last_updated`` an hour earlier."""
    from datetime import timedelta

    stale = {k: v for k, v in data.items() if k not in ("end_date_time", "total_cost")}
    stale.pop("end_datetime", None)
    stale["status"] = "ACTIVE"
    stale["last_updated"] = format_time(entry.last_updated - timedelta(hours=1))
    return stale
