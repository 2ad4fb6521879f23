"""The OCPP WebSocket endpoint refuses, before accepting, an unknown charge point identity,
a charge point whose Basic password is missing or wrong, and a handshake offering no
subprotocol we speak; a known one is accepted with the subprotocol it preferred among ours.
Every other request goes to the wrapped app."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from ocpikit.ocpp_bridge.asgi import serve_charge_point, with_ocpp
from ocpikit.ocpp_bridge.config import ocpp_config

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeBridge:
    def __init__(self) -> None:
        self.config = ocpp_config(
            {
                "ocpp": {
                    "charge_points": [
                        {"id": "CP1", "location_id": "L", "evse_uids": ["E"]},
                        {"id": "CP2", "location_id": "L", "evse_uids": ["F"], "password": "pw"},
                    ]
                }
            },
            [("NL", "CPO")],
        )
        self.linked: list[Any] = []

    def connected(self, link: Any) -> None:
        self.linked.append(link)

    def disconnected(self, link: Any) -> None:
        pass


async def handshake(path: str, subprotocols: list[str], auth: str | None = None) -> list[dict]:
    sent: list[dict] = []
    messages = [{"type": "websocket.connect"}, {"type": "websocket.disconnect"}]
    headers = [(b"authorization", auth.encode())] if auth else []

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": path, "subprotocols": subprotocols, "headers": headers}
    bridge: Any = FakeBridge()
    await serve_charge_point(bridge, scope, receive, send)
    return sent


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_refusals_and_acceptance() -> None:
    refused = {"type": "websocket.close", "code": 1008}
    assert await handshake("/ocpp/NOPE", ["ocpp1.6"]) == [refused]
    assert await handshake("/ocpp/CP1", ["ocpp1.5"]) == [refused]
    assert await handshake("/ocpp/CP2", ["ocpp1.6"]) == [refused]
    assert await handshake("/ocpp/CP2", ["ocpp1.6"], basic("CP2", "bad")) == [refused]
    [accepted] = await handshake("/ocpp/CP2", ["ocpp1.6"], basic("CP2", "pw"))
    assert accepted == {"type": "websocket.accept", "subprotocol": "ocpp1.6"}
    [accepted] = await handshake("/ocpp/CP1", ["ocpp2.0.1", "ocpp1.6"])
    assert accepted["subprotocol"] == "ocpp2.0.1"


async def test_other_requests_reach_the_wrapped_app() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])

    bridge: Any = FakeBridge()
    wrapped = with_ocpp(app, bridge)
    await wrapped({"type": "http", "path": "/ocpi/versions"}, None, None)  # type: ignore[arg-type]
    assert seen == ["/ocpi/versions"]
