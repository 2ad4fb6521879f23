"""Requests to the endpoint under test, each recorded as an :class:`Exchange` so that a failing
check can show the request and an excerpt of the answer, and the checks over "every answer"
(envelope, ids echoed, routing headers) can read them all.

What the runner sends follows the spec strictly (transport_and_format §Authorization header,
§Unique message IDs, §Message Routing Headers): ``Authorization: Token`` raw in 2.1.1 and Base64
of the UTF-8 token from 2.2 on; on 2.2+ a fresh ``X-Request-ID`` and ``X-Correlation-ID`` on
every request and the routing headers on functional modules.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

__all__ = ["CONFIGURATION_MODULES", "Exchange", "TargetClient", "authorization"]

#: modules whose requests and answers carry no routing headers (transport_and_format
#: §Message Routing Headers: configuration modules)
CONFIGURATION_MODULES = frozenset({"versions", "credentials", "hubclientinfo"})

_EXCERPT = 400


def authorization(token: str, version: str) -> str:
    """The ``Authorization`` value for ``token`` in ``version``."""
    if version == "2.1.1":
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode()).decode()


@dataclass
class Exchange:
    """One request to the target and its answer (``status`` 0 when there was none)."""

    method: str
    url: str
    module: str
    request_headers: dict[str, str]
    request_body: Any = None
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    error: str = ""
    #: the parsed JSON body; ``_NOT_JSON`` when it is not JSON
    json: Any = None
    is_json: bool = False
    #: probes made on purpose with a bad or missing token (their answers are errors by design)
    probe: str = ""

    @property
    def envelope(self) -> dict[str, Any] | None:
        return self.json if self.is_json and isinstance(self.json, dict) else None

    @property
    def status_code(self) -> int | None:
        env = self.envelope
        code = env.get("status_code") if env else None
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    @property
    def data(self) -> Any:
        env = self.envelope
        return env.get("data") if env else None

    @property
    def message(self) -> str:
        env = self.envelope
        msg = env.get("status_message") if env else None
        return msg if isinstance(msg, str) else ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def request_id(self) -> str | None:
        return self.request_headers.get("X-Request-ID")

    def describe_request(self) -> str:
        line = f"{self.method} {self.url}"
        if self.request_body is not None:
            body = (
                self.request_body
                if isinstance(self.request_body, str)
                else orjson.dumps(self.request_body).decode()
            )
            line += f" body {body[:200]}"
        return line

    def describe_response(self) -> str:
        if self.error:
            return f"no answer: {self.error}"
        shown = {
            k: v
            for k, v in self.headers.items()
            if k in ("link", "x-total-count", "x-limit", "x-request-id", "x-correlation-id")
            or k.startswith("ocpi-")
        }
        head = f"HTTP {self.status}" + (f" {shown}" if shown else "")
        text = self.text if len(self.text) <= _EXCERPT else self.text[:_EXCERPT] + "..."
        return f"{head} {text}"


class TargetClient:
    """Sends requests to the target in ``version`` and records every exchange."""

    def __init__(self, http: httpx.AsyncClient, version: str = "2.2.1") -> None:
        self.http = http
        self.version = version
        self.exchanges: list[Exchange] = []
        #: (from CC-PID, to CC-PID) of the routing headers on functional modules
        self.routing: tuple[str, str] | None = None

    def headers(
        self, token: str | None, module: str, *, body: bool = False, version: str | None = None
    ) -> dict[str, str]:
        version = version or self.version
        out: dict[str, str] = {}
        if token is not None:
            out["Authorization"] = authorization(token, version)
        if version != "2.1.1":
            out["X-Request-ID"] = str(uuid.uuid4())
            out["X-Correlation-ID"] = str(uuid.uuid4())
            if module not in CONFIGURATION_MODULES and self.routing is not None:
                sender, receiver = self.routing
                out["OCPI-from-country-code"], out["OCPI-from-party-id"] = sender.split("-")
                out["OCPI-to-country-code"], out["OCPI-to-party-id"] = receiver.split("-")
        if body:
            out["Content-Type"] = "application/json"
        return out

    async def call(
        self,
        method: str,
        url: str,
        *,
        token: str | None,
        module: str,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        version: str | None = None,
        probe: str = "",
    ) -> Exchange:
        """One request; never raises for a transport error (the exchange says what happened)."""
        has_body = json is not None or content is not None
        sent = self.headers(token, module, body=has_body, version=version)
        sent.update(headers or {})
        raw = orjson.dumps(json) if json is not None else content
        request = self.http.build_request(method, url, content=raw, params=params, headers=sent)
        ex = Exchange(
            method=method,
            url=str(request.url),
            module=module,
            request_headers=sent,
            request_body=json
            if json is not None
            else (content.decode(errors="replace") if content else None),
            probe=probe,
        )
        self.exchanges.append(ex)
        try:
            response = await self.http.send(request)
        except httpx.HTTPError as exc:
            ex.error = f"{type(exc).__name__}: {exc}"
            return ex
        ex.status = response.status_code
        ex.headers = {k.lower(): v for k, v in response.headers.items()}
        ex.text = response.text
        try:
            ex.json = orjson.loads(response.content) if response.content else None
            ex.is_json = bool(response.content)
        except orjson.JSONDecodeError:
            ex.is_json = False
        return ex
