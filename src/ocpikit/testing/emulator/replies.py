"""Answers of the emulated partner's OCPI endpoints: the envelope with the right HTTP status,
the ids echoed, the routing headers swapped, and who a request is addressed to.

Addressing (transport_and_format §Message Routing Headers): a request's ``OCPI-to-*`` names
one of our parties, or, at a hub, the hub or a party behind it. A hub answers 4001 (unknown
receiver) for any other party; a direct partner answers 2001 naming the header. No
``OCPI-to-*`` is accepted (open routing at a hub, a lenient direct partner).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .faults import Triggered
from .state import Emulator, Received
from .wire import dumps, envelope, routing_reply

__all__ = ["Call", "Refusal", "call_of", "read_json", "refuse", "reply"]


class Refusal(Exception):
    """An OCPI error answer: ``status_code`` in the envelope, ``http_status`` on the wire."""

    def __init__(self, status_code: int, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.http_status = http_status


@dataclass
class Call:
    """One OCPI request as the handlers see it."""

    emu: Emulator
    request: Request
    module: str
    faults: list[Triggered]
    record: Received
    #: the party of ours the request is for (``CC-PID``), known after :func:`address`
    to_party: str | None = None

    def fault(self, mode: str) -> Triggered | None:
        return next((t for t in self.faults if t.mode == mode), None)

    @property
    def from_party(self) -> str | None:
        h = self.request.headers
        cc, pid = h.get("ocpi-from-country-code"), h.get("ocpi-from-party-id")
        return f"{cc.upper()}-{pid.upper()}" if cc and pid else None

    @property
    def skew(self) -> float:
        t = self.fault("clock-skew")
        return t.rule.delay if t else 0.0

    def address(self, allowed_roles: tuple[str, ...] = ("CPO", "EMSP", "HUB")) -> str:
        """The party of ours this request is for; :class:`Refusal` when ``OCPI-to-*`` names
        a party we do not speak for, or one without a role in ``allowed_roles``."""
        cfg = self.emu.config
        h = self.request.headers
        cc, pid = h.get("ocpi-to-country-code"), h.get("ocpi-to-party-id")
        if not (cc and pid) or cfg.version == "2.1.1":
            self.to_party = cfg.party
            return cfg.party
        party = f"{cc.upper()}-{pid.upper()}"
        role = cfg.owner_of(party)
        if role is None or role not in allowed_roles:
            if cfg.role == "hub":
                raise Refusal(4001, f"unknown receiver {party}: not a party behind this hub")
            raise Refusal(2001, f"OCPI-to-country-code/party-id: {party} is not this party")
        self.to_party = party
        return party


def call_of(request: Request, module: str) -> Call:
    emu: Emulator = request.app.state.emulator
    info: Mapping[str, Any] = request.scope.get("emulator", {})
    record = info.get("record") or emu.record(
        request.method, request.url.path, request.url.query, module, request.headers
    )
    return Call(emu, request, module, list(info.get("faults", [])), record)


def reply(
    call: Call,
    data: Any = None,
    status_code: int = 1000,
    message: str | None = None,
    *,
    http_status: int = 200,
    headers: Mapping[str, str] | None = None,
    routed: bool = True,
) -> Response:
    """The answer, with the 2.2+ headers (ids echoed; routing headers swapped when
    ``routed``: functional modules only)."""
    out: dict[str, str] = {"Content-Type": "application/json"}
    req = call.request.headers
    if call.emu.config.version != "2.1.1":
        out["X-Request-ID"] = req.get("x-request-id", "")
        out["X-Correlation-ID"] = req.get("x-correlation-id", "")
        out = {k: v for k, v in out.items() if v}
        if routed:
            out.update(routing_reply(req, call.to_party or call.emu.config.party))
    out.update(headers or {})
    body = envelope(data, status_code, message, skew=call.skew)
    call.record.status = http_status
    call.record.status_code = status_code
    return Response(dumps(body), status_code=http_status, headers=out)


def refuse(call: Call, refusal: Refusal, *, routed: bool = True) -> Response:
    return reply(
        call,
        None,
        refusal.status_code,
        refusal.message,
        http_status=refusal.http_status,
        routed=routed,
    )


async def read_json(call: Call) -> Any:
    """The request's JSON body (recorded); :class:`Refusal` (HTTP 400) when it is not JSON."""
    raw = await call.request.body()
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        call.record.body = raw[:2000].decode(errors="replace")
        raise Refusal(2001, "the body is not valid JSON", http_status=400) from None
    call.record.body = body
    return body
