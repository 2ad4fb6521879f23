"""``ocpikit terminals``: payment terminals and financial advice confirmations (2.3.0
mod_payments; docs/payments.md), over :mod:`ocpikit.operations.payments`.

As Payment Terminal Provider: ``list``, ``publish CC-PID TERMINAL_ID`` (a terminal serving that
CPO party, queued to it). As CPO: ``list --received``, ``activate PARTNER --reference REF``,
``deactivate PARTNER TERMINAL_ID``, ``assign PARTNER TERMINAL_ID --location L --evse E`` and
``confirmations`` (what PTPs confirmed, with the CDR each pays).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import add_config, partner_http, run_async, settings_from
from ocpikit.core.errors import OcpiError
from ocpikit.core.types import format_datetime

__all__ = ["register"]

T = TypeVar("T")


def register(sub: Any) -> None:
    p = sub.add_parser("terminals", help="payment terminals (2.3.0 Payments), as PTP or CPO")
    actions = p.add_subparsers(dest="terminals_action", required=True)
    ls = actions.add_parser("list", help="our terminals (PTP), or --received ones (CPO)")
    ls.add_argument("--received", action="store_true")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)
    pub = actions.add_parser("publish", help="PTP: publish a terminal serving a CPO party")
    pub.add_argument("party", metavar="CC-PID")
    pub.add_argument("terminal_id")
    pub.add_argument("--file", help="a JSON Terminal with the other fields")
    pub.set_defaults(handler=run_publish)
    act = actions.add_parser("activate", help="CPO: ask a PTP to activate a station terminal")
    act.add_argument("partner")
    act.add_argument("--reference", required=True, help="e.g. the terminal's serial number")
    act.set_defaults(handler=run_activate)
    de = actions.add_parser("deactivate", help="CPO: ask a PTP to deactivate a terminal")
    de.add_argument("partner")
    de.add_argument("terminal_id")
    de.set_defaults(handler=run_deactivate)
    asg = actions.add_parser("assign", help="CPO: assign a PTP's terminal locations and EVSEs")
    asg.add_argument("partner")
    asg.add_argument("terminal_id")
    asg.add_argument("--location", action="append", default=[], dest="locations")
    asg.add_argument("--evse", action="append", default=[], dest="evses")
    asg.set_defaults(handler=run_assign)
    conf = actions.add_parser("confirmations", help="CPO: confirmations received, per CDR")
    conf.add_argument("--json", action="store_true")
    conf.set_defaults(handler=run_confirmations)
    for parser in (ls, pub, act, de, asg, conf):
        add_config(parser)


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def _report(fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except OcpiError as exc:
        print(f"error: {exc.message}")
        return None


def run_list(args: argparse.Namespace) -> int:
    from ocpikit.operations.payments import TERMINAL, payment_objects

    settings = settings_from(args)
    rows = run_async(lambda s: payment_objects(s, TERMINAL, own=not args.received), settings)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(
        ("TERMINAL", "PARTY", "PARTNER", "LOCATIONS", "EVSES", "REFERENCE"),
        [
            (
                r["object"]["terminal_id"],
                r["party"],
                r["partner"] or "-",
                ",".join(r["object"].get("location_ids") or []) or "-",
                ",".join(r["object"].get("evse_uids") or []) or "-",
                r["object"].get("reference") or "-",
            )
            for r in rows
        ],
        empty="no terminals",
    )
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from ocpikit.operations.payments import put_own_terminal

    settings = settings_from(args)
    cc, _, pid = args.party.partition("-")
    fields: dict[str, Any] = {}
    if args.file:
        with open(args.file, encoding="utf-8") as f:
            fields = json.load(f)
    body = {**fields, "terminal_id": args.terminal_id}

    def publish() -> Any:
        return run_async(lambda s: put_own_terminal(s, cc, pid, body, now=_now()), settings)

    stored = _report(publish)
    if stored is None:
        return 1
    print(json.dumps(stored.document, indent=2))
    return 0


def _with_ports(args: argparse.Namespace, fn: Callable[[Any], Awaitable[T]]) -> T | None:
    """``fn(ports)`` with the platform's flow ports (partner calls under the URL policy)."""
    from ocpikit.cli.flows import platform_flows

    settings = settings_from(args)

    async def call(storage: Any) -> T:
        async with partner_http(settings) as http:
            return await fn(platform_flows(settings, storage, http, http))

    return _report(lambda: run_async(call, settings))


def run_activate(args: argparse.Namespace) -> int:
    from ocpikit.operations.payments import activate_terminal

    body = {"reference": args.reference, "last_updated": _now()}
    answer = _with_ports(args, lambda ports: activate_terminal(ports, args.partner, body))
    if answer is None:
        return 1
    print(json.dumps(answer, indent=2))
    return 0


def run_deactivate(args: argparse.Namespace) -> int:
    from ocpikit.operations.payments import deactivate_terminal

    done = _with_ports(
        args, lambda ports: deactivate_terminal(ports, args.partner, args.terminal_id)
    )
    if done is None:
        return 1
    print(f"deactivated {args.terminal_id}")
    return 0


def run_assign(args: argparse.Namespace) -> int:
    from ocpikit.operations.payments import update_terminal

    fields = {"location_ids": args.locations, "evse_uids": args.evses}
    answer = _with_ports(
        args,
        lambda ports: update_terminal(ports, args.partner, args.terminal_id, fields, patch=True),
    )
    if answer is None:
        return 1
    print(json.dumps(answer, indent=2))
    return 0


def run_confirmations(args: argparse.Namespace) -> int:
    from ocpikit.operations.payments import confirmations

    settings = settings_from(args)
    rows = run_async(confirmations, settings)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(
        ("CONFIRMATION", "PARTNER", "REFERENCE", "STATUS", "CDR", "INVOICE"),
        [
            (
                r["confirmation"]["id"],
                r["partner"],
                r["confirmation"]["authorization_reference"],
                r["confirmation"]["capture_status_code"],
                r["cdr"]["id"] if r["cdr"] else "-",
                (r["cdr"] or {}).get("invoice_reference_id") or "-",
            )
            for r in rows
        ],
        empty="no confirmations",
    )
    return 0
