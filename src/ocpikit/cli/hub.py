"""``ocpikit hub parties`` and ``ocpikit hub losses``: this platform as a hub (docs/hubs.md
"ocpikit as a hub"). ``parties``: party, roles, OCPI version, connection status, last exchange
and the connection's forwarded requests by outcome; ``losses``: what version conversions of
forwarded objects could not carry, per connection and loss rule."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import add_config, run_async, settings_from

__all__ = ["register", "run_hub_losses", "run_hub_parties"]


def register(sub: Any) -> None:
    p = sub.add_parser("hub", help="this platform as a roaming hub: its connected parties")
    hsub = p.add_subparsers(dest="hub_command", metavar="ACTION", required=True)
    parties = hsub.add_parser(
        "parties",
        help="party, roles, version, connection status, last exchange, forwarded requests",
    )
    add_config(parties)
    parties.add_argument("--json", action="store_true", help="print JSON (a list of rows)")
    parties.set_defaults(handler=run_hub_parties)
    losses = hsub.add_parser(
        "losses", help="what version conversions could not carry, per connection and field"
    )
    add_config(losses)
    losses.add_argument("--json", action="store_true", help="print JSON (a list of rows)")
    losses.set_defaults(handler=run_hub_losses)


def _outcomes(counts: Mapping[str, int]) -> str:
    """``delivered/failed (4001 n, 4003 n, ...)`` of one side's counters."""
    failed = {k: v for k, v in counts.items() if k != "delivered" and v}
    detail = ", ".join(f"{k} {v}" for k, v in failed.items())
    text = f"{counts.get('delivered', 0)}/{sum(failed.values())}"
    return f"{text} ({detail})" if detail else text


def run_hub_parties(args: argparse.Namespace) -> int:
    from ocpikit.operations.hub_clients import hub_parties

    settings = settings_from(args)
    rows = run_async(hub_parties, settings)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(
        (
            "PARTY",
            "ROLES",
            "VERSION",
            "STATUS",
            "LAST EXCHANGE",
            "CONNECTION",
            "SENT OK/FAILED",
            "RECEIVED OK/FAILED",
        ),
        [
            (
                row["party"],
                ",".join(row["roles"]),
                row["version"] or "-",
                row["status"],
                row["last_exchange"] or "-",
                row["partner"],
                _outcomes(row["forwarded"]["sent"]),
                _outcomes(row["forwarded"]["received"]),
            )
            for row in rows
        ],
        empty="no parties: nobody is connected to this hub",
    )
    return 0


async def _losses(storage: Any) -> list[dict[str, Any]]:
    from ocpikit.operations.hub_counters import loss_rows

    return loss_rows(await storage.hub_counters.all())


def run_hub_losses(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    rows = run_async(_losses, settings)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(
        ("CONNECTION", "OBJECT", "FROM", "TO", "FIELD", "COUNT"),
        [(r["partner"], r["object"], r["from"], r["to"], r["field"], r["count"]) for r in rows],
        empty="no losses: every forwarded object converted whole",
    )
    return 0
