"""``ocpikit convert FILE --from V1 --to V2 [--object NAME]``.

Validates the file in ``--from`` (problems → stdout, exit 1, as ``validate``), converts every
object, and prints the converted JSON on stdout (an envelope stays an envelope, a list a list) and
one line per loss on stderr (``lost: <path>: <rule> (<detail>)``), exit 0. Objects of 2.1.1 carry
no country_code/party_id: pass ``--party CC-PID`` (and ``--role`` for Credentials) going up.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import ValidationError

from ocpikit.cli._files import InputError, load_document, write_json
from ocpikit.cli.validate import VERSION_CHOICES, resolve_object, validate_items
from ocpikit.convert import Context, convert
from ocpikit.core.errors import validation_problems
from ocpikit.models import OBJECTS, model_for

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "convert",
        help="convert an OCPI JSON file between versions, reporting what is lost",
        description="Convert one object, a list or an envelope between OCPI versions.",
    )
    p.add_argument("file", metavar="FILE", help="JSON file ('-' for stdin)")
    p.add_argument("--from", dest="source", required=True, choices=VERSION_CHOICES)
    p.add_argument("--to", dest="target", required=True, choices=VERSION_CHOICES)
    p.add_argument("--object", dest="object", help="object name, e.g. Location (default: detect)")
    p.add_argument("--party", metavar="CC-PID", help="owner of 2.1.1 objects, e.g. NL-TNM")
    p.add_argument("--role", help="role of a 2.1.1 Credentials object going up (CPO, EMSP)")
    p.set_defaults(handler=run)


def _context(args: argparse.Namespace) -> Context:
    ctx = Context(role=args.role)
    if args.party:
        cc, _, pid = args.party.partition("-")
        if len(cc) != 2 or not 1 <= len(pid) <= 3:
            raise InputError(f"--party must look like NL-TNM, got {args.party!r}")
        ctx.country_code, ctx.party_id = cc.upper(), pid.upper()
    return ctx


def run(args: argparse.Namespace) -> int:
    try:
        doc = load_document(args.file)
        name = resolve_object(doc, args.source, args.object)
        ctx = _context(args)
    except InputError as exc:
        print(str(exc))
        return 1
    if args.object is None:
        print(f"object: {name} (detected)", file=sys.stderr)
    if name not in OBJECTS[args.target]:
        print(f"{name} does not exist in OCPI {args.target}; nothing to convert to")
        return 1
    items, problems = validate_items(doc, model_for(args.source, name))
    if problems:
        for line in problems:
            print(line)
        return 1
    target_model = model_for(args.target, name)
    out: list[Any] = []
    for index, item in enumerate(items):
        converted, losses = convert(item, name, args.source, args.target, ctx)
        prefix = f"[{index}]" if doc.is_list else ""
        for loss in losses:
            where = prefix + ("." + loss.path if prefix and loss.path else loss.path)
            detail = f" ({loss.detail})" if loss.detail else ""
            print(f"lost: {where or '(root)'}: {loss.rule}{detail}", file=sys.stderr)
        try:
            out.append(target_model.model_validate(converted).dump())
        except ValidationError as exc:  # a converter bug: say so rather than print bad JSON
            for line in validation_problems(exc, prefix=(index,) if doc.is_list else ()):
                print(f"conversion produced invalid {args.target} {name}: {line}")
            return 1
    print(write_json(doc.rewrap(out if doc.is_list else out[0])))
    return 0
