"""``ocpikit ocmf verify``: check the OCMF signed meter values of a file (see docs/eichrecht.md).

FILE may hold an OCMF string (one per line for several), an OCPI SignedData JSON, a CDR JSON
(bare or in a response envelope) or a SAFE transparency-software XML file; ``-`` reads stdin.

Exit codes: 0 every signature valid (and, for a CDR, the signed energy matches
``total_energy``); 1 a signature is invalid, the key does not fit, the readings are inconsistent
or the energy does not match; 2 the input cannot be verified here (unsupported format or curve,
no public key, unreadable input or file).
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ocpikit.eichrecht import DEFAULT_TOLERANCE_KWH, Report, verify_input

__all__ = ["register", "run_verify"]

EXIT_VALID = 0
EXIT_FAILED = 1
EXIT_UNVERIFIABLE = 2


def _tolerance(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError("must be a non-negative number of kWh")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser("ocmf", help="OCMF (Eichrecht) signed meter values")
    ocmf_sub = p.add_subparsers(dest="ocmf_command", metavar="SUBCOMMAND")
    v = ocmf_sub.add_parser(
        "verify",
        help="verify OCMF signatures in an OCMF string, SignedData JSON or CDR",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.add_argument("file", metavar="FILE", help="input file, or - for stdin")
    v.add_argument(
        "--public-key",
        metavar="HEX",
        help="public key (hex or base64; DER SPKI or bare point); overrides keys in the file",
    )
    v.add_argument("--json", action="store_true", help="machine-readable output")
    v.add_argument(
        "--tolerance",
        metavar="KWH",
        type=_tolerance,
        default=DEFAULT_TOLERANCE_KWH,
        help=f"allowed |signed energy - CDR total_energy| in kWh (default {DEFAULT_TOLERANCE_KWH})",
    )
    v.set_defaults(handler=run_verify)
    p.set_defaults(handler=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_UNVERIFIABLE


def _read(path: str) -> str:
    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def run_verify(args: argparse.Namespace) -> int:
    try:
        text = _read(args.file)
    except OSError as exc:
        message = f"cannot read {args.file}: {exc.strerror or exc}"
        if args.json:
            print(
                json.dumps(
                    {"status": "malformed", "valid": False, "exit_code": 2, "message": message}
                )
            )
        else:
            print(f"error: {message}", file=sys.stderr)
        return EXIT_UNVERIFIABLE
    report = verify_input(text, args.public_key, tolerance_kwh=args.tolerance)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(_render(report))
    return report.exit_code


def _render(report: Report) -> str:
    lines = [
        f"OCMF verification: {report.status.value.upper()} ({report.source})",
        f"  {report.message}",
    ]
    for r in report.records:
        how = ", ".join(x for x in (r.algorithm, r.backend and f"via {r.backend}") if x)
        lines.append(f"  - {r.label}: {r.status.value}" + (f" [{how}]" if how else ""))
        if r.status.value != "valid":
            lines.append(f"      {r.message}")
        if r.record is not None:
            p = r.record.payload
            meter = " ".join(x for x in (p.MV, p.MM, p.MS) if x)
            if meter:
                lines.append(f"      meter: {meter}")
            for reading in p.RD:
                if reading.RV is None:
                    continue
                lines.append(
                    f"      {reading.tx or '?'} {reading.RV} {reading.RU or ''} {reading.RI or ''}"
                    f" {reading.TM or ''}".rstrip()
                )
            lines.extend(f"      warning: {w}" for w in r.record.warnings)
    energy = report.energy
    if energy is not None:
        if energy.signed_kwh is not None:
            lines.append(f"  signed energy: {energy.signed_kwh} kWh")
            for t in energy.transactions:
                lines.append(
                    f"      {t.register}: {t.begin.RV} -> {t.end.RV} {t.unit or ''} = {t.kwh} kWh"
                )
        if energy.cdr_kwh is not None:
            verdict = {True: "matches", False: "DOES NOT MATCH", None: "not checked"}[
                energy.matches
            ]
            lines.append(
                f"  CDR total_energy: {energy.cdr_kwh} kWh, {verdict}"
                f" (tolerance {energy.tolerance_kwh} kWh)"
            )
        lines.extend(f"  problem: {p}" for p in energy.problems)
        lines.extend(f"  note: {n}" for n in energy.notes)
    return "\n".join(lines)
