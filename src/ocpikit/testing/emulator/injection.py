"""The fault injector: an ASGI layer in front of the emulator's OCPI endpoints that records
each request, checks its token, and applies the faults that fire (faults.py) to the answer.

- terminal faults replace the answer: ``drop`` (the connection is closed, nothing written),
  ``timeout`` (no answer for ``seconds``, then the normal one), ``auth`` (401), ``rate-limit``
  (429 with ``Retry-After``), ``server-error`` (a 5xx with an HTML body);
- ``slow`` delays the answer; ``truncated-body`` cuts the body in half, either as a complete
  HTTP message with broken JSON (``kind=json``) or by closing the connection after half the
  declared ``Content-Length`` (``kind=connection``); ``missing-headers`` removes the ids
  (``ids``), the paging headers (``paging``), the routing headers (``routing``) or all;
- the others change what the endpoints put in the answer (they read the fired faults from the
  ASGI scope).

Closing without an answer relies on uvicorn's HTTP/1.1 protocol closing the transport when the
application returns a value other than None (and logging that once per dropped request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .faults import Triggered
from .state import Emulator
from .wire import dumps, envelope, token_candidates

__all__ = ["FaultInjector", "classify"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_PAGING = {b"link", b"x-total-count", b"x-limit"}
_IDS = {b"x-request-id", b"x-correlation-id"}
_ROUTING = {
    b"ocpi-from-country-code",
    b"ocpi-from-party-id",
    b"ocpi-to-country-code",
    b"ocpi-to-party-id",
}
_DROPPED = {"ids": _IDS, "paging": _PAGING, "routing": _ROUTING, "all": _IDS | _PAGING | _ROUTING}


def classify(method: str, path: str) -> tuple[str, str] | None:
    """``(module, kind)`` of an OCPI path (kind: ``list``, ``object`` or ``other``), or None
    when the path is not one of our OCPI endpoints."""
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2 or parts[0] != "ocpi":
        return None
    if parts[1] == "versions" or len(parts) == 2:
        return "versions", "other"
    if parts[2] == "credentials":
        return "credentials", "other"
    if len(parts) < 4 or parts[2] not in ("sender", "receiver"):
        return None
    module = parts[3]
    if method == "GET" and parts[2] == "sender" and len(parts) == 4:
        return module, "list"
    return module, "object" if method == "GET" else "other"


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


class FaultInjector:
    def __init__(self, app: App, emulator: Emulator) -> None:
        self.app = app
        self.emu = emulator

    async def _answer(
        self, send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _error_headers(self, headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
        """Content type and, from 2.2 on, the request's ids echoed (transport_and_format
        §Unique message IDs: every answer, errors too)."""
        out = [(b"content-type", b"application/json")]
        if self.emu.config.version != "2.1.1":
            for name in ("x-request-id", "x-correlation-id"):
                if headers.get(name):
                    out.append((name.encode(), headers[name].encode("latin-1")))
        return out

    def _authorized(self, headers: dict[str, str], module: str) -> bool:
        raw_only = self.emu.plan.raw_tokens
        return any(
            self.emu.token_valid(token, module) and not (raw_only and was_b64)
            for token, was_b64 in token_candidates(headers.get("authorization"))
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        found = classify(scope["method"], scope["path"])
        if found is None:
            return await self.app(scope, receive, send)
        module, kind = found
        emu = self.emu
        headers = _headers(scope)
        record = emu.record(
            scope["method"], scope["path"], scope.get("query_string", b"").decode(), module, headers
        )
        if not self._authorized(headers, module):
            record.status, record.status_code = 401, 2000
            body = dumps(envelope(None, 2000, "unknown or missing token"))
            return await self._answer(send, 401, body, self._error_headers(headers))
        fired = emu.plan.decide(module, kind)
        record.faults = [t.rule.spec for t in fired]
        scope["emulator"] = {"faults": fired, "record": record}
        terminal = next((t for t in fired if t.terminal), None)
        if terminal is not None:
            replaced = await self._terminal(terminal, record, send)
            if replaced is not None:
                return replaced
        slow = next((t for t in fired if t.mode == "slow"), None)
        if slow is not None:
            await asyncio.sleep(slow.rule.delay)
        return await self.app(scope, receive, self._wrap(send, fired))

    async def _terminal(self, t: Triggered, record: Any, send: Send) -> Any:
        """Answer (or not) for a terminal fault; None when the normal answer follows."""
        rule = t.rule
        if t.mode == "drop":
            record.status = 0
            return "dropped"  # uvicorn closes the connection (module docstring)
        if t.mode == "timeout":
            await asyncio.sleep(rule.delay)
            return None
        if t.mode == "auth":
            record.status, record.status_code = 401, 2000
            body = dumps(envelope(None, 2000, "token expired"))
            await self._answer(send, 401, body, [(b"content-type", b"application/json")])
            return True
        if t.mode == "rate-limit":
            record.status = 429
            headers = [
                (b"retry-after", str(rule.retry_after).encode()),
                (b"content-type", b"text/plain"),
            ]
            await self._answer(send, 429, b"Too Many Requests", headers)
            return True
        record.status = rule.status
        html = f"<html><body><h1>{rule.status} Server Error</h1></body></html>".encode()
        await self._answer(send, rule.status, html, [(b"content-type", b"text/html")])
        return True

    def _wrap(self, send: Send, fired: list[Triggered]) -> Send:
        missing = next((t for t in fired if t.mode == "missing-headers"), None)
        truncated = next((t for t in fired if t.mode == "truncated-body"), None)
        if missing is None and truncated is None:
            return send
        dropped = _DROPPED[missing.kind or "all"] if missing else set()
        state: dict[str, Any] = {"start": None, "body": b""}

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in dropped
                ]
                if truncated is None:
                    await send(message)
                else:
                    state["start"] = message
                return
            if truncated is None or message["type"] != "http.response.body":
                await send(message)
                return
            state["body"] += message.get("body", b"")
            if message.get("more_body"):
                return
            await self._truncate(send, state["start"], state["body"], truncated.kind or "json")

        return wrapped

    async def _truncate(self, send: Send, start: Message, body: bytes, kind: str) -> None:
        half = body[: max(len(body) // 2, 1)]
        length = len(body) if kind == "connection" else len(half)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(length).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": half, "more_body": kind == "connection"})
        # kind=connection: returning now leaves the response incomplete; uvicorn closes
