"""Shared plumbing of the platform commands: settings, storage and the registration driver
(this is the composition root: the only place that reads the environment)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from ocpikit.protocol.decisions import Decisions, DemoDecisions, HookDecisions
from ocpikit.protocol.ports import BASE_URL_FACT
from ocpikit.protocol.url_policy import UrlPolicy
from ocpikit.server.settings import ConfigError, Settings, load_settings
from ocpikit.storage.sql import SqlStorage, upgrade
from ocpikit.storage.sql.secrets import SecretBox, new_key

T = TypeVar("T")

__all__ = [
    "add_config",
    "decisions_for",
    "logged_partner_http",
    "open_storage",
    "partner_http",
    "registration_driver",
    "run_async",
    "settings_from",
    "url_policy",
]


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="FILE", help="TOML config (default: ./ocpikit.toml when present)"
    )


def settings_from(args: argparse.Namespace, *, recorded_base_url: bool = True) -> Settings:
    """The settings of the config (``--config``) and environment. With ``recorded_base_url``
    and no base URL set by the config, the base URL is the one the running ``ocpikit serve``
    recorded in the database (so ``serve --port 9000`` then ``invite`` prints a ``:9000`` URL)."""
    try:
        settings = load_settings(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"ocpikit: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if recorded_base_url and settings.base_url_auto:
        recorded = recorded_fact(settings, BASE_URL_FACT)
        if recorded:
            settings = replace(settings, base_url=recorded)
    return settings


def recorded_fact(settings: Settings, name: str) -> str | None:
    """A fact the running platform recorded, read without migrating the database or creating
    a key file (a database that does not exist or is not migrated yet has recorded nothing)."""

    async def read() -> str | None:
        storage = SqlStorage.from_url(settings.database_url, pool_size=1)
        try:
            return await storage.facts.get(name)
        finally:
            await storage.aclose()

    try:
        return asyncio.run(read())
    except Exception:  # no database yet, or no facts table: nothing recorded
        return None


def open_storage(settings: Settings, *, migrate: bool = True) -> SqlStorage:
    if migrate:
        upgrade(settings.database_url)
    return SqlStorage.from_url(
        settings.database_url,
        wire_cache_bytes=settings.wire_cache_mib * 1024 * 1024,
        secrets=secret_box(settings),
    )


def secret_box(settings: Settings) -> SecretBox:
    """The box sealing partners' tokens at rest: the configured key (and older ones), else the
    key file (created with a fresh key, mode 0600, on first use; a ``.new`` key left by an
    interrupted rotation is read too)."""
    if settings.secrets_key:
        return SecretBox([settings.secrets_key, *settings.previous_secrets_keys])
    path = settings.secrets_key_file or Path(".ocpikit-secrets-key")
    keys = [read_key_file(path)]
    pending = path.with_name(path.name + ".new")
    if pending.exists():
        keys.insert(0, pending.read_text(encoding="ascii").strip())
    return SecretBox([*keys, *settings.previous_secrets_keys])


def read_key_file(path: Path) -> str:
    """The key in ``path``, written there first (a fresh key, mode 0600) when it is missing."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        key = new_key()
        out.write(key + "\n")
    return key


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

        return HookDecisions(
            webhook_hook(settings.decision_webhook, secret=decision_webhook_secret(settings))
        )
    return DemoDecisions()


def decision_webhook_secret(settings: Settings) -> str | None:
    """``[decisions] webhook_secret``, else the event webhooks' ``[webhooks] secret``."""
    for table, key in (("decisions", "webhook_secret"), ("webhooks", "secret")):
        section = settings.extra.get(table, {})
        value = section.get(key) if isinstance(section, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


#: the hosts ``serve --demo`` lets the platform call (a partner on the same machine)
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def url_policy(settings: Settings) -> UrlPolicy:
    """Which partner URLs the platform may call (``[security]``, docs/security.md)."""
    hosts = settings.allowed_hosts + (LOOPBACK_HOSTS if settings.demo else ())
    return UrlPolicy.of(hosts, allow_private_networks=settings.allow_private_networks)


def partner_http(settings: Settings, *, concurrency: int = 32) -> Any:
    """The HTTP client of partner calls: guarded by :func:`url_policy`, answers capped at
    ``[limits] max_response_bytes``."""
    from ocpikit.client.http import http_client

    return http_client(
        concurrency=concurrency,
        policy=url_policy(settings),
        max_response_bytes=settings.limits.max_response_bytes,
    )


@contextlib.asynccontextmanager
async def logged_partner_http(
    settings: Settings, storage: Any, *, concurrency: int = 32
) -> AsyncIterator[Any]:
    """:func:`partner_http` whose calls go to the exchange log of ``storage`` (direction
    ``out``), through a batcher of this process that is written out when the block ends: what
    ``ocpikit pull`` and ``ocpikit outbox work`` send is in the traffic log as what ``ocpikit
    serve`` sends is."""
    from ocpikit.operations.exchange_log import ExchangeLogBatcher, log_policy

    log = ExchangeLogBatcher(storage, policy=log_policy(settings.extra))
    try:
        async with partner_http(settings, concurrency=concurrency) as http:
            http.traffic = log.record
            yield http
    finally:
        await log.close()


def registration_driver(settings: Settings) -> Any:
    """The registration flows' driver, on a client like :func:`partner_http`."""
    from ocpikit.client.registration import guarded_driver

    return guarded_driver(
        url_policy(settings), max_response_bytes=settings.limits.max_response_bytes
    )
