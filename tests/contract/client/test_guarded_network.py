"""The partner client's network dials only addresses the URL policy allows, the address it
checked (``ocpikit.client.guarded_network``), against a real server on loopback."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import httpcore
import httpx
import pytest

from ocpikit.client.guarded_network import GuardedNetwork
from ocpikit.protocol.url_policy import UrlPolicy, UrlRefused

pytestmark = pytest.mark.anyio


@pytest.fixture
async def server() -> AsyncIterator[int]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        yield port


def _client(policy: UrlPolicy) -> httpx.AsyncClient:
    pool = httpcore.AsyncConnectionPool(network_backend=GuardedNetwork(policy))

    class Transport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            req = httpcore.Request(
                request.method,
                httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
            )
            resp = await pool.handle_async_request(req)
            body = await resp.aread()
            await resp.aclose()
            return httpx.Response(resp.status, headers=resp.headers, content=body)

        async def aclose(self) -> None:
            await pool.aclose()

    return httpx.AsyncClient(transport=Transport())


async def test_loopback_is_refused_by_default(server: int) -> None:
    async with _client(UrlPolicy.of()) as http:
        with pytest.raises(UrlRefused, match="loopback"):
            await http.get(f"http://127.0.0.1:{server}/")
        with pytest.raises(UrlRefused, match="localhost is a loopback address"):
            await http.get(f"http://localhost:{server}/")


async def test_an_allowed_host_is_dialled(server: int) -> None:
    async with _client(UrlPolicy.of(["localhost"])) as http:
        r = await http.get(f"http://localhost:{server}/")
    assert r.status_code == 200 and r.text == "ok"


class _Recording(httpcore.AsyncNetworkBackend):
    """Records what it is asked to dial and dials nothing."""

    def __init__(self) -> None:
        self.dialled: list[str] = []

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, **kwargs: object
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append(host)
        raise httpcore.ConnectError("nothing is dialled in this test")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def test_the_address_dialled_is_the_address_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocpikit.client import guarded_network

    answers = [ipaddress.IPv4Address("93.184.215.14"), ipaddress.IPv4Address("127.0.0.1")]

    async def resolver(host: str, port: int) -> list[ipaddress.IPv4Address]:
        return list(answers)

    monkeypatch.setattr(guarded_network, "resolve", resolver)
    inner = _Recording()
    network = GuardedNetwork(UrlPolicy.of(), inner=inner)
    with pytest.raises(httpcore.ConnectError):
        await network.connect_tcp("partner.example", 443)
    assert inner.dialled == ["93.184.215.14"]  # the loopback answer is never dialled

    answers[:] = [ipaddress.IPv4Address("127.0.0.1")]  # the name now points home
    with pytest.raises(UrlRefused, match=r"partner\.example is a loopback address"):
        await network.connect_tcp("partner.example", 443)
    assert inner.dialled == ["93.184.215.14"]
