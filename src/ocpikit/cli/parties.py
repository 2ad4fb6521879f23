"""``ocpikit parties``: the party directory (every remote party, the connections that reach it,
direct or through which hub, its status and which connection carries its traffic)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import add_config, run_async, settings_from

__all__ = ["register", "run_parties"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "parties", help="list remote parties and the connection (direct or hub) that reaches each"
    )
    add_config(p)
    p.add_argument("--json", action="store_true", help="print JSON (a list of directory rows)")
    p.set_defaults(handler=run_parties)


def run_parties(args: argparse.Namespace) -> int:
    """One line per party, role and connection; ``*`` marks the connection that carries the
    party's traffic (``[routing]`` in the config decides between several)."""
    from ocpikit.operations import party_directory

    settings = settings_from(args)
    rows = run_async(lambda storage: party_directory(storage, settings.routing), settings)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(
        ("PARTY", "ROLE", "VIA", "PATH", "STATUS", "LEARNED", "ROUTE"),
        [
            (
                row["party"],
                row["role"],
                row["partner"],
                row["path"],
                row["status"] or "-",
                row["learned"],
                "*" if row["chosen"] else "",
            )
            for row in rows
        ],
        empty="no parties: no partner is registered",
    )
    return 0
