"""The webhook adapter of the operator decision port: POST the decision request as JSON to a
URL and read the answer (``ocpikit.protocol.decisions.HookDecisions`` interprets it, and fails
closed when this raises).

Requests are signed like the event webhooks (``ocpikit.protocol.webhooks``):
``X-Ocpikit-Timestamp`` and ``X-Ocpikit-Signature: sha256=<HMAC-SHA256 of "<timestamp>.<body>">``
with the configured secret, so the operator's service can tell the platform from anyone else.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import orjson

from ocpikit.protocol.webhooks import sign

__all__ = ["webhook_hook"]


def webhook_hook(
    url: str, *, secret: str | None = None, timeout: float = 5.0
) -> Callable[[dict[str, Any]], Awaitable[Mapping[str, Any]]]:
    """A hook that asks ``url``. Raises on a transport error, an HTTP status other than 2xx or
    an answer that is not a JSON object (the decision then fails closed)."""

    async def ask(request: dict[str, Any]) -> Mapping[str, Any]:
        body = orjson.dumps(request)
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "X-Ocpikit-Timestamp": str(timestamp)}
        if secret:
            headers["X-Ocpikit-Signature"] = sign(secret, timestamp, body)
        async with httpx.AsyncClient(timeout=timeout) as http:
            resp = await http.post(url, content=body, headers=headers)
        resp.raise_for_status()
        answer = orjson.loads(resp.content)
        if not isinstance(answer, dict):
            raise ValueError(
                f"the decision webhook answered {type(answer).__name__}, not an object"
            )
        return answer

    return ask
