"""``ocpikit cdr credit``: correct a CDR of ours with a Credit CDR and a new CDR (OCPI 2.2.1
cdrs §10.3, docs/cdrs.md "Corrections"), both stored and queued for the partners like
``POST /admin/api/cdrs/{id}/credit``.

``cdr credit CDR_ID [--party CC-PID] [--credit-id ID] [--new-id ID] [--cdr NEW.json |
--no-rebuild] [--json]``: the new CDR is the one in NEW.json (head, 2.3.0, JSON), else rebuilt
from the session with the tariffs held now; ``--no-rebuild`` sends the Credit CDR only. Exit 0,
2 when the CDR is unknown or cannot be credited (the message names the field).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from ocpikit.cli._files import InputError, load_document
from ocpikit.cli._platform import add_config, run_async, settings_from

__all__ = ["add_credit"]


def add_credit(csub: Any) -> None:
    p = csub.add_parser(
        "credit",
        help="correct a CDR of ours: a Credit CDR, then a new CDR (both pushed)",
        description="Sends a Credit CDR (the original's id + -C, costs negated) and a new CDR "
        "(given with --cdr, else rebuilt from the session).",
    )
    add_config(p)
    p.add_argument("cdr_id", metavar="CDR_ID")
    p.add_argument("--party", metavar="CC-PID", help="our party (when we are several)")
    p.add_argument("--credit-id", help="id of the Credit CDR (default: CDR_ID-C)")
    p.add_argument("--new-id", help="id of the new CDR (default: CDR_ID-2, -3, ...)")
    new = p.add_mutually_exclusive_group()
    new.add_argument("--cdr", metavar="NEW.json", help="the new CDR (head, 2.3.0)")
    new.add_argument("--no-rebuild", action="store_true", help="send the Credit CDR only")
    p.add_argument("--json", action="store_true", help="print both CDRs as JSON")
    p.set_defaults(handler=run_credit)


def run_credit(args: argparse.Namespace) -> int:
    from ocpikit.operations.cdr_credits import credit_cdr
    from ocpikit.protocol.ports import ObjectKey

    settings = settings_from(args)
    ours = settings.parties
    if args.party:
        cc, _, pid = args.party.partition("-")
    elif len(ours) == 1:
        cc, pid = ours[0].country_code, ours[0].party_id
    else:
        print("error: --party: we are several parties, name one (CC-PID)", file=sys.stderr)
        return 2
    replacement = None
    if args.cdr:
        try:
            replacement = load_document(args.cdr).items[0]
        except (InputError, IndexError) as exc:
            print(f"error: --cdr: {exc}", file=sys.stderr)
            return 2
    try:
        done = run_async(
            lambda s: credit_cdr(
                s,
                ObjectKey("CDR", cc, pid, args.cdr_id),
                now=datetime.now(UTC),
                credit_id=args.credit_id,
                new_id=args.new_id,
                replacement=replacement,
                rebuild=not args.no_rebuild,
                rules=settings.routing,
            ),
            settings,
        )
    except (LookupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(done, indent=2))
    else:
        new = done["cdr"]
        print(f"credit CDR {done['credit']['id']}" + (f", new CDR {new['id']}" if new else ""))
    return 0
