"""Shared helpers of the client contract tests: partners, envelopes and objects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from ocpikit.core.versions import Version
from ocpikit.protocol.ports import Endpoint, Partner, PartnerStatus, PartyRole
from ocpikit.server.demo import demo_locations, demo_sessions_and_cdrs

BASE = "https://partner.test/ocpi"
TOKEN = "tok-123"


def partner(
    version: str = "2.2.1",
    *,
    role: str = "CPO",
    settings: dict[str, Any] | None = None,
    pid: str = "NL-CPO",
) -> Partner:
    v = Version(version)
    if role == "CPO":
        mods = [
            ("locations", "SENDER"),
            ("sessions", "SENDER"),
            ("cdrs", "SENDER"),
            ("tariffs", "SENDER"),
            ("commands", "RECEIVER"),
            ("tokens", "RECEIVER"),
            ("chargingprofiles", "RECEIVER"),
        ]
        cc, party = "NL", "CPO"
    else:
        mods = [
            ("locations", "RECEIVER"),
            ("sessions", "RECEIVER"),
            ("cdrs", "RECEIVER"),
            ("tariffs", "RECEIVER"),
            ("tokens", "SENDER"),
            ("commands", "SENDER"),
        ]
        cc, party = "DE", "MSP"
    endpoints = tuple(
        Endpoint(m, f"{BASE}/{version}/{m}", None if v < Version("2.2") else r) for m, r in mods
    )
    return Partner(
        id=pid,
        status=PartnerStatus.REGISTERED,
        roles=(PartyRole(role, cc, party),),
        version=version,
        versions_url=f"{BASE}/versions",
        endpoints=endpoints,
        outbound_token=TOKEN,
        local_party=("DE", "MSP") if role == "CPO" else ("NL", "CPO"),
        settings=settings or {},
    )


def envelope(data: Any = None, code: int = 1000, *, with_data: bool = True) -> bytes:
    body: dict[str, Any] = {"status_code": code, "timestamp": "2024-03-01T12:00:00Z"}
    if with_data:
        body["data"] = data
    return orjson.dumps(body)


def ok(
    data: Any = None, status: int = 200, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, content=envelope(data), headers=headers or {})


def locations(n: int, cc: str = "NL", pid: str = "CPO") -> list[dict[str, Any]]:
    return list(demo_locations(cc, pid, n))


def sessions(n: int) -> list[dict[str, Any]]:
    return demo_sessions_and_cdrs("NL", "CPO", n)[0]


def cdrs(n: int) -> list[dict[str, Any]]:
    return demo_sessions_and_cdrs("NL", "CPO", n)[1]


class FakeClock:
    """One clock for storage (callable) and client/worker (``now()``)."""

    def __init__(self) -> None:
        self.t = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))
