"""``ocpikit conformance --versions-url URL --token TOKEN [--role cpo|emsp|hub] [--version V]
[--mode read|write] [--json FILE] [--junit FILE]``: run the conformance plan against an OCPI
endpoint (docs/testing.md, "Test a partner's endpoint").

The ``ocpikit`` command finds this module by name (``cli/main.py``): nothing in ocpikit imports
the test kit. Importing it loads only argparse. Exit status: 0 when no check failed, 1 when one
did, 2 for a usage error.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run_conformance"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "conformance",
        help="check an OCPI endpoint against the spec (registers as a test partner with a token A)",
        description=(
            "Run the conformance plan against an OCPI endpoint: versions and details, the "
            "credentials handshake, transport rules, every Sender list's pagination, every "
            "object against the models, and with --mode write the Receivers, commands and "
            "real-time authorization. With a token A the runner registers as a test partner "
            "(serving its own OCPI party on a loopback port) and unregisters at the end; with "
            "the token of an existing registration it uses it. One line per check, a summary, "
            "exit status 1 on any failure (docs/testing.md)."
        ),
    )
    p.add_argument("--versions-url", help="the target's versions endpoint (required)")
    p.add_argument("--token", help="a token A, or the token of a registration (required)")
    p.add_argument(
        "--role", choices=("cpo", "emsp", "hub"), help="the role under test (default: guessed)"
    )
    p.add_argument(
        "--version",
        choices=("2.1.1", "2.2.1", "2.3.0"),
        help="OCPI version (default: the highest in common)",
    )
    p.add_argument(
        "--mode",
        choices=("read", "write"),
        default="read",
        help="write: also push objects, send commands",
    )
    p.add_argument("--json", metavar="FILE", help="write the results as JSON")
    p.add_argument("--junit", metavar="FILE", help="write the results as JUnit XML")
    p.add_argument(
        "--check",
        action="append",
        metavar="PATTERN",
        help="run only the checks matching PATTERN, e.g. 'pagination.*' (repeatable)",
    )
    p.add_argument(
        "--party", metavar="CC-PID", help="our party id (default: NL-C and two random characters)"
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the base URL the target reaches our party at (default: the loopback address)",
    )
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.set_defaults(handler=run_conformance)


def run_conformance(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from .plan import select
    from .report import result_lines, summary_line, write_json, write_junit
    from .runner import run_async

    try:
        chosen = select(args.check)
    except ValueError as exc:
        print(f"ocpikit conformance: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for c in chosen:
            print(f"{c.id:<36} {c.stage:<12} {c.spec[0]} §{c.spec[1]}: {c.title}")
        return 0
    if not args.versions_url or not args.token:
        print("ocpikit conformance: --versions-url and --token are required", file=sys.stderr)
        return 2

    def show(result: Any) -> None:
        for line in result_lines(result):
            print(line)
        sys.stdout.flush()

    report = asyncio.run(
        run_async(
            args.versions_url,
            args.token,
            role=args.role,
            version=args.version,
            mode=args.mode,
            checks=args.check,
            party=args.party,
            timeout=args.timeout,
            public_url=args.public_url,
            on_result=show,
        )
    )
    print(summary_line(report))
    if args.json:
        write_json(report, args.json)
    if args.junit:
        write_junit(report, args.junit)
    return 0 if report.ok else 1
