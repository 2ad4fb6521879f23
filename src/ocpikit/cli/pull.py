"""``ocpikit pull PARTNER MODULE [--since ...]``: pull a partner's objects into storage, with a
Rich progress bar per module on stderr, or reconcile a module (compare with storage)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ocpikit.cli._output import ModuleProgress
from ocpikit.cli._platform import add_config, logged_partner_http, open_storage, settings_from

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pull",
        help="pull a partner's objects into storage (incremental since the last success)",
        description=(
            "Pull MODULE (locations, tariffs, sessions, cdrs, tokens, a hub's hubclientinfo, or "
            "'all') from PARTNER "
            "into the database. Without --since the pull starts at the last successful pull of "
            "that module, less a 2 s overlap (all objects the first time). A page that fails "
            "is retried (partner switches pull_retries, pull_max_wait); a pull that still "
            "fails keeps what it stored and the next one goes on from there."
        ),
    )
    add_config(p)
    p.add_argument("partner", metavar="PARTNER", help="partner id as listed by `partners`")
    p.add_argument("module", metavar="MODULE", help="module to pull, or 'all'")
    p.add_argument(
        "--since", metavar="DATETIME", help="date_from (RFC 3339, e.g. 2024-03-01T00:00:00Z)"
    )
    p.add_argument("--full", action="store_true", help="ignore the last sync: pull everything")
    p.add_argument("--limit", type=int, metavar="N", help="page size to ask for")
    p.add_argument(
        "--reconcile",
        action="store_true",
        help="full pull compared with storage: report missing here/there and differences",
    )
    p.add_argument(
        "--apply", action="store_true", help="with --reconcile: store the partner's data"
    )
    p.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_pull)


def run_pull(args: argparse.Namespace) -> int:
    from ocpikit.client.background import background_config
    from ocpikit.client.partner import MODULE_OBJECTS, PartnerClient
    from ocpikit.client.sync import (
        HUB_MODULE,
        PULL_MODULES,
        pull_into_storage,
        pullable_modules,
        reconcile,
        remember_auth,
    )
    from ocpikit.core.errors import OcpiError
    from ocpikit.core.types import parse_datetime

    settings = settings_from(args)
    try:
        pull_defaults = background_config(settings.extra).pull_defaults
    except ValueError as exc:
        print(f"ocpikit: {exc}", file=sys.stderr)
        return 2
    since = None
    if args.since:
        try:
            since = parse_datetime(args.since)
        except ValueError:
            print(f"ocpikit: --since {args.since!r} is not an RFC 3339 DateTime", file=sys.stderr)
            return 2
    storage = open_storage(settings)

    async def main(bar: ModuleProgress) -> tuple[int, list[dict[str, Any]]]:
        try:
            partner = await storage.partners.get(args.partner)
            if partner is None:
                print(f"ocpikit: no partner {args.partner!r}", file=sys.stderr)
                return 1, []
            async with logged_partner_http(settings, storage) as http:
                client = PartnerClient(
                    partner,
                    http,
                    on_auth_learned=remember_auth(storage),
                    pull_defaults=pull_defaults,
                )
                if args.module == "all":
                    modules = pullable_modules(client)
                elif args.module in MODULE_OBJECTS and args.module in (*PULL_MODULES, HUB_MODULE):
                    modules = [args.module]
                else:
                    known = ", ".join((*PULL_MODULES, HUB_MODULE))
                    print(
                        f"ocpikit: cannot pull {args.module!r} (one of {known}, all)",
                        file=sys.stderr,
                    )
                    return 2, []
                out: list[dict[str, Any]] = []
                status = 0
                for module in modules:

                    def progress(n: int, t: int | None, m: str = module) -> None:
                        bar(m, n, t)

                    try:
                        if args.reconcile:
                            result = await reconcile(
                                client, storage, module, apply=args.apply, limit=args.limit
                            )
                            row = result.as_dict()
                            bar.done(
                                module,
                                f"{row['same']} same, {len(row['missing_here'])} missing here, "
                                f"{len(row['missing_there'])} missing there, "
                                f"{len(row['different'])} different",
                            )
                        else:
                            report = await pull_into_storage(
                                client,
                                storage,
                                module,
                                since=since,
                                full=args.full,
                                limit=args.limit,
                                progress=progress,
                            )
                            row = report.as_dict()
                            resumed = (
                                f" (went on after {report.resumed_at} read before)"
                                if report.resumed_at is not None
                                else ""
                            )
                            bar.done(
                                module,
                                f"{report.seen} seen{resumed}: {report.created} new, "
                                f"{report.updated} updated, {report.unchanged} unchanged, "
                                f"{report.skipped} invalid, {report.refused} refused",
                            )
                    except OcpiError as exc:
                        status = 1
                        row = _failure_row(module, exc)
                        bar.done(module, f"failed: {exc.message}")
                    out.append(row)
                return status, out
        finally:
            await storage.aclose()

    with ModuleProgress.open(quiet=args.quiet or args.json) as bar:
        status, rows = asyncio.run(main(bar))
    if args.json:
        print(json.dumps(rows, indent=2))
    return status


def _failure_row(module: str, exc: Exception) -> dict[str, Any]:
    """The ``--json`` row of a module whose pull failed: the message (which names the page, the
    HTTP and OCPI status and the wait honoured) and, for a page that gave up
    (:class:`~ocpikit.core.errors.PullFailed`), those facts as fields."""
    from ocpikit.core.errors import OcpiError, PullFailed

    assert isinstance(exc, OcpiError)
    row: dict[str, Any] = {"module": module, "error": exc.message, "status_code": exc.status_code}
    if isinstance(exc, PullFailed):
        row.update(
            page=exc.page,
            attempts=exc.attempts,
            http_status=exc.partner_http_status,
            ocpi_status=exc.ocpi_status,
            retry_after=exc.retry_after,
        )
    return row
