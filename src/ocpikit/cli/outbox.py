"""``ocpikit outbox``: see and act on the durable push queue.

- ``outbox list``: counts per state and the entries (filter by partner and state);
- ``outbox dead``: the dead letters with their reasons;
- ``outbox replay (--id N | --partner P | --all)``: dead letters back to pending;
- ``outbox drop (--id N | --partner P | --all)``: delete dead letters;
- ``outbox work``: run a delivery worker (several may run against one PostgreSQL database).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from typing import Any

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import (
    add_config,
    logged_partner_http,
    open_storage,
    run_async,
    settings_from,
)
from ocpikit.core.logs import configure_logging

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("outbox", help="the push queue: list, dead letters, replay, run a worker")
    osub = p.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)

    ls = osub.add_parser("list", help="entries and counts per state")
    add_config(ls)
    ls.add_argument("--partner", metavar="ID")
    ls.add_argument("--state", choices=["pending", "in_flight", "dead"])
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list, dead_only=False)

    dead = osub.add_parser("dead", help="dead letters with their reasons")
    add_config(dead)
    dead.add_argument("--partner", metavar="ID")
    dead.add_argument("--limit", type=int, default=50)
    dead.add_argument("--json", action="store_true")
    dead.set_defaults(handler=run_list, dead_only=True, state="dead")

    rp = osub.add_parser("replay", help="dead letters back to pending")
    add_config(rp)
    which = rp.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, metavar="N", help="one entry")
    which.add_argument("--partner", metavar="ID", help="every dead letter of a partner")
    which.add_argument("--all", action="store_true", help="every dead letter")
    rp.set_defaults(handler=run_replay)

    dp = osub.add_parser("drop", help="delete dead letters")
    add_config(dp)
    which = dp.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, metavar="N", help="one entry")
    which.add_argument("--partner", metavar="ID", help="every dead letter of a partner")
    which.add_argument("--all", action="store_true", help="every dead letter")
    dp.set_defaults(handler=run_drop)

    wk = osub.add_parser("work", help="run a delivery worker until interrupted")
    add_config(wk)
    wk.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    wk.add_argument("--batch", type=int, default=100)
    wk.add_argument("--concurrency", type=int, default=32)
    wk.set_defaults(handler=run_work)


def _row(e: Any) -> dict[str, Any]:
    from ocpikit.operations.outbox import entry_summary

    return entry_summary(e)


def run_list(args: argparse.Namespace) -> int:
    from ocpikit.protocol.ports import OutboxState, Storage

    settings = settings_from(args)
    state = OutboxState(args.state) if getattr(args, "state", None) else None

    async def load(s: Storage) -> tuple[dict[OutboxState, int], list[Any]]:
        counts = await s.outbox.counts()
        entries = await s.outbox.entries(state=state, partner_id=args.partner, limit=args.limit)
        return counts, entries

    counts, entries = run_async(load, settings)
    rows = [_row(e) for e in entries]
    if args.json:
        print(
            json.dumps(
                {"counts": {k.value: v for k, v in counts.items()}, "entries": rows}, indent=2
            )
        )
        return 0
    print(", ".join(f"{k.value}: {v}" for k, v in counts.items()))
    print_table(
        ("ID", "STATE", "PARTNER", "OPERATION", "OBJECT", "REV", "ATTEMPTS", "PROBLEM"),
        [
            (
                r["id"],
                r["state"],
                r["partner"],
                r["operation"],
                f"{r['kind']} {r['object']}",
                r["revision"],
                r["attempts"],
                _problem(r, dead_only=args.dead_only),
            )
            for r in rows
        ],
        empty="no dead letters" if args.dead_only else "the outbox is empty",
    )
    return 0


def _problem(row: dict[str, Any], *, dead_only: bool) -> str | None:
    if row["dead_reason"]:
        return f"dead: {row['dead_reason']}"
    if row["last_error"] and not dead_only:
        return f"last error: {row['last_error']} (next {row['next_attempt_at']})"
    return None


def run_replay(args: argparse.Namespace) -> int:
    from ocpikit.operations import outbox

    settings = settings_from(args)
    n = run_async(lambda s: outbox.replay(s, entry_id=args.id, partner_id=args.partner), settings)
    print(f"replayed {n} dead letter(s)")
    return 0 if n or args.all else 1


def run_drop(args: argparse.Namespace) -> int:
    from ocpikit.operations import outbox

    settings = settings_from(args)
    n = run_async(lambda s: outbox.drop(s, entry_id=args.id, partner_id=args.partner), settings)
    print(f"dropped {n} dead letter(s)")
    return 0 if n or args.all else 1


def run_work(args: argparse.Namespace) -> int:
    from ocpikit.client.delivery import DeliveryWorker

    settings = settings_from(args)
    configure_logging(
        settings.log_format, level=settings.log_level, exchanges=settings.log_exchanges
    )
    storage = open_storage(settings)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every OS
                loop.add_signal_handler(sig, stop.set)
        try:
            async with logged_partner_http(settings, storage, concurrency=args.concurrency) as http:
                worker = DeliveryWorker(
                    storage, http, batch=args.batch, concurrency=args.concurrency
                )
                if args.once:
                    total = 0
                    while True:
                        outcomes = await worker.run_once()
                        if not outcomes:
                            break
                        total += len(outcomes)
                        if all(o.result != "sent" for o in outcomes):
                            break
                    print(f"handled {total} entries", file=sys.stderr)
                    return 0
                print(f"outbox worker {worker.worker_id} running", file=sys.stderr)
                await worker.run(stop)
                return 0
        finally:
            await storage.aclose()

    return asyncio.run(main())
