"""``ocpikit emulate cpo|emsp|hub [--version V] [--port N] [--fault MODE ...] [--seed N]``: run
an emulated OCPI partner on loopback until SIGTERM (docs/testing.md); ``ocpikit emulate cpo
--chargepoints N [--ocpp 1.6|2.0.1] [--connectors N] [--signed]`` backs the CPO by simulated
charge points.

The ``ocpikit`` command finds this module by name (``cli/main.py``): nothing in ocpikit imports
the test kit. Importing it loads only argparse; the emulator is loaded when the command runs.
At start-up it prints one JSON line on stdout: ``versions_url``, ``token_a``, ``control_url``,
``role``, ``version``, ``parties`` (with charge points also ``ocpp_url`` and ``chargepoints``).
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run_emulate"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "emulate",
        help="run an emulated OCPI partner (CPO, eMSP or hub) with fault modes, for tests",
        description=(
            "Run a realistic, optionally misbehaving OCPI partner on loopback with generated, "
            "deterministic data and a control API under /control/. Prints one JSON line "
            "(versions_url, token_a, control_url, role, version, parties), then serves until "
            "SIGTERM. Fault syntax: MODE[:P|every=N|first=N|after=N][,key=value...], e.g. "
            "rate-limit:0.3 or server-error:every=3 (docs/testing.md)."
        ),
    )
    p.add_argument(
        "role",
        choices=("cpo", "emsp", "hub", "chargepoint"),
        help="which partner to emulate (chargepoint: an OCPP charge point, docs/ocpp.md)",
    )
    p.add_argument("--version", default="2.2.1", choices=("2.1.1", "2.2.1", "2.3.0"))
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="MODE",
        help="a fault mode with its probability or schedule (repeatable)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated data and faults")
    p.add_argument("--party", help="our party, CC-PID (default NL-ECP, NL-EMS or DE-HUB)")
    p.add_argument(
        "--behind",
        action="append",
        metavar="CC-PID:ROLE",
        help="a hub's party behind it, ROLE CPO or EMSP (repeatable; default DE-AAA:CPO "
        "DE-AAB:CPO NL-EMA:EMSP)",
    )
    p.add_argument("--page-size", type=int, default=20, help="most objects per page (X-Limit)")
    p.add_argument(
        "--objects",
        action="append",
        default=[],
        metavar="MODULE=N",
        help="objects per party of a module (default locations=25 tariffs=4 sessions=12 "
        "cdrs=12 tokens=20)",
    )
    p.add_argument(
        "--token-party",
        default="NL-EMS",
        metavar="CC-PID",
        help="the eMSP of the tokens in a CPO's sessions and CDRs",
    )
    p.add_argument(
        "--command-delay",
        type=float,
        default=0.3,
        metavar="SECONDS",
        help="seconds before a CommandResult is posted",
    )
    p.add_argument(
        "--chargepoints",
        type=int,
        default=0,
        metavar="N",
        help="cpo: back the CPO's first N locations by simulated OCPP charge points, run in "
        "process (with --ocpp, --connectors, --signed, --power; docs/testing.md)",
    )
    from ocpikit.testing.chargepoint.cli import add_arguments

    add_arguments(p)
    p.set_defaults(handler=run_emulate)


def run_emulate(args: argparse.Namespace) -> int:
    import sys

    if args.role == "chargepoint":
        from ocpikit.testing.chargepoint.cli import run_chargepoint

        return run_chargepoint(args)

    from .serve import ServeError, config_from_args, serve

    try:
        config = config_from_args(args)
    except ServeError as exc:
        print(f"ocpikit emulate: {exc}", file=sys.stderr)
        return 2
    return serve(config)
