"""``ocpikit afir``: AFIR data for National Access Points (docs/afir.md).

- ``afir check [--location ID] [--json]``: every AFIR data item (Tables A, B, F) of our
  locations and EVSEs as present / derivable / missing, with the OCPI field that would carry
  it, and the share of complete locations. Exit status 0 when every checked location is
  complete, 1 when one is not.
- ``afir export --format datex2-json|datex2-xml [--profile mobilithek|datex2-3.7]
  [--out FILE]``: the static DATEX II table publication of every published location (what
  ``GET /nap/static`` serves).

Both read the platform's database (``--config``) and the ``[afir]`` supplement.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.markup import escape

from ocpikit.afir.check import check_locations
from ocpikit.afir.export import FORMATS, PROFILES, ExportError, render_static
from ocpikit.afir.mobilithek import Dataset
from ocpikit.afir.source import load_dataset
from ocpikit.afir.supplement import Supplement, SupplementError, parse_supplement
from ocpikit.cli._output import print_table
from ocpikit.cli._platform import add_config, run_async, settings_from
from ocpikit.protocol.ports import Storage
from ocpikit.server.settings import Settings

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("afir", help="AFIR: data check and DATEX II export for NAPs")
    asub = p.add_subparsers(dest="afir_command", metavar="ACTION", required=True)

    ck = asub.add_parser("check", help="which AFIR data items each location has or lacks")
    add_config(ck)
    ck.add_argument("--location", metavar="ID", help="one location, every item listed")
    ck.add_argument("--json", action="store_true", help="the full report as JSON")
    ck.set_defaults(handler=run_check)

    ex = asub.add_parser("export", help="the static DATEX II publication of published locations")
    add_config(ex)
    ex.add_argument("--format", required=True, choices=FORMATS)
    ex.add_argument("--profile", choices=PROFILES, help="default: mobilithek (JSON), 3.7 (XML)")
    ex.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    ex.set_defaults(handler=run_export)


def _supplement(settings: Settings) -> Supplement:
    try:
        return parse_supplement(settings.extra.get("afir"))
    except SupplementError as exc:
        print(f"ocpikit: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _dataset(args: argparse.Namespace) -> Dataset:
    settings = settings_from(args, recorded_base_url=False)
    config = _supplement(settings)

    async def load(storage: Storage) -> Dataset:
        return await load_dataset(storage, config, datetime.now(UTC))

    return run_async(load, settings)


def run_check(args: argparse.Namespace) -> int:
    ds = _dataset(args)
    locations = [loc for loc in ds.locations if args.location in (None, loc["id"])]
    if args.location is not None and not locations:
        print(f"ocpikit: no location {args.location!r} of ours", file=sys.stderr)
        return 2
    report = check_locations(locations, ds.supplement, ds.tariffs)
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.location is not None:
        _print_location(report["locations"][0])
    else:
        _print_summary(report)
    return 0 if report["summary"]["complete"] == report["summary"]["locations"] else 1


def _print_location(loc: dict[str, Any]) -> None:
    rows = [
        (r["item"], r["state"], r["name"], r["ocpi_field"], escape(r.get("source", "")))
        for r in loc["items"]
    ]
    for evse in loc["evses"]:
        rows += [
            (
                r["item"],
                r["state"],
                escape(f"{r['name']} [{evse['uid']}]"),
                r["ocpi_field"],
                escape(r.get("source", "")),
            )
            for r in evse["items"]
        ]
    print(f"Location {loc['id']}: {'complete' if loc['complete'] else 'incomplete'}")
    print_table(("ITEM", "STATE", "DATA ITEM", "OCPI FIELD", "FROM"), rows, empty="no items")


def _print_summary(report: dict[str, Any]) -> None:
    s = report["summary"]
    print(
        f"{s['complete']} of {s['locations']} locations complete "
        f"({s['complete_share'] * 100:.1f} %)"
    )
    print_table(
        ("ITEM", "MISSING AT", "DATA ITEM", "OCPI FIELD"),
        [
            (m["item"], f"{m['locations']} locations", m["name"], m["ocpi_field"])
            for m in s["missing"]
        ],
        empty="no AFIR data item is missing",
    )


def run_export(args: argparse.Namespace) -> int:
    ds = _dataset(args)
    try:
        body, _media = render_static(ds, args.format, args.profile)
    except ExportError as exc:
        print(f"ocpikit: {exc}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_bytes(body)
        print(f"wrote {len(body)} bytes to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    return 0
