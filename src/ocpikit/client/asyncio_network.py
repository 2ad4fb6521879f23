"""httpcore's network backend on asyncio's own transports and protocols, for the lanes of
:mod:`ocpikit.client.lanes`.

Plan: a connection is an ``asyncio.Protocol`` that buffers what the peer sends, and a stream
over it that httpcore's HTTP/1.1 connection reads and writes; no anyio task-group or
cancel-scope machinery per read. The reference it replaces is httpcore's default backend
(``httpcore.AsyncConnectionPool``'s ``AutoBackend``), which the lane tests run beside it.

Invariants: one reader at a time per connection (HTTP/1.1); a read returns buffered bytes
before reporting end of stream or an error; every socket failure or timeout is raised as
httpcore's exception of that kind (``ConnectError``, ``ReadTimeout``, ``WriteError``, ...),
which :mod:`ocpikit.client.lanes` maps to httpx's; ``TCP_NODELAY`` is set on every TCP socket;
the writes of one request leave together (held until a read, :data:`COALESCE_BYTES`).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Iterable
from typing import Any, cast

import httpcore

__all__ = ["ASYNCIO_BACKEND", "AsyncioBackend"]


class _BufferingProtocol(asyncio.Protocol):
    """Buffers what the peer sends; one reader at a time (an HTTP/1.1 connection)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False
        self.drained: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport; uvloop's do not subclass asyncio.Transport, so none is checked
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


async def _within(
    future: asyncio.Future[None], timeout: float | None, error: type[Exception]
) -> None:
    """Await ``future`` for at most ``timeout`` seconds; past it, raise ``error``."""
    try:
        async with asyncio.timeout(timeout):
            await future
    except TimeoutError as exc:
        raise error(str(exc)) from exc


#: writes are held until this many bytes are pending or the stream is read: a request's head
#: and body leave in one send (one segment, one wake-up of the peer)
COALESCE_BYTES = 64 * 1024


class _ProtocolStream(httpcore.AsyncNetworkStream):
    def __init__(self, protocol: _BufferingProtocol) -> None:
        self._protocol = protocol
        self._pending: list[bytes] = []
        self._pending_size = 0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if self._pending:
            await self._flush(timeout)
        if not protocol.buffer and not protocol.eof:
            protocol.waiter = asyncio.get_running_loop().create_future()
            try:
                await _within(protocol.waiter, timeout, httpcore.ReadTimeout)
            finally:
                protocol.waiter = None
        if protocol.buffer:
            data = bytes(protocol.buffer[:max_bytes])
            del protocol.buffer[:max_bytes]
            return data
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error)) from protocol.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._protocol.transport is None or self._protocol.transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._pending.append(buffer)
        self._pending_size += len(buffer)
        if self._pending_size >= COALESCE_BYTES:
            await self._flush(timeout)

    async def _flush(self, timeout: float | None) -> None:
        """Send what :meth:`write` held, in one write; wait while the peer does not read."""
        protocol = self._protocol
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        if protocol.transport is None or protocol.transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        protocol.transport.write(data)
        if protocol.paused:
            protocol.drained = asyncio.get_running_loop().create_future()
            try:
                await _within(protocol.drained, timeout, httpcore.WriteTimeout)
            finally:
                protocol.drained = None
            if protocol.error is not None:
                raise httpcore.WriteError(str(protocol.error)) from protocol.error

    async def aclose(self) -> None:
        if self._protocol.transport is not None:
            self._protocol.transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        protocol = self._protocol
        assert protocol.transport is not None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(
                    protocol.transport, protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            protocol.transport.close()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except (OSError, ssl.SSLError) as exc:
            protocol.transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if tls is None:
            raise httpcore.ConnectError("TLS could not be started")
        protocol.transport = tls
        return self

    def get_extra_info(self, info: str) -> Any:
        protocol = self._protocol
        if info == "is_readable":  # an idle connection the server closed (or sent junk on)
            return protocol.eof or bool(protocol.buffer)
        if protocol.transport is None:
            return None
        if info == "ssl_object":
            return protocol.transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return protocol.transport.get_extra_info("sockname")
        if info == "server_addr":
            return protocol.transport.get_extra_info("peername")
        if info == "socket":
            return protocol.transport.get_extra_info("socket")
        return None


async def _connected(
    connecting: Awaitable[tuple[asyncio.BaseTransport, _BufferingProtocol]], timeout: float | None
) -> tuple[asyncio.BaseTransport, _BufferingProtocol]:
    """A connection within ``timeout``, its failures as httpcore's connect errors."""
    try:
        async with asyncio.timeout(timeout):
            return await connecting
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(str(exc)) from exc
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections as :class:`_ProtocolStream` over asyncio's transports."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[tuple[int, int, int | bytes | None] | Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        transport, protocol = await _connected(
            loop.create_connection(_BufferingProtocol, host, port, local_addr=local), timeout
        )
        sock = transport.get_extra_info("socket")
        if sock is not None:  # asyncio sets TCP_NODELAY; any others asked for
            for option in socket_options or ():
                sock.setsockopt(*option)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _ProtocolStream(protocol)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[tuple[int, int, int | bytes | None] | Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        _unused, protocol = await _connected(
            loop.create_unix_connection(_BufferingProtocol, path), timeout
        )
        return _ProtocolStream(protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


ASYNCIO_BACKEND = AsyncioBackend()
