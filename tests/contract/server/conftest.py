"""Two in-process platforms (a CPO and an eMSP) wired through httpx ASGI transports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocpikit.client.registration import drive
from ocpikit.core.versions import SUPPORTED_VERSIONS, Role, Version
from ocpikit.protocol.ports import Partner
from ocpikit.server.app import create_app, platform_of
from ocpikit.server.demo import load_demo
from ocpikit.server.registry import invite, register_with
from ocpikit.server.settings import Limits, PartyConfig, Settings
from ocpikit.storage.memory import MemoryStorage
from ocpikit.storage.sql import upgrade
from tests.storage.conftest import _truncate_pg, pg_schema_url  # noqa: F401 (a fixture)

#: a Session of NL-CPO as the CPO pushes it (2.2.1 and 2.3.0 alike)
SESSION: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "CPO",
    "id": "S1",
    "start_date_time": "2026-01-01T10:00:00Z",
    "kwh": 0,
    "cdr_token": {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": "10000000",
        "type": "RFID",
        "contract_id": "DE-MSP-C1",
    },
    "auth_method": "WHITELIST",
    "location_id": "LOC00001",
    "evse_uid": "LOC00001-E1",
    "connector_id": "1",
    "currency": "EUR",
    "status": "ACTIVE",
    "last_updated": "2026-01-01T10:00:00Z",
}

#: one charging period to append to :data:`SESSION`
PERIOD: dict[str, Any] = {
    "start_date_time": "2026-01-01T10:00:00Z",
    "dimensions": [{"type": "ENERGY", "volume": 1.5}],
}


class Router(httpx.AsyncBaseTransport):
    """Routes by host name to in-process ASGI apps."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}

    def add(self, host: str, app: Any) -> None:
        self.apps[host] = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.apps.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no host {request.url.host}", request=request)
        return await transport.handle_async_request(request)


@dataclass
class Node:
    host: str
    settings: Settings
    storage: MemoryStorage
    app: Any
    router: Router

    @property
    def versions_url(self) -> str:
        return f"http://{self.host}/ocpi/versions"

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Token {token}"} if token else {}
        return httpx.AsyncClient(
            transport=self.router, base_url=f"http://{self.host}", headers=headers
        )

    async def driver(self, flow: Any, record: Any = None) -> Any:
        async with httpx.AsyncClient(transport=self.router) as http:
            return await drive(flow, client=http, record=record)

    async def invite(self) -> dict[str, str]:
        return await invite(self.settings, self.storage, None)

    async def register(self, other: Node) -> Partner:
        token = (await other.invite())["token"]
        return await register_with(
            self.settings, self.storage, self.driver, other.versions_url, token
        )


def make_node(
    router: Router,
    host: str,
    cc: str,
    pid: str,
    roles: tuple[Role, ...],
    versions: tuple[Version, ...] = SUPPORTED_VERSIONS,
    storage: Any = None,
    limits: Limits | None = None,
) -> Node:
    """A platform node on ``storage`` (default: a fresh MemoryStorage)."""
    settings = Settings(
        parties=(PartyConfig(cc, pid, roles, f"{host} platform", versions=versions),),
        base_url=f"http://{host}",
        database_url="memory://",
        admin_token="admin-secret",
        limits=limits or Limits(),
    )
    storage = MemoryStorage() if storage is None else storage
    node = Node(host, settings, storage, None, router)
    node.app = create_app(settings, storage, driver=node.driver)
    router.add(host, node.app)
    return node


@pytest.fixture
def router() -> Router:
    return Router()


@pytest.fixture
async def cpo(router: Router) -> AsyncIterator[Node]:
    node = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,))
    await load_demo(node.storage, [("NL", "CPO", ("CPO",))], locations=25)
    yield node
    await platform_of(node.app).exchange_log.flush()


@pytest.fixture
async def emsp(router: Router) -> AsyncIterator[Node]:
    node = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,))
    await load_demo(node.storage, [("DE", "MSP", ("EMSP",))])
    yield node
    await platform_of(node.app).exchange_log.flush()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``memory``, or the URL of an empty migrated SQLite or PostgreSQL database."""
    if request.param == "memory":
        yield "memory"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'node.db'}"
        upgrade(url)
        yield url
    else:
        url = request.getfixturevalue("pg_schema_url")
        _truncate_pg(url)  # the schema is the session's: start each test empty
        yield url
