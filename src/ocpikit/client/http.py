"""The shared httpx client of the partner calls (so that callers outside ``client/`` never
import httpx themselves): one connection pool, keep-alive, bounded connections."""

from __future__ import annotations

import httpx

__all__ = ["http_client"]


def http_client(*, concurrency: int = 32, timeout: float = 30.0) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for partner calls: at most ``concurrency`` connections, all kept
    alive (a delivery worker reuses them for every push)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=timeout)
