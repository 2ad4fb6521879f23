"""``ocpikit cdr work [--once]``: the platform's CDR work (the checks of received CDRs and,
with ``[cdrs] build = "auto"``, the CDRs of our finished sessions) in a process of its own,
next to ``ocpikit serve`` on the same database (docs/cdrs.md "Where the work runs").

With ``[cdrs] work = "worker"`` ``ocpikit serve`` leaves that work to this command, so the
checks' CPU time is not taken from the endpoints' answers; with the default ``"serve"`` both
may run (the queues are leased: no CDR is checked, nor session built, twice at once).
``--once`` drains the queues and exits with the number handled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from ocpikit.cli._platform import add_config, partner_http, run_async, settings_from

__all__ = ["add_work"]


def add_work(csub: Any) -> None:
    p = csub.add_parser(
        "work", help="run the CDR checks and builds in a process of their own (not serving)"
    )
    add_config(p)
    p.add_argument("--once", action="store_true", help="drain the queues once, then exit")
    p.set_defaults(handler=run_work)


def run_work(args: argparse.Namespace) -> int:
    from ocpikit.cli.flows import cdr_build_mode, cdr_decimals, platform_flows
    from ocpikit.client.http import http_client
    from ocpikit.operations.cdr_builds import run_pending_builds
    from ocpikit.operations.cdr_checks import run_pending_checks
    from ocpikit.protocol.ports import Storage

    settings = settings_from(args)
    try:
        mode, decimals = cdr_build_mode(settings), cdr_decimals(settings)
    except ValueError as exc:
        print(f"ocpikit: configuration error: {exc}", file=sys.stderr)
        return 2

    async def drain(storage: Storage, events: Any) -> int:
        handled = 0
        while True:
            n = await run_pending_checks(storage, events)
            n += await run_pending_builds(
                storage, events, mode=mode, rules=settings.routing, decimals=decimals
            )
            if n == 0:
                return handled
            handled += n

    async def work(storage: Storage) -> int:
        async with partner_http(settings) as http, http_client() as webhook_http:
            events = platform_flows(settings, storage, http, webhook_http).events
            if args.once:
                return await drain(storage, events)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            while not stop.is_set():
                await drain(storage, events)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
            return 0

    handled = run_async(work, settings)
    if args.once:
        print(f"{handled} CDR checks and builds done")
    return 0
