"""Shared plumbing of the platform commands: settings, storage and the registration driver
(this is the composition root: the only place that reads the environment)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ocpikit.protocol.decisions import Decisions, DemoDecisions, HookDecisions
from ocpikit.server.settings import ConfigError, Settings, load_settings
from ocpikit.storage.sql import SqlStorage, upgrade

T = TypeVar("T")

__all__ = ["add_config", "decisions_for", "open_storage", "run_async", "settings_from"]


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="FILE", help="TOML config (default: ./ocpikit.toml when present)"
    )


def settings_from(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"ocpikit: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def open_storage(settings: Settings, *, migrate: bool = True) -> SqlStorage:
    if migrate:
        upgrade(settings.database_url)
    return SqlStorage.from_url(
        settings.database_url, wire_cache_bytes=settings.wire_cache_mib * 1024 * 1024
    )


def run_async(fn: Callable[[SqlStorage], Awaitable[T]], settings: Settings) -> T:
    async def main() -> T:
        storage = open_storage(settings)
        try:
            return await fn(storage)
        finally:
            await storage.aclose()

    return asyncio.run(main())


def decisions_for(settings: Settings) -> Decisions:
    """Python hook > webhook > demo policy."""
    if settings.decision_hook:
        module, _, attr = settings.decision_hook.partition(":")
        fn: Any = getattr(importlib.import_module(module), attr)
        return HookDecisions(fn)
    if settings.decision_webhook:
        from ocpikit.client.decisions import webhook_hook

        return HookDecisions(webhook_hook(settings.decision_webhook))
    return DemoDecisions()
