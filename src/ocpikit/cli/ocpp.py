"""``ocpikit ocpp serve``: ``ocpikit serve`` with the OCPP endpoint on whatever ``[ocpp]
enabled`` says (the endpoint: :mod:`ocpikit.cli._ocpp_endpoint`, docs/ocpp.md)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    from ocpikit.cli.serve import add_serve_arguments

    p = sub.add_parser("ocpp", help="the OCPP 1.6J / 2.0.1 central system endpoint")
    commands = p.add_subparsers(dest="ocpp_command", metavar="COMMAND")
    s = commands.add_parser(
        "serve",
        help="run the platform with the OCPP endpoint /ocpp/{charge_point_id} "
        "(charge points from [[ocpp.charge_points]], docs/ocpp.md)",
    )
    add_serve_arguments(s)
    s.set_defaults(handler=_run, ocpp_enabled=True)
    p.set_defaults(handler=lambda _args: (p.print_help(), 2)[1])


def _run(args: argparse.Namespace) -> int:
    from ocpikit.cli.serve import run_serve

    return run_serve(args)
