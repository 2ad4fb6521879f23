"""``ocpikit partners set PARTNER`` and ``ocpikit partners show PARTNER``: a connection's hub
profile and individual switches (:mod:`ocpikit.protocol.profiles`), and their effective
values with where each comes from."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import add_config, run_async, settings_from
from ocpikit.protocol.profiles import PROFILES

__all__ = ["add_partner_subcommands", "parse_switch", "profile_argument"]


def profile_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="hub profile of the connection (sets its switches; docs/hubs.md)",
    )


def add_partner_subcommands(partners: argparse.ArgumentParser) -> None:
    """``set`` and ``show`` under ``partners`` (``partners`` alone still lists)."""
    sub = partners.add_subparsers(dest="partners_command", metavar="{set,show}")
    p = sub.add_parser("set", help="set a connection's hub profile and switches")
    add_config(p)
    p.add_argument("partner", metavar="PARTNER")
    profile_argument(p)
    p.add_argument(
        "--switch",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set one switch (VALUE as JSON, else as text); repeatable",
    )
    p.add_argument("--unset", action="append", default=[], metavar="NAME", help="remove a switch")
    p.set_defaults(handler=run_partners_set)
    p = sub.add_parser("show", help="a connection with its effective switches")
    add_config(p)
    p.add_argument("partner", metavar="PARTNER")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_partners_show)


def parse_switch(text: str) -> tuple[str, Any]:
    """``NAME=VALUE``: VALUE read as JSON when it is JSON, else as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--switch {text!r}: expected NAME=VALUE")
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name.strip(), value


def run_partners_set(args: argparse.Namespace) -> int:
    from ocpikit.operations.partners import partner_switches, set_partner_switches

    try:
        switches: dict[str, Any] = dict(parse_switch(s) for s in args.switch)
    except ValueError as exc:
        print(f"ocpikit: {exc}", file=sys.stderr)
        return 2
    switches.update({name: None for name in args.unset})
    settings = settings_from(args)
    partner = run_async(
        lambda s: set_partner_switches(s, args.partner, profile=args.profile, switches=switches),
        settings,
    )
    if partner is None:
        print(f"ocpikit: no partner {args.partner!r}", file=sys.stderr)
        return 1
    print(json.dumps(partner_switches(partner), indent=2))
    return 0


def run_partners_show(args: argparse.Namespace) -> int:
    from ocpikit.operations.partners import partner_switches

    settings = settings_from(args)
    partner = run_async(lambda s: s.partners.get(args.partner), settings)
    if partner is None:
        print(f"ocpikit: no partner {args.partner!r}", file=sys.stderr)
        return 1
    shown = partner_switches(partner)
    if args.json:
        print(json.dumps(shown, indent=2))
        return 0
    print(
        f"{shown['id']}: {shown['status']}, OCPI {shown['version']}, "
        f"profile {shown['profile'] or '-'}, hub: {'yes' if shown['hub'] else 'no'}"
    )
    print_table(
        ("SWITCH", "VALUE", "FROM", "WHAT IT DOES"),
        [(s["name"], json.dumps(s["value"]), s["source"], s["doc"]) for s in shown["switches"]],
        empty="",
    )
    return 0
