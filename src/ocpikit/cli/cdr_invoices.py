"""``ocpikit cdr invoices``: the Invoice Reconciliation records the platform holds (OCPI 2.3.0,
ours and partners'), each checked against our CDRs and their checked totals (docs/cdrs.md).

``cdr invoices [--partner P | --own] [--differences] [--json]``: ``--json`` prints the list
of :func:`ocpikit.operations.invoice_checks.check_record` rows.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ocpikit.cli._output import print_table
from ocpikit.cli._platform import add_config, run_async, settings_from

__all__ = ["add_invoices"]


def add_invoices(csub: Any) -> None:
    p = csub.add_parser(
        "invoices",
        help="Invoice Reconciliation records held, checked against our CDRs (2.3.0)",
    )
    add_config(p)
    who = p.add_mutually_exclusive_group()
    who.add_argument("--partner", metavar="P", help="only the records of this partner")
    who.add_argument("--own", action="store_true", help="only our own records")
    p.add_argument("--differences", action="store_true", help="only records with differences")
    p.add_argument("--json", action="store_true", help="a JSON list")
    p.set_defaults(handler=run_invoices)


def run_invoices(args: argparse.Namespace) -> int:
    from ocpikit.operations.invoice_checks import list_invoice_checks

    settings = settings_from(args)
    rows = run_async(
        lambda s: list_invoice_checks(
            s, partner=args.partner, own=args.own, differences=args.differences
        ),
        settings,
    )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(
        ("RECORD", "PARTNER", "INVOICE", "CDRS", "DECLARED", "CHECKED", "VERDICT", "DIFFERENCES"),
        [
            (
                r["record_id"],
                r["partner"] or "(ours)",
                r["invoice_id"],
                r["cdrs"],
                r["declared_total"]["excl_vat"],
                r["checked_total"]["excl_vat"],
                r["verdict"],
                _summary(r),
            )
            for r in rows
        ],
        empty="no invoice reconciliation records",
    )
    return 0


def _summary(row: dict[str, Any]) -> str:
    parts = [
        f"{name} {', '.join(x if isinstance(x, str) else x['cdr_id'] for x in row[name])}"
        for name in ("missing", "repeated", "disputed", "unchecked")
        if row[name]
    ]
    return "; ".join(parts)
