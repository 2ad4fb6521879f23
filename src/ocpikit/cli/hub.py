"""``ocpikit hub parties``: the parties connected to this platform when it is a hub (docs/hubs.md
"ocpikit as a hub"): party, roles, OCPI version, connection status and last exchange."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import add_config, run_async, settings_from

__all__ = ["register", "run_hub_parties"]


def register(sub: Any) -> None:
    p = sub.add_parser("hub", help="this platform as a roaming hub: its connected parties")
    hsub = p.add_subparsers(dest="hub_command", metavar="ACTION", required=True)
    parties = hsub.add_parser(
        "parties", help="party, roles, version, connection status, last exchange"
    )
    add_config(parties)
    parties.add_argument("--json", action="store_true", help="print JSON (a list of rows)")
    parties.set_defaults(handler=run_hub_parties)


def run_hub_parties(args: argparse.Namespace) -> int:
    from ocpikit.operations.hub_clients import hub_parties

    settings = settings_from(args)
    rows = run_async(hub_parties, settings)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(
        ("PARTY", "ROLES", "VERSION", "STATUS", "LAST EXCHANGE", "CONNECTION"),
        [
            (
                row["party"],
                ",".join(row["roles"]),
                row["version"] or "-",
                row["status"],
                row["last_exchange"] or "-",
                row["partner"],
            )
            for row in rows
        ],
        empty="no parties: nobody is connected to this hub",
    )
    return 0
