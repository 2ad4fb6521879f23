"""A hub over memory storage with a fake forwarding port: HubRelay's use case with no
sockets (CPO-A on 2.1.1, CPO-B on 2.2.1, eMSP-X on 2.3.0, eMSP-Y on 2.2.1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ocpikit.core.clock import ManualClock
from ocpikit.core.headers import PartyRef
from ocpikit.core.versions import Role, Version
from ocpikit.operations.hub_relay import HubRelay, HubRequest
from ocpikit.protocol.decisions import DemoDecisions
from ocpikit.protocol.endpoints import OPERATIONS, Operation
from ocpikit.protocol.handlers import Call, Reply, Services
from ocpikit.protocol.handlers.base import OwnParty
from ocpikit.protocol.hub_routing import Forward, Forwarded
from ocpikit.protocol.ports import Endpoint, Partner, PartnerStatus, PartyRole
from ocpikit.storage.memory import MemoryStorage

HUB = PartyRef("NL", "HUB")
MODULES = ("locations", "tokens", "sessions", "cdrs", "tariffs")


def connection(pid: str, role: str, version: str) -> Partner:
    """A registered connection with the Sender and Receiver endpoints its role has."""
    if version == "2.1.1":
        endpoints = tuple(Endpoint(m, f"http://{pid}/{m}") for m in MODULES)
    else:
        sends_tokens = role != "CPO"
        endpoints = tuple(
            Endpoint(
                m, f"http://{pid}/{m}", "SENDER" if (m == "tokens") == sends_tokens else "RECEIVER"
            )
            for m in MODULES
        )
    return Partner(
        id=f"NL-{pid}",
        status=PartnerStatus.REGISTERED,
        roles=(PartyRole(role, "NL", pid),),
        version=version,
        endpoints=endpoints,
        settings={"role": role} if version == "2.1.1" else {},
    )


Answer = Callable[[Forward], Awaitable[Forwarded]]


@dataclass
class FakeForwarder:
    """Records every forward; ``answer`` gives the receiver's answer (default: 1000, no data)."""

    sent: list[Forward] = field(default_factory=list)
    answer: Answer | BaseException | None = None

    async def forward(self, call: Forward) -> Forwarded:
        self.sent.append(call)
        if isinstance(self.answer, BaseException):
            raise self.answer
        if self.answer is not None:
            return await self.answer(call)
        return Forwarded(200, 1000, None, None)


@dataclass
class HubWorld:
    storage: MemoryStorage
    relay: HubRelay
    forwarder: FakeForwarder
    partners: dict[str, Partner]

    async def request(
        self,
        caller: str,
        name: str,
        version: str,
        method: str,
        params: dict[str, str] | None = None,
        body: Any = None,
        query: dict[str, str] | None = None,
        to: PartyRef | None = None,
        passed: dict[str, str] | None = None,
    ) -> Reply:
        op = operation(name)
        call = Call(
            version=Version(version),
            op=op,
            params=params or {},
            query=query or {},
            body=orjson.loads(orjson.dumps(body)) if body is not None else None,
            partner=self.partners[caller],
            party=OwnParty("NL", "HUB", (Role.HUB,)),
            url=f"https://hub/ocpi/{version}/hub/{op.module.value}",
            module_url=f"https://hub/ocpi/{version}/hub/{op.module.value}",
        )
        return await self.relay.handle(HubRequest(call, method, to_party=to, passed=passed))


def operation(name: str) -> Operation:
    return next(op for op in OPERATIONS if op.name == name)


async def hub_world(*, store: bool = True) -> HubWorld:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    storage = MemoryStorage(clock=clock.now)
    partners = {
        p.id: await storage.partners.save(p)
        for p in (
            connection("CPA", "CPO", "2.1.1"),
            connection("CPB", "CPO", "2.2.1"),
            connection("EMX", "EMSP", "2.3.0"),
            connection("EMY", "EMSP", "2.2.1"),
        )
    }
    forwarder = FakeForwarder()
    relay = HubRelay(
        Services(storage, DemoDecisions(), clock),
        forwarder,
        ocpi_url="https://hub/ocpi",
        hub_party=HUB,
        store=store,
    )
    return HubWorld(storage, relay, forwarder, partners)
