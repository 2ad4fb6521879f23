"""Composition of the asynchronous flows (commands, charging profiles, real-time
authorization, webhooks) into the platform, and ``ocpikit flows ...`` (docs/flows.md).

``flow_app`` is what ``ocpikit serve`` runs: the platform app with the flow routes of the
backend API, and the sweep of :mod:`ocpikit.operations.commands` (timeouts, result
deliveries, webhook deliveries) and the checks of received CDRs
(:mod:`ocpikit.operations.cdr_checks`) registered as periodic background tasks of the server. The
use cases get their ports (partner calls, webhook POSTs) from
:func:`ocpikit.client.partner_calls.flow_ports`.

Webhook configuration (read here, the composition root): ``[webhooks] url = ...`` and
``secret = ...`` in the TOML config, or ``OCPIKIT_WEBHOOK_URL`` / ``OCPIKIT_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from typing import TYPE_CHECKING, Any

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import (
    add_config,
    decisions_for,
    partner_http,
    run_async,
    settings_from,
)
from ocpikit.core.versions import Role
from ocpikit.protocol.decisions import DemoDecisions, HookDecisions
from ocpikit.protocol.ports import Storage
from ocpikit.server.settings import ConfigError, Settings

if TYPE_CHECKING:
    from ocpikit.operations.flow_ports import FlowPorts

__all__ = [
    "cdr_build_mode",
    "cdr_decimals",
    "cdr_work_in_serve",
    "flow_app",
    "register",
    "webhook_config",
]


def cdr_build_mode(settings: Settings) -> str:
    """``[cdrs] build = "auto" | "off"`` (default "off"): whether the platform builds the CDR
    of each session of ours that ends (docs/cdrs.md). Anything else is a configuration error."""
    section = settings.extra.get("cdrs", {})
    value = section.get("build", "off") if isinstance(section, dict) else "off"
    if value not in ("auto", "off"):
        raise ValueError(f'[cdrs] build: "auto" or "off", not {value!r}')
    return str(value)


def cdr_work_in_serve(settings: Settings) -> bool:
    """``[cdrs] work = "serve" | "worker"`` (default "serve"): whether ``ocpikit serve`` runs
    the CDR checks and builds, or leaves them to ``ocpikit cdr work``."""
    section = settings.extra.get("cdrs", {})
    value = section.get("work", "serve") if isinstance(section, dict) else "serve"
    if value not in ("serve", "worker"):
        raise ValueError(f'[cdrs] work: "serve" or "worker", not {value!r}')
    return value == "serve"


def cdr_decimals(settings: Settings) -> int:
    """``[cdrs] decimals`` (default 2): the decimals the amounts of the CDRs the platform builds
    are rounded to, half-up (the spec leaves rounding to the parties, DIGEST §4.2)."""
    section = settings.extra.get("cdrs", {})
    value = section.get("decimals", 2) if isinstance(section, dict) else 2
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise ValueError(f"[cdrs] decimals: a whole number from 0 to 6, not {value!r}")
    return value


def webhook_config(settings: Settings) -> tuple[str | None, str | None]:
    section = settings.extra.get("webhooks", {})
    if not isinstance(section, dict):
        section = {}
    url = os.environ.get("OCPIKIT_WEBHOOK_URL") or section.get("url")
    secret = os.environ.get("OCPIKIT_WEBHOOK_SECRET") or section.get("secret")
    return (str(url) if url else None, str(secret) if secret else None)


def platform_flows(
    settings: Settings, storage: Storage, http: Any, webhook_http: Any, **kwargs: Any
) -> FlowPorts:
    """The ports of the command, result and webhook flows of the platform: partner calls on
    ``http`` (the URL policy's client), the operator's webhooks on ``webhook_http``."""
    from ocpikit.client.partner_calls import flow_ports

    url, secret = webhook_config(settings)
    return flow_ports(
        storage,
        http,
        base_url=settings.base_url,
        webhook_url=url,
        webhook_secret=secret,
        webhook_http=webhook_http,
        rules=settings.routing,
        **kwargs,
    )


def flow_app(settings: Settings, storage: Storage, *, driver: Any, interval: float = 0.5) -> Any:
    """The platform app with the flow routes; the sweep of :mod:`ocpikit.operations.commands`
    (timeouts, result and webhook deliveries) is registered as a periodic background task
    (``ocpikit.client.background``), which ``ocpikit serve`` runs in-process."""
    from ocpikit.cli.console import console_routes_for
    from ocpikit.client.background import PeriodicTask, TaskContext, register_periodic
    from ocpikit.client.http import http_client
    from ocpikit.client.pull_port import pull_port
    from ocpikit.operations import commands
    from ocpikit.operations.cdr_builds import run_pending_builds
    from ocpikit.operations.cdr_checks import SERVE_BATCH, run_pending_checks
    from ocpikit.operations.pace import Pace
    from ocpikit.server.admin import flow_routes
    from ocpikit.server.app import create_app

    webhook_http = http_client()  # the operator's own service: not a partner's word
    calls = partner_http(settings)
    ports = platform_flows(settings, storage, calls, webhook_http)
    decisions = decisions_for(settings)
    if isinstance(decisions, (DemoDecisions, HookDecisions)):
        decisions.events = ports.events

    async def sweep(ctx: TaskContext) -> None:
        worker = platform_flows(settings, ctx.storage, ctx.http, webhook_http, clock=ctx.clock)
        while await commands.sweep(worker) > 0:
            pass

    register_periodic(
        PeriodicTask("flows-sweep", interval, sweep, first=interval, every_worker=True)
    )

    async def cdr_checks(ctx: TaskContext) -> None:
        pace = Pace()  # gives way to the endpoints of this event loop
        while await run_pending_checks(ctx.storage, ports.events, limit=SERVE_BATCH, pace=pace):
            pass

    mode, decimals = cdr_build_mode(settings), cdr_decimals(settings)

    async def cdr_builds(ctx: TaskContext) -> None:
        while await run_pending_builds(
            ctx.storage, ports.events, mode=mode, rules=settings.routing, decimals=decimals
        ):
            pass

    if cdr_work_in_serve(settings):
        # both lease what they work on: every worker of `serve --workers N` may run them
        for name, fn in (("cdr-checks", cdr_checks), ("cdr-builds", cdr_builds)):
            register_periodic(PeriodicTask(name, interval, fn, first=interval, every_worker=True))
    forwarder = None
    logged: list[Any] = [calls]
    if any(Role.HUB in p.roles for p in settings.parties):
        from ocpikit.client.hub_forward import HttpHubForwarder
        from ocpikit.operations.hub_clients import sync_client_info

        forwarder = HttpHubForwarder(partner_http(settings))
        logged.append(forwarder.http)

        async def client_info(ctx: TaskContext) -> None:
            await sync_client_info(ctx.storage, ctx.clock)

        register_periodic(PeriodicTask("hub-client-info", 1.0, client_info, first=0.5))
        probe_every = hub_probe_interval(settings)
        if probe_every > 0:
            prober = forwarder

            async def probe(ctx: TaskContext) -> None:
                await probe_connections(ctx.storage, prober, ctx.clock)

            register_periodic(PeriodicTask("hub-probe", probe_every, probe, first=probe_every))
    app = create_app(
        settings,
        storage,
        decisions=decisions,
        driver=driver,
        extra_routes=flow_routes(ports, pull=pull_port(storage, calls))
        + console_routes_for(settings, storage, ports),
        admin_here=settings.admin_port is None,
        hub_forwarder=forwarder,
    )
    log_traffic(app, *logged)
    return app


def log_traffic(app: Any, *clients: Any) -> None:
    """The partner calls on ``clients`` (``ocpikit.client.http`` clients) go to the exchange
    log of ``app`` (an app of ``create_app``): one batcher for both directions."""
    from ocpikit.server.app import platform_of

    record = platform_of(app).exchange_log.record
    for http in clients:
        http.traffic = record


# --- CLI ----------------------------------------------------------------------------------------
def register(sub: Any) -> None:
    p = sub.add_parser(
        "flows", help="commands, charging profiles, hub client info and webhooks (flows)"
    )
    fsub = p.add_subparsers(dest="flows_command", metavar="ACTION", required=True)
    c = fsub.add_parser("commands", help="open commands and charging-profile requests")
    add_config(c)
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=run_commands)
    h = fsub.add_parser("clients", help="connection status of parties pushed by a hub")
    add_config(h)
    h.add_argument("--json", action="store_true")
    h.set_defaults(handler=run_clients)
    w = fsub.add_parser(
        "work", help="run the sweep (timeouts, result and webhook deliveries) without serving"
    )
    add_config(w)
    w.add_argument("--once", action="store_true", help="one sweep, then exit")
    w.set_defaults(handler=run_work)


def run_commands(args: argparse.Namespace) -> int:
    from ocpikit.core.types import format_datetime
    from ocpikit.operations import commands

    settings = settings_from(args)

    async def work(storage: Storage) -> list[dict[str, Any]]:
        return [
            {
                "id": r.id,
                "direction": r.direction.value,
                "command": r.command,
                "state": r.state,
                "partner": r.partner_id,
                "deadline": format_datetime(r.deadline) if r.deadline else None,
            }
            for r in await commands.open_commands(storage)
        ]

    rows = run_async(work, settings)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(
            ("DIRECTION", "COMMAND", "STATE", "PARTNER", "DEADLINE", "ID"),
            [
                (r["direction"], r["command"], r["state"], r["partner"], r["deadline"], r["id"])
                for r in rows
            ],
            empty="no open commands",
        )
    return 0


def run_clients(args: argparse.Namespace) -> int:
    from ocpikit.operations.partners import hub_clients

    settings = settings_from(args)
    rows = run_async(hub_clients, settings)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(
            ("PARTY", "ROLE", "STATUS", "VIA HUB", "UPDATED"),
            [
                (
                    f"{r.get('country_code')}-{r.get('party_id')}",
                    r.get("role"),
                    r.get("status"),
                    r["hub"],
                    r.get("last_updated"),
                )
                for r in rows
            ],
            empty="no hub clients",
        )
    return 0


def run_work(args: argparse.Namespace) -> int:
    from ocpikit.client.http import http_client
    from ocpikit.operations import commands

    settings = settings_from(args)

    async def work(storage: Storage) -> int:
        async with partner_http(settings) as http, http_client() as webhook_http:
            ports = platform_flows(settings, storage, http, webhook_http)
            if args.once:
                return await commands.sweep(ports)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await commands.sweep_until(ports, stop)
            return 0

    handled = run_async(work, settings)
    if args.once:
        print(f"{handled} due records handled")
    return 0


def hub_probe_interval(settings: Settings) -> float:
    """``[hub] probe_interval``: seconds between the hub's probes of its connections (0: off;
    default 10)."""
    table = settings.extra.get("hub", {})
    value = table.get("probe_interval", 10) if isinstance(table, dict) else 10
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"hub.probe_interval: expected seconds >= 0 (0: off), got {value!r}")
    return float(value)


async def probe_connections(storage: Storage, forwarder: Any, clock: Any) -> int:
    """Probe every registered connection of the hub and record who answers; the number whose
    state changed (their ClientInfo follows at the next sync)."""
    from ocpikit.operations.hub_clients import record_reachability
    from ocpikit.protocol.ports import PartnerStatus

    changed = 0
    for partner in await storage.partners.all(status=PartnerStatus.REGISTERED):
        reachable = await forwarder.probe(partner)
        changed += await record_reachability(storage, partner.id, reachable, clock)
    return changed
