"""A partner's Sender list of Locations served over real HTTP/1.1 on loopback, which misbehaves
on chosen pages: 429 with ``Retry-After``, a 500 error envelope, an answer that never comes in
time, a body shorter than its ``Content-Length`` (the connection closes), a cut JSON body, a
404 page (an expired cursor), or a page that is down for good. Pages are ``offset``/``limit`` windows with ``Link`` headers;
``date_from`` filters on ``last_updated`` (inclusive), as the spec says."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ocpikit.core.types import parse_datetime

from .helpers import envelope

#: what a fault answers; "timeout" answers nothing for this long (seconds)
HANG = 3.0
RETRY_AFTER = 2


@dataclass
class FaultPartner:
    """``faults[(offset, attempt)]``: the fault of the ``attempt``-th request (1-based) of the
    page at ``offset``; ``down``: offsets that fail (500) on every attempt."""

    items: list[dict[str, Any]]
    page: int = 5
    faults: dict[tuple[int, int], str] = field(default_factory=dict)
    down: set[int] = field(default_factory=set)
    attempts: Counter[int] = field(default_factory=Counter)
    #: every request: (monotonic time, offset, query, fault or "")
    log: list[tuple[float, int, dict[str, str], str]] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _open: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/ocpi"

    async def __aenter__(self) -> FaultPartner:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                if not await self._answer(writer, target):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._open.discard(writer)
            writer.close()

    def _page(self, query: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        offset = int(query.get("offset", "0"))
        limit = min(int(query.get("limit", str(self.page))), self.page)
        window = self.items
        if "date_from" in query:
            since = parse_datetime(query["date_from"])
            window = [i for i in window if parse_datetime(i["last_updated"]) >= since]
        chunk = window[offset : offset + limit]
        headers = {"X-Total-Count": str(len(window)), "X-Limit": str(self.page)}
        if offset + len(chunk) < len(window):
            nxt = {**query, "offset": str(offset + len(chunk)), "limit": str(limit)}
            headers["Link"] = f'<{self.base}/2.2.1/locations?{urlencode(nxt)}>; rel="next"'
        return envelope(chunk), headers

    async def _answer(self, writer: asyncio.StreamWriter, target: str) -> bool:
        query = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        offset = int(query.get("offset", "0"))
        self.attempts[offset] += 1
        fault = self.faults.get((offset, self.attempts[offset]), "")
        if offset in self.down:
            fault = "500"
        self.log.append((time.monotonic(), offset, query, fault))
        body, headers = self._page(query)
        status, length = 200, len(body)
        if fault == "429":
            status, body = 429, b"slow down"
            headers, length = {"Retry-After": str(RETRY_AFTER)}, len(body)
        elif fault == "gone":  # an expired cursor: no page there any more
            status, body = 404, b"<html>Not Found</html>"
            headers, length = {}, len(body)
        elif fault == "500":
            status, body = 500, envelope(None, 3000, with_data=False)
            headers, length = {}, len(body)
        elif fault == "timeout":
            await asyncio.sleep(HANG)
            return False
        elif fault == "short":  # the connection ends before Content-Length bytes came
            length = len(body) + 100
        elif fault == "cut":  # a whole answer whose JSON stops halfway
            body = body[: len(body) // 2]
            length = len(body)
        lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {length}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        return fault != "short"


def stamped(items: list[dict[str, Any]], stamp: str) -> list[dict[str, Any]]:
    """``items`` with ``last_updated`` = ``stamp``."""
    return [{**i, "last_updated": stamp} for i in items]
