"""The exchange log of the OCPI routes: the batcher of :mod:`ocpikit.operations.exchange_log`
(shared with the outbound calls of the client, so one writer task serves both directions)."""

from __future__ import annotations

from ocpikit.operations.exchange_log import (
    LOG_BODY,
    LOG_HEAD,
    LOG_INTERVAL,
    LOG_QUEUE_MAX,
    LOG_TAIL,
    ExchangeLogBatcher,
    LogPolicy,
    compacted_bodies,
    kept_whole,
    log_excerpt,
    sampled_read,
)

__all__ = [
    "LOG_BODY",
    "LOG_HEAD",
    "LOG_INTERVAL",
    "LOG_QUEUE_MAX",
    "LOG_TAIL",
    "ExchangeLogBatcher",
    "LogPolicy",
    "compacted_bodies",
    "kept_whole",
    "log_excerpt",
    "sampled_read",
]
