"""``ocpikit cdr disputes``: the received CDRs whose check needs the operator (verdict
``disputed`` or ``unverifiable``), and their resolution (docs/cdrs.md).

- ``cdr disputes [--partner P] [--since T] [--json|--csv]``: ``--json`` prints a list of
  ``{"cdr_id", "partner", "verdict", "reasons": [...], "differences": {...}, ...}``;
  ``--since`` is an ISO 8601 time or a duration back from now (``24h``, ``7d``);
- ``cdr disputes --accept CDR_ID | --contest CDR_ID [--note TEXT] [--party CC-PID]``: record
  the operator's resolution of one check.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from typing import Any

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import add_config, run_async, settings_from

__all__ = ["add_disputes"]


def add_disputes(csub: Any) -> None:
    p = csub.add_parser(
        "disputes",
        help="received CDRs whose check found a dispute (or could not price them)",
        description="Lists the checks with verdict disputed or unverifiable; --accept or "
        "--contest records a resolution.",
    )
    add_config(p)
    p.add_argument("--partner", metavar="P", help="only CDRs from this partner")
    p.add_argument("--since", metavar="T", help="checked at or after T (ISO 8601, or 24h, 7d)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="a JSON list")
    out.add_argument("--csv", action="store_true", help="CSV with a header row")
    act = p.add_mutually_exclusive_group()
    act.add_argument("--accept", metavar="CDR_ID", help="mark the dispute of this CDR accepted")
    act.add_argument("--contest", metavar="CDR_ID", help="mark the dispute of this CDR contested")
    p.add_argument("--note", help="the note recorded with --accept/--contest")
    p.add_argument("--party", metavar="CC-PID", help="the CDR's party, when the id is ambiguous")
    p.set_defaults(handler=run_disputes)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    from ocpikit.core.types import parse_datetime
    from ocpikit.operations import parse_duration

    try:
        back = parse_duration(text)
    except ValueError:
        back = None
        try:
            return parse_datetime(text)
        except ValueError:
            raise ValueError(f"--since: {text!r} is neither a time nor a duration") from None
    if back is None:
        raise ValueError(f"--since: {text!r} is not a duration back from now")
    return datetime.now(UTC) - back


def run_disputes(args: argparse.Namespace) -> int:
    from ocpikit.operations.cdr_checks import list_checks, resolve_check

    settings = settings_from(args)
    if args.accept or args.contest:
        party = None
        if args.party:
            cc, _, pid = args.party.partition("-")
            party = (cc, pid)
        cdr_id = args.accept or args.contest
        resolution = "accepted" if args.accept else "contested"
        try:
            row = run_async(
                lambda s: resolve_check(s, cdr_id, resolution, args.note, party=party), settings
            )
        except (LookupError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(row, indent=2) if args.json else f"CDR {cdr_id}: {resolution}")
        return 0
    try:
        since = _since(args.since)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = run_async(
        lambda s: list_checks(s, partner=args.partner, since=since, disputes=True), settings
    )
    if args.json:
        print(json.dumps(rows, indent=2))
    elif args.csv:
        _csv(rows)
    else:
        print_table(
            ("CDR", "PARTNER", "VERDICT", "REASONS", "DIFFERENCES", "RESOLUTION"),
            [
                (
                    r["cdr_id"],
                    r["partner"],
                    r["verdict"],
                    ", ".join(r["reasons"]),
                    _differences(r["differences"]),
                    r["resolution"],
                )
                for r in rows
            ],
            empty="no disputes",
        )
    return 0


def _differences(diff: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v.get('difference')}" for k, v in diff.items())


_CSV_COLUMNS = (
    "cdr_id",
    "country_code",
    "party_id",
    "partner",
    "verdict",
    "reasons",
    "differences",
    "checked_at",
    "resolution",
    "note",
)


def _csv(rows: list[dict[str, Any]]) -> None:
    w = csv.writer(sys.stdout)
    w.writerow(_CSV_COLUMNS)
    for r in rows:
        w.writerow(
            (
                r["cdr_id"],
                r["country_code"],
                r["party_id"],
                r["partner"],
                r["verdict"],
                " ".join(r["reasons"]),
                json.dumps(r["differences"], separators=(",", ":")),
                r["checked_at"],
                r["resolution"],
                r["note"],
            )
        )
