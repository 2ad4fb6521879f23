"""The decision webhook over real HTTP on loopback: requests are signed like the event
webhooks, and an unreachable, erring or nonsensical service fails closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ocpikit.client.decisions import webhook_hook
from ocpikit.protocol.decisions import DecisionRequest, HookDecisions
from ocpikit.protocol.webhooks import verify

pytestmark = pytest.mark.anyio

REQUEST = DecisionRequest("authorize", "DE-MSP", "NL-CPO", {"token": {"uid": "T1"}})


class Service:
    """A one-route HTTP server that answers ``status`` and ``body`` and keeps what it got."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b'{"allowed": "ALLOWED", "result": "ACCEPTED"}'
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        lines = head.split("\r\n")[1:]
        headers = {
            k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.received.append((headers, body))
        writer.write(
            f"HTTP/1.1 {self.status} X\r\nContent-Length: {len(self.body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + self.body
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def service() -> AsyncIterator[tuple[Service, str]]:
    svc = Service()
    server = await asyncio.start_server(svc.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield svc, f"http://127.0.0.1:{port}/decide"


async def test_requests_are_signed_and_answers_taken(service: tuple[Service, str]) -> None:
    svc, url = service
    decisions = HookDecisions(webhook_hook(url, secret="s3cret"))
    assert (await decisions.authorize(REQUEST)).allowed == "ALLOWED"
    headers, body = svc.received[0]
    assert verify("s3cret", headers, body)
    assert not verify("other", headers, body)


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b'{"allowed": "ALLOWED"}'), (200, b"not json"), (200, b'["ALLOWED"]')],
)
async def test_an_erring_service_fails_closed(
    service: tuple[Service, str], status: int, body: bytes
) -> None:
    svc, url = service
    svc.status, svc.body = status, body
    decisions = HookDecisions(webhook_hook(url, secret="s3cret"))
    assert (await decisions.authorize(REQUEST)).allowed == "NOT_ALLOWED"
    assert (await decisions.command(REQUEST)).result == "REJECTED"


async def test_an_unreachable_service_fails_closed() -> None:
    decisions = HookDecisions(webhook_hook("http://127.0.0.1:9/decide", timeout=2))
    assert (await decisions.authorize(REQUEST)).allowed == "NOT_ALLOWED"
    answer: Any = await decisions.charging_profile(REQUEST)
    assert answer.result == "REJECTED"
