"""Two in-process platforms (a CPO and an eMSP) with the flow routes of the backend API and a
:class:`~ocpikit.operations.flow_ports.FlowPorts` each (the ports of the commands, authorization
and sweep use cases), wired through one httpx transport that routes by host name; a shared manual clock drives deadlines; a webhook receiver records what it gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from ocpikit.client.delivery import DeliveryWorker
from ocpikit.client.partner_calls import flow_ports
from ocpikit.client.registration import drive
from ocpikit.core.clock import ManualClock
from ocpikit.core.versions import Role, Version
from ocpikit.operations.flow_ports import FlowPorts
from ocpikit.protocol.decisions import Decisions, DemoDecisions, HookDecisions
from ocpikit.server.admin import flow_routes
from ocpikit.server.app import create_app
from ocpikit.server.demo import load_demo
from ocpikit.server.registry import invite, register_with
from ocpikit.server.settings import PartyConfig, Settings
from ocpikit.storage.memory import MemoryStorage

VERSIONS = ("2.1.1", "2.2.1", "2.3.0")
ADMIN = {"Authorization": "Bearer admin-secret"}
HOOK_SECRET = "hook-secret"


class Router(httpx.AsyncBaseTransport):
    """Routes by host name to in-process ASGI apps; a host can be taken down."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.down: set[str] = set()

    def add(self, host: str, app: Any) -> None:
        self.apps[host] = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.apps.get(request.url.host)
        if transport is None or request.url.host in self.down:
            raise httpx.ConnectError(f"no host {request.url.host}", request=request)
        return await transport.handle_async_request(request)


@dataclass
class Hooks:
    """The operator's webhook endpoint: records every request; ``fail`` answers 500 first."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail: int = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.received.append((headers, body))
        status = 500 if self.fail > 0 else 204
        self.fail -= 1
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def events(self) -> list[dict[str, Any]]:
        return [orjson.loads(b) for _, b in self.received]


@dataclass
class Node:
    host: str
    settings: Settings
    storage: MemoryStorage
    router: Router
    clock: ManualClock
    flows: FlowPorts
    http: httpx.AsyncClient
    app: Any = None

    def admin(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self.router, base_url=f"http://{self.host}", headers=ADMIN
        )

    async def driver(self, flow: Any, record: Any = None) -> Any:
        async with httpx.AsyncClient(transport=self.router) as http:
            return await drive(flow, client=http, record=record)

    async def register(self, other: Node) -> None:
        token = (await invite(other.settings, other.storage, None))["token"]
        await register_with(
            self.settings, self.storage, self.driver, f"http://{other.host}/ocpi/versions", token
        )

    async def deliver_outbox(self) -> list[str]:
        async with httpx.AsyncClient(transport=self.router) as http:
            worker = DeliveryWorker(self.storage, http, clock=self.clock)
            return [o.result for o in await worker.run_once()]


def make_node(
    router: Router,
    host: str,
    cc: str,
    pid: str,
    roles: tuple[Role, ...],
    versions: tuple[Version, ...],
    clock: ManualClock,
    *,
    decisions: Decisions | None = None,
    webhook: bool = False,
) -> Node:
    settings = Settings(
        parties=(PartyConfig(cc, pid, roles, f"{host} platform", versions=versions),),
        base_url=f"http://{host}",
        database_url="memory://",
        admin_token="admin-secret",
    )
    storage = MemoryStorage(clock=clock.now)
    http = httpx.AsyncClient(transport=router)
    flows = flow_ports(
        storage,
        http,
        base_url=settings.base_url,
        clock=clock,
        webhook_url="http://hooks.test/events" if webhook else None,
        webhook_secret=HOOK_SECRET if webhook else None,
    )
    decisions = decisions or DemoDecisions()
    if isinstance(decisions, (DemoDecisions, HookDecisions)):
        decisions.events = flows.events
    node = Node(host, settings, storage, router, clock, flows, http)
    node.app = create_app(
        settings,
        storage,
        decisions=decisions,
        clock=clock,
        driver=node.driver,
        log_exchanges=False,
        extra_routes=flow_routes(flows),
    )
    router.add(host, node.app)
    return node


@dataclass
class Pair:
    cpo: Node
    emsp: Node
    router: Router
    clock: ManualClock
    hooks: Hooks


async def make_pair(
    version: str,
    *,
    cpo_decisions: Decisions | None = None,
    webhook: bool = False,
) -> Pair:
    router = Router()
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    hooks = Hooks()
    router.add("hooks.test", hooks)
    v = (Version(version),)
    cpo = make_node(
        router,
        "cpo.test",
        "NL",
        "CPO",
        (Role.CPO,),
        v,
        clock,
        decisions=cpo_decisions,
        webhook=webhook,
    )
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), v, clock, webhook=webhook)
    await load_demo(cpo.storage, [("NL", "CPO", ("CPO",))], locations=5)
    await emsp.register(cpo)
    return Pair(cpo, emsp, router, clock, hooks)


@pytest.fixture(params=VERSIONS)
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    yield await make_pair(request.param)
