"""Retention of the exchange log: a background task of ``ocpikit serve`` (hourly) deletes
exchanges older than ``[exchange_log] keep_days`` (default 30; 0 keeps everything), then, while
the log holds more than ``[exchange_log] max_mb`` (default 1024; 0: no cap), the oldest ones.

Every OCPI request and response is logged (docs/storage.md), so a busy connection writes
gigabytes a month; without pruning the database grows without bound and every write to the
log's indexes gets slower. Registered through :func:`ocpikit.client.background.periodic`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ocpikit.client.background import TaskContext, periodic

__all__ = ["DEFAULT_KEEP_DAYS", "DEFAULT_MAX_MB", "keep_days", "max_mb", "prune_exchange_log"]

DEFAULT_KEEP_DAYS = 30.0
DEFAULT_MAX_MB = 1024.0


def keep_days(config: Mapping[str, Any]) -> float:
    """``[exchange_log] keep_days`` of the raw config (days, fractions allowed; 0 = forever)."""
    table = config.get("exchange_log", {})
    if not isinstance(table, Mapping):
        raise ValueError("[exchange_log] must be a table")
    value = table.get("keep_days", DEFAULT_KEEP_DAYS)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError("exchange_log.keep_days must be a number of days, 0 or more")
    return float(value)


def max_mb(config: Mapping[str, Any]) -> float:
    """``[exchange_log] max_mb`` of the raw config (MiB the log may hold; 0 = no cap)."""
    table = config.get("exchange_log", {})
    if not isinstance(table, Mapping):
        raise ValueError("[exchange_log] must be a table")
    value = table.get("max_mb", DEFAULT_MAX_MB)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError("exchange_log.max_mb must be a number of MiB, 0 or more")
    return float(value)


@periodic("exchange-log-retention", every=3600, first=60)
async def prune_exchange_log(ctx: TaskContext) -> None:
    days = keep_days(ctx.config)
    if days > 0:
        await ctx.storage.exchanges.prune(ctx.clock.now() - timedelta(days=days))
    cap = max_mb(ctx.config)
    if cap > 0:
        await ctx.storage.exchanges.prune_to(int(cap * 1024 * 1024))
