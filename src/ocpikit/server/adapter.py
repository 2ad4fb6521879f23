"""The ASGI adapter of the OCPI routes: a partner's request read straight from the ASGI scope,
and an answer written straight to ``send`` (no framework Request/Response on the hot path; see
docs/server.md "Dispatch").

Invariants: header names are lower case and the first of a repeated name wins when read by
name (all pairs are kept for the exchange log); the body is read once and kept; ``HEAD`` is
served as ``GET`` without a body; every answer is JSON with its ``content-length``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping, Sequence

from starlette.types import Receive, Scope, Send

from ocpikit.core.errors import PayloadTooLarge, RequestTimeout
from ocpikit.core.headers import LowerHeaders
from ocpikit.server.query import parse_query

__all__ = ["Answer", "OcpiRequest", "RequestHeaders", "send_answer"]

Answer = tuple[int, bytes, Mapping[str, str]]
"""HTTP status, envelope body, extra headers."""


class RequestHeaders:
    """Request headers as the ASGI server gave them (names lower case), decoded once."""

    __slots__ = ("_pairs", "lower")

    def __init__(self, raw: Sequence[tuple[bytes, bytes]]) -> None:
        pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]
        self._pairs = pairs
        self.lower = LowerHeaders(reversed(pairs))  # the first of a repeated name wins

    def items(self) -> list[tuple[str, str]]:
        return self._pairs

    def get(self, name: str) -> str | None:
        return self.lower.get(name)


class OcpiRequest:
    """What the endpoints read of a partner's request, straight from the ASGI scope."""

    __slots__ = (
        "_body",
        "body_timeout",
        "headers",
        "max_body",
        "method",
        "path",
        "path_params",
        "receive",
        "scope",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        path: str,
        path_params: dict[str, str],
        *,
        max_body: int = 1024 * 1024,
        body_timeout: float = 30.0,
    ) -> None:
        self.scope = scope
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.receive = receive
        self.method: str = "GET" if scope["method"] == "HEAD" else scope["method"]
        self.path = path
        self.path_params = path_params
        self.headers = RequestHeaders(scope["headers"])
        self._body: bytes | None = None

    @property
    def query_string(self) -> str:
        raw: bytes = self.scope.get("query_string", b"")
        return raw.decode("latin-1")

    def query(self) -> dict[str, str]:
        """Query parameters (the last of a repeated name wins, blank values kept)."""
        return parse_query(self.query_string)

    @property
    def full_path(self) -> str:
        root: str = self.scope.get("root_path", "")
        return self.path if not root or self.path.startswith(root) else root + self.path

    @property
    def url(self) -> str:
        """The URL as this server was asked (for the exchange log)."""
        host = self.headers.get("host")
        if host is None:
            server = self.scope.get("server") or ("localhost", None)
            host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
        qs = self.query_string
        scheme = self.scope.get("scheme", "http")
        return f"{scheme}://{host}{self.full_path}" + (f"?{qs}" if qs else "")

    @property
    def client_address(self) -> str | None:
        """The network address of the caller (the proxy's, behind a proxy)."""
        client = self.scope.get("client")
        return str(client[0]) if client else None

    async def body(self) -> bytes:
        """The body, read once: 413 when it is over ``max_body`` bytes (by its
        ``Content-Length`` or as it arrives), 408 when it takes over ``body_timeout`` seconds."""
        if self._body is None:
            declared = (self.headers.get("content-length") or "").strip()
            if declared.isdigit() and int(declared) > self.max_body:
                raise PayloadTooLarge(f"The request body is over {self.max_body} bytes")
            self._body = await self._read_body()
        return self._body

    async def _read_body(self) -> bytes:
        """The first message usually holds the whole body (no timer armed for it); the rest, if
        any, must arrive within ``body_timeout``."""
        first = await self.receive()
        if first["type"] != "http.request":
            return b""  # the client went away
        chunk = first.get("body", b"")
        if len(chunk) > self.max_body:
            raise PayloadTooLarge(f"The request body is over {self.max_body} bytes")
        if not first.get("more_body", False):
            return bytes(chunk)
        try:
            async with asyncio.timeout(self.body_timeout):
                return await self._read_more([chunk], len(chunk))
        except TimeoutError:
            raise RequestTimeout() from None

    async def _read_more(self, chunks: list[bytes], size: int) -> bytes:
        while True:
            message = await self.receive()
            if message["type"] != "http.request":
                break  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise PayloadTooLarge(f"The request body is over {self.max_body} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


@functools.lru_cache(maxsize=256)
def _header_name(name: str) -> bytes:
    """A response header name as sent (lower case, bytes), encoded once per name."""
    return name.lower().encode("latin-1")


async def send_answer(
    send: Send, status: int, body: bytes, headers: Mapping[str, str], head: bool
) -> None:
    """Write one JSON answer; ``head``: the answer to a HEAD request (no body)."""
    raw = [
        (b"content-length", b"%d" % len(body)),
        (b"content-type", b"application/json"),
    ]
    raw += [(_header_name(k), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else body})
