"""The network under the partner client: every TCP connection to a partner is dialled to an
address :class:`~ocpikit.protocol.url_policy.UrlPolicy` checked.

httpcore asks its network backend to ``connect_tcp(host, port)``; :class:`GuardedNetwork`
resolves ``host`` once, drops the addresses the policy refuses, and dials the first of the
rest, so the address checked is the address connected (a DNS answer that changes between a
check and a connect, "DNS rebinding", cannot reach a private address). TLS still verifies the
certificate against the URL's host name: httpcore passes it as the server name, not the address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

from ocpikit.protocol.url_policy import IPAddress, UrlPolicy, UrlRefused

__all__ = ["GuardedNetwork", "resolve"]


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses of ``host`` (an address literal is its own), in the resolver's order."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    seen: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in seen:
            seen.append(address)
    return seen


class GuardedNetwork(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that only dials addresses ``policy`` allows."""

    def __init__(self, policy: UrlPolicy, inner: httpcore.AsyncNetworkBackend | None = None):
        self.policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        allowed = self._allowed(host, port, await resolve(host, port))
        last: Exception | None = None
        for address in allowed:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def _allowed(self, host: str, port: int, addresses: list[IPAddress]) -> list[IPAddress]:
        where = f"{host}:{port}"
        refusal: UrlRefused | None = None
        allowed: list[IPAddress] = []
        for address in addresses:
            try:
                self.policy.check_address(where, host, address)
                allowed.append(address)
            except UrlRefused as exc:
                refusal = refusal or exc
        if not allowed:
            raise refusal or UrlRefused(where, f"{host} resolved to no address")
        return allowed

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UrlRefused(path, "unix sockets are never called")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
