"""The webhook adapter of the operator decision port: POST the decision request as JSON to a
URL and read the answer (``ocpikit.protocol.decisions.HookDecisions`` interprets it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

__all__ = ["webhook_hook"]


def webhook_hook(
    url: str, *, timeout: float = 5.0
) -> Callable[[dict[str, Any]], Awaitable[Mapping[str, Any]]]:
    """A hook that asks ``url``; on any failure the answer is empty (the demo policy applies)."""

    async def ask(request: dict[str, Any]) -> Mapping[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=timeout) as http:
                resp = await http.post(url, json=request)
            answer = resp.json()
        except (httpx.HTTPError, ValueError):
            return {}
        return answer if isinstance(answer, dict) else {}

    return ask
