"""``ocpikit cdr``: check a CDR (reconciliation), build one from a session, check an invoice.

- ``cdr check CDR.json [--tariff T.json] [--session S.json] [--original C.json] [--json]``:
  exit 0 when the CDR reconciles, 1 with the discrepancies (reason codes, amount at stake),
  2 when the inputs cannot be read.
- ``cdr build --session S.json --tariff T.json --version 2.2.1 [--location L.json]``: the CDR
  of a finished session, costs filled, in the asked version (through ``convert.from_head``).
- ``cdr invoice RECORD.json --cdrs CDRS.json [--total X] [--tariff T.json]``: 2.3.0 Invoice
  Reconciliation: the expected total of the record's CDRs, compared with the invoice's.
- ``cdr disputes [--partner P] [--since T] [--json|--csv]``: the platform's checks of received
  CDRs that need the operator (:mod:`ocpikit.cli.cdr_disputes`).
- ``cdr credit CDR_ID [...]``: correct a CDR of ours, a Credit CDR and a new CDR
  (:mod:`ocpikit.cli.cdr_credit`).
- ``cdr invoices [--partner P | --own] [--differences] [--json]``: the Invoice Reconciliation
  records held, checked against our CDRs (:mod:`ocpikit.cli.cdr_invoices`).
- ``cdr estimates [--partner P] [--status S] [--differences] [--json]``: partners' sessions'
  reported cost against the engine's estimate (:mod:`ocpikit.cli.cdr_estimates`).
- ``cdr work [--once]``: the CDR checks and builds in a process of their own
  (:mod:`ocpikit.cli.cdr_work`).
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from ocpikit.cli._files import InputError, load_document
from ocpikit.cli.cdr_credit import add_credit
from ocpikit.cli.cdr_disputes import add_disputes
from ocpikit.cli.cdr_estimates import add_estimates
from ocpikit.cli.cdr_invoices import add_invoices
from ocpikit.cli.cdr_work import add_work
from ocpikit.cli.tariff import (
    VERSIONS,
    Loaded,
    add_common_options,
    load_objects,
    location_zone,
    policy_from_args,
)
from ocpikit.convert import Context, from_head
from ocpikit.tariffs import PolicyError, PricingInputError
from ocpikit.tariffs.builder import build_cdr
from ocpikit.tariffs.reconcile import check_cdr, reconcile_invoice

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("cdr", help="check CDRs against tariffs and sessions; build CDRs")
    csub = p.add_subparsers(dest="cdr_command", metavar="SUBCOMMAND")

    check = csub.add_parser(
        "check",
        help="reconcile a CDR with its tariffs, its session and the version rules",
        description="Exit 0 when the CDR reconciles, 1 with discrepancies, 2 on bad input.",
    )
    check.add_argument("cdr", metavar="CDR.json")
    check.add_argument("--tariff", help="tariff JSON (default: the CDR's embedded tariffs)")
    check.add_argument("--session", help="the session the CDR came from")
    check.add_argument("--original", help="the original CDR, when checking a credit CDR")
    check.add_argument(
        "--tolerance", default="0.005", help="amount differences ignored (default 0.005)"
    )
    add_common_options(check)
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(handler=run_check)

    build = csub.add_parser("build", help="build the CDR of a finished session")
    build.add_argument("--session", required=True, help="session JSON (finished)")
    build.add_argument("--tariff", required=True, help="tariff JSON: one tariff or a list")
    build.add_argument(
        "--version",
        dest="out_version",
        choices=VERSIONS,
        default="2.2.1",
        help="OCPI version of the CDR written (default 2.2.1)",
    )
    build.add_argument("--id", dest="cdr_id", help="CDR id (default: the session id)")
    add_common_options(build, version_flag="--input-version")
    build.set_defaults(handler=run_build)

    inv = csub.add_parser(
        "invoice", help="2.3.0 Invoice Reconciliation: a record's CDRs vs the invoice total"
    )
    inv.add_argument("record", metavar="RECORD.json")
    inv.add_argument("--cdrs", required=True, help="JSON list (or envelope) of the CDRs")
    inv.add_argument("--total", help="the invoiced total to compare with")
    inv.add_argument("--tariff", help="tariff JSON to re-price each CDR with")
    inv.add_argument("--no-recompute", action="store_true", help="only add up declared totals")
    add_common_options(inv)
    inv.add_argument("--json", action="store_true", help="machine-readable output")
    inv.set_defaults(handler=run_invoice)
    add_disputes(csub)
    add_credit(csub)
    add_invoices(csub)
    add_estimates(csub)
    add_work(csub)
    p.set_defaults(handler=lambda args: _usage(p))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def _decimal(text: str, what: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise InputError(f"{what}: {text!r} is not a number") from None


def _obj(loaded: Loaded) -> Any:
    """What reconciliation reads: the raw JSON (it keeps what the partner actually stated,
    e.g. a 2.2.1 incl_vat, which head would recompute)."""
    return loaded.raw


def run_check(args: argparse.Namespace) -> int:
    try:
        policy = policy_from_args(args)
        cdr = load_objects(args.cdr, "CDR", args.version)[0]
        tariffs = load_objects(args.tariff, "Tariff", args.version) if args.tariff else None
        session = load_objects(args.session, "Session", args.version)[0] if args.session else None
        original = load_objects(args.original, "CDR", args.version)[0] if args.original else None
        zone = args.time_zone
        if zone is None and args.location:
            loc = load_document(args.location).items[0]
            zone = loc.get("time_zone") if isinstance(loc, dict) else None
        report = check_cdr(
            _obj(cdr),
            None if tariffs is None else [t.raw for t in tariffs],
            None if session is None else _obj(session),
            original=None if original is None else _obj(original),
            time_zone=zone,
            policy=policy,
            origin=tariffs[0].version if tariffs else cdr.version,
            tolerance=_decimal(args.tolerance, "--tolerance"),
        )
    except (InputError, PricingInputError, PolicyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = report.to_json()
        out["input"] = {"version": cdr.version, "validated": cdr.validated, "issues": cdr.warnings}
        print(json.dumps(out, indent=2))
    else:
        verdict = "reconciles" if report.ok else f"{len(report.discrepancies)} discrepancies"
        print(f"CDR {report.cdr_id} (OCPI {cdr.version}): {verdict}")
        for d in report.discrepancies:
            stake = "" if d.amount is None else f"  [at stake {d.amount.normalize():f}]"
            print(f"  {d.code:<16} {d.field:<28} {d.message}{stake}")
        for n in report.notes:
            print(f"  note: {n.code:<16} {n.field:<22} {n.message}")
        for w in cdr.warnings:
            print(f"  input: {w}")
    return 0 if report.ok else 1


def run_build(args: argparse.Namespace) -> int:
    try:
        policy = policy_from_args(args)
        session = load_objects(args.session, "Session", args.version)[0]
        tariffs = load_objects(args.tariff, "Tariff", args.version)
        location = load_document(args.location).items[0] if args.location else None
        if location is None and isinstance(session.raw.get("location"), dict):
            location = session.raw["location"]  # a 2.1.1 session embeds its Location
        if not session.validated:
            raise InputError(f"{args.session}: {'; '.join(session.warnings)}")
        built = build_cdr(
            session.obj,
            [t.obj for t in tariffs],
            cdr_id=args.cdr_id,
            location=location,
            time_zone=location_zone(session, args),
            policy=policy,
            origin=tariffs[0].version,
            decimals=2 if args.decimals is None else args.decimals,
        )
        target = args.out_version
        out, losses = from_head(built.cdr, target, "CDR", Context())
    except (InputError, PricingInputError, PolicyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for w in built.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for loss in losses:
        print(f"lost converting to {target}: {loss}", file=sys.stderr)
    print(json.dumps(out.dump(), indent=2))
    return 0


def run_invoice(args: argparse.Namespace) -> int:
    try:
        policy = policy_from_args(args)
        record = load_document(args.record).items[0]
        cdrs = [c.raw for c in load_objects(args.cdrs, "CDR", args.version)]
        tariffs = load_objects(args.tariff, "Tariff", args.version) if args.tariff else None
        report = reconcile_invoice(
            record,
            cdrs,
            invoiced_total=None if args.total is None else _decimal(args.total, "--total"),
            tariffs=None if tariffs is None else [t.raw for t in tariffs],
            recompute=not args.no_recompute,
            time_zone=args.time_zone,
            policy=policy,
        )
    except (InputError, PricingInputError, PolicyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        t = report.declared_total
        print(
            f"invoice {report.invoice_id} (record {report.record_id}): "
            f"{len(report.per_cdr)} CDRs, expected total {t.excl} excl / {t.incl} incl "
            f"{report.currency or ''}"
        )
        for d in report.discrepancies:
            print(f"  {d.code:<16} {d.field:<28} {d.message}")
    return 0 if report.ok else 1
