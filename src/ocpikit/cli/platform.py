"""Platform administration commands: ``init``, ``db upgrade``, ``invite``, ``register``,
``partners`` and ``unregister`` (they act on the same config and database as ``serve``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import (
    add_config,
    open_storage,
    registration_driver,
    run_async,
    settings_from,
)
from ocpikit.cli.partner_switches import add_partner_subcommands, profile_argument
from ocpikit.server.settings import STARTER_CONFIG


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="write a commented starter config (ocpikit.toml)")
    p.add_argument("path", nargs="?", default="ocpikit.toml")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=run_init)

    p = sub.add_parser("db", help="database administration")
    dbsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser("upgrade", help="apply the migrations")
    add_config(up)
    up.set_defaults(handler=run_db_upgrade)
    rk = dbsub.add_parser(
        "rotate-key", help="seal the partners' tokens in the database under a new key"
    )
    add_config(rk)
    rk.add_argument(
        "--to",
        metavar="KEY",
        help="the new key (default: a fresh one); with a configured secrets_key, put it in the "
        "config as secrets_key and the old one in previous_secrets_keys",
    )
    rk.set_defaults(handler=run_db_rotate_key)

    p = sub.add_parser(
        "invite",
        help="create a registration token A for a new partner (or list and revoke them)",
        description="A token A works once, until it expires (--ttl, default 7d).",
    )
    add_config(p)
    p.add_argument("--party", metavar="CC-PID", help="our party the partner connects to")
    p.add_argument("--ttl", metavar="DURATION", default="7d", help="e.g. 7d, 12h, 30m, never")
    p.add_argument("--for", dest="expected", metavar="CC-PID", help="the party that must register")
    p.add_argument("--replace", metavar="PARTNER", help="let the token re-register this partner")
    p.add_argument("--list", action="store_true", help="list the tokens A that still work")
    p.add_argument("--revoke", metavar="ID", help="revoke a token A by the id --list shows")
    p.add_argument("--json", action="store_true", help="with --list: machine-readable output")
    p.set_defaults(handler=run_invite)

    p = sub.add_parser("register", help="register with a partner that gave us a token A")
    add_config(p)
    p.add_argument("--versions-url", required=True, metavar="URL")
    p.add_argument("--token", required=True, metavar="A")
    p.add_argument("--party", metavar="CC-PID", help="our party that registers")
    profile_argument(p)
    p.set_defaults(handler=run_register)

    p = sub.add_parser(
        "partners", help="list partners (version, roles, endpoints, status); set, show"
    )
    add_config(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_partners)
    add_partner_subcommands(p)

    p = sub.add_parser(
        "rotate", help="renew a partner's tokens both ways (credentials PUT; docs/security.md)"
    )
    add_config(p)
    p.add_argument("partner", metavar="PARTNER", help="partner id as listed by `partners`")
    p.set_defaults(handler=run_rotate)

    p = sub.add_parser("unregister", help="remove a partner (its tokens stop working)")
    add_config(p)
    p.add_argument("partner", metavar="PARTNER", help="partner id as listed by `partners`")
    p.set_defaults(handler=run_unregister)


def run_init(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"ocpikit: {path} exists (use --force to overwrite)", file=sys.stderr)
        return 1
    path.write_text(STARTER_CONFIG, encoding="utf-8")
    print(f"wrote {path}")
    return 0


def run_db_upgrade(args: argparse.Namespace) -> int:
    from ocpikit.storage.sql import upgrade

    settings = settings_from(args)
    upgrade(settings.database_url)
    print(f"database is current: {settings.database_url.split('@')[-1]}")
    return 0


def run_db_rotate_key(args: argparse.Namespace) -> int:
    """Re-seal every partner token under a new key. With the key file, the new key is written
    beside it first (``.new``, read too) and replaces it once every token is resealed, so an
    interruption loses nothing."""
    import os

    from ocpikit.storage.sql.secrets import SecretBox, new_key

    settings = settings_from(args)
    key = args.to or new_key()
    try:
        new_box = SecretBox([key])
    except ValueError as exc:
        print(f"ocpikit: --to: {exc}", file=sys.stderr)
        return 2
    key_file = settings.secrets_key_file if settings.secrets_key is None else None
    pending = key_file.with_name(key_file.name + ".new") if key_file is not None else None
    if pending is not None:
        fd = os.open(pending, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(key + "\n")
    count = run_async(lambda storage: storage.partners.reseal(new_box), settings)
    if pending is not None and key_file is not None:
        os.replace(pending, key_file)
        print(f"resealed {count} partner token(s); the new key is in {key_file}")
    else:
        print(f"resealed {count} partner token(s) under the new key: {key}")
        print("set it as [security] secrets_key and move the old one to previous_secrets_keys")
    return 0


def run_invite(args: argparse.Namespace) -> int:
    from ocpikit.operations import invites, parse_duration, revoke_invite
    from ocpikit.server.registry import invite

    settings = settings_from(args)
    if args.list:
        rows = run_async(invites, settings)
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        print_table(
            ("ID", "TOKEN", "OUR PARTY", "FOR", "REPLACES", "EXPIRES"),
            [
                (r["id"], r["hint"], r["our_party"], r["for"], r["replaces"], r["expires_at"])
                for r in rows
            ],
            empty="no open invitations",
        )
        return 0
    if args.revoke:
        revoked = run_async(lambda s: revoke_invite(s, args.revoke), settings)
        print(f"revoked {revoked} token(s) A")
        return 0 if revoked else 1
    try:
        ttl = parse_duration(args.ttl)
    except ValueError as exc:
        print(f"ocpikit: --ttl: {exc}", file=sys.stderr)
        return 2
    result = run_async(
        lambda s: invite(
            settings, s, args.party, ttl=ttl, expected_party=args.expected, replace=args.replace
        ),
        settings,
    )
    print(json.dumps(result))
    return 0


def _handshake(args: argparse.Namespace, step: Any) -> int:
    """Run ``step(settings, storage, driver)`` (a registration or a rotation, which calls the
    partner) and print the partner it returns as JSON, or the OCPI error on stderr."""
    from ocpikit.core.errors import OcpiError
    from ocpikit.server.registry import partner_summary

    settings = settings_from(args)
    storage = open_storage(settings)

    async def main() -> dict[str, Any]:
        try:
            return partner_summary(await step(settings, storage, registration_driver(settings)))
        finally:
            await storage.aclose()

    try:
        summary = asyncio.run(main())
    except OcpiError as exc:
        print(json.dumps({"error": exc.message, "status_code": exc.status_code}), file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    return 0


def run_register(args: argparse.Namespace) -> int:
    from ocpikit.server.registry import register_with

    profile = {"profile": args.profile} if args.profile else None
    return _handshake(
        args,
        lambda settings, storage, driver: register_with(
            settings, storage, driver, args.versions_url, args.token, args.party, profile
        ),
    )


def run_partners(args: argparse.Namespace) -> int:
    """Partners with their status, version, roles and endpoints, and per pulled module when it
    last synced and how many of the partner's objects we hold (``--json``: the same, as a list
    of ``partner_summary`` objects with ``sync``)."""
    from ocpikit.operations import partner_overview

    settings = settings_from(args)
    rows = run_async(partner_overview, settings)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(
        ("PARTNER", "STATUS", "OCPI", "ROLES", "OUR PARTY", "ENDPOINTS"),
        [
            (
                row["id"],
                row["status"],
                row["version"],
                ", ".join(f"{r['country_code']}-{r['party_id']} {r['role']}" for r in row["roles"]),
                row["our_party"],
                len(row["endpoints"]),
            )
            for row in rows
        ],
        empty="no partners",
    )
    synced = [
        (row["id"], module, state["last_sync"] or "never", state["objects"])
        for row in rows
        for module, state in row["sync"].items()
    ]
    if synced:
        print()
        print_table(("PARTNER", "MODULE", "LAST SYNC", "OBJECTS"), synced, empty="")
    return 0


def run_rotate(args: argparse.Namespace) -> int:
    from ocpikit.server.registry import rotate

    return _handshake(
        args, lambda settings, storage, driver: rotate(settings, storage, driver, args.partner)
    )


def run_unregister(args: argparse.Namespace) -> int:
    from ocpikit.server.registry import unregister

    settings = settings_from(args)
    if not run_async(lambda s: unregister(s, args.partner), settings):
        print(f"ocpikit: no partner {args.partner!r}", file=sys.stderr)
        return 1
    print(f"unregistered {args.partner}")
    return 0
