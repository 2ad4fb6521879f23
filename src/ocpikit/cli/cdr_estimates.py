"""``ocpikit cdr estimates``: partners' sessions, their reported ``total_cost`` against the
price engine's estimate of the charging periods so far (docs/cdrs.md "Session estimates").

``cdr estimates [--partner P] [--status ACTIVE] [--differences] [--json]``: ``--json`` prints
the list of :func:`ocpikit.operations.session_estimates.estimate_session` rows.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import add_config, run_async, settings_from

__all__ = ["add_estimates"]


def add_estimates(csub: Any) -> None:
    p = csub.add_parser(
        "estimates", help="partners' sessions: reported cost against the engine's estimate"
    )
    add_config(p)
    p.add_argument("--partner", metavar="P", help="only the sessions of this partner")
    p.add_argument(
        "--status",
        choices=("ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION"),
        help="only sessions in this status",
    )
    p.add_argument("--differences", action="store_true", help="only sessions whose cost differs")
    p.add_argument("--json", action="store_true", help="a JSON list")
    p.set_defaults(handler=run_estimates)


def run_estimates(args: argparse.Namespace) -> int:
    from ocpikit.operations.session_estimates import list_session_estimates

    settings = settings_from(args)
    rows = run_async(
        lambda s: list_session_estimates(
            s, partner=args.partner, status=args.status, differences=args.differences
        ),
        settings,
    )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(
        ("SESSION", "PARTNER", "STATUS", "PERIODS", "REPORTED", "ESTIMATED", "VERDICT"),
        [
            (
                r["session_id"],
                r["partner"],
                r["status"],
                r["periods"],
                r["reported"],
                r["estimated"],
                r["verdict"],
            )
            for r in rows
        ],
        empty="no sessions",
    )
    return 0
