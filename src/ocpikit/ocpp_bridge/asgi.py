"""The OCPP endpoint on the platform's ASGI app: a WebSocket at ``/ocpp/{charge_point_id}``
with the subprotocols ``ocpp1.6`` and ``ocpp2.0.1`` (OCPP-J 1.6 §3, OCPP 2.0.1 Part 4 §3.1:
the charge point names its identity in the URL and the versions it speaks as subprotocols;
the central system picks one). Every other request goes to the wrapped app unchanged.

Refused before the WebSocket is accepted (HTTP 403): an identity not configured in
``[[ocpp.charge_points]]``; a charge point with a ``password`` whose Basic credentials are
missing or wrong (OCPP 1.6 security whitepaper / 2.0.1 A00 security profile 1; TLS is the
listener's or the proxy's); no subprotocol we speak. A second connection of one identity
replaces the first.
"""

from __future__ import annotations

import base64
import hmac
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from .bridge import Bridge
from .config import ChargePointConfig
from .v16 import ChargePoint16
from .v201 import ChargePoint201

__all__ = ["SUBPROTOCOLS", "with_ocpp"]

log = logging.getLogger("ocpikit.ocpp")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: the subprotocols we speak, preferred first
SUBPROTOCOLS = ("ocpp2.0.1", "ocpp1.6")
PREFIX = "/ocpp/"


class Closed(Exception):
    """The charge point closed the WebSocket."""


class Connection:
    """The WebSocket as the ``ocpp`` library reads and writes it (``recv``/``send`` text)."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send

    async def recv(self) -> str:
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            raise Closed
        text = message.get("text")
        if text is None:
            text = (message.get("bytes") or b"").decode("utf-8", errors="replace")
        return str(text)

    async def send(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})


def _credentials_ok(scope: Scope, cp: ChargePointConfig, password: str | None) -> bool:
    if password is None:
        return True
    for name, value in scope.get("headers") or []:
        if name.lower() == b"authorization" and value[:6].lower() == b"basic ":
            try:
                user, _, given = base64.b64decode(value[6:]).decode().partition(":")
            except ValueError:
                return False
            return user == cp.id and hmac.compare_digest(given.encode(), password.encode())
    return False


def _subprotocol(scope: Scope) -> str | None:
    offered = [str(p) for p in scope.get("subprotocols") or []]
    return next((p for p in offered if p in SUBPROTOCOLS), None)


async def serve_charge_point(bridge: Bridge, scope: Scope, receive: Receive, send: Send) -> None:
    """One charge point's WebSocket, from the handshake until it closes."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    cp_id = unquote(scope["path"][len(PREFIX) :]).strip("/")
    cp = bridge.config.charge_point(cp_id)
    chosen = _subprotocol(scope)
    password = bridge.config.passwords.get(cp_id) if cp is not None else None
    if cp is None or chosen is None or not _credentials_ok(scope, cp, password):
        log.warning(
            "ocpp: refused %r (%s)",
            cp_id,
            "unknown" if cp is None else "no subprotocol" if chosen is None else "credentials",
        )
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "websocket.accept", "subprotocol": chosen})
    connection = Connection(receive, send)
    link = (
        ChargePoint16(cp, connection, bridge)
        if chosen == "ocpp1.6"
        else ChargePoint201(cp, connection, bridge)
    )
    bridge.connected(link)
    log.info("ocpp: %s connected (%s)", cp_id, chosen)
    try:
        await link.start()
    except Closed:
        pass
    finally:
        bridge.disconnected(link)
        log.info("ocpp: %s disconnected", cp_id)


def with_ocpp(app: App, bridge: Bridge) -> App:
    """``app`` with the OCPP endpoint in front (see the module docstring)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and str(scope.get("path", "")).startswith(PREFIX):
            await serve_charge_point(bridge, scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapped
