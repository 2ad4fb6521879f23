"""``ocpikit validate FILE --version V [--object NAME]``.

Prints ``valid`` (exit 0) or one line per problem, each starting with its JSON path relative to
the object (``evses[0].connectors[1].max_voltage: ...``; list items are prefixed ``[i]``), exit 1.
A file may hold one object, a list of objects, or an OCPI response envelope (its ``data`` is
validated). Without ``--object`` the kind is detected from the keys (:mod:`ocpikit.models.detect`)
and named on stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import ValidationError

from ocpikit.cli._files import Document, InputError, load_document
from ocpikit.core.errors import validation_problems
from ocpikit.core.versions import SUPPORTED_VERSIONS
from ocpikit.models import OBJECTS, model_for
from ocpikit.models.base import OcpiModel
from ocpikit.models.detect import detect_object

__all__ = ["register", "resolve_object", "validate_items"]

VERSION_CHOICES = [v.text for v in SUPPORTED_VERSIONS]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="validate an OCPI JSON file against a version's model",
        description="Validate one object, a list of objects or a response envelope.",
    )
    p.add_argument("file", metavar="FILE", help="JSON file ('-' for stdin)")
    p.add_argument("--version", required=True, choices=VERSION_CHOICES, help="OCPI version")
    p.add_argument("--object", dest="object", help="object name, e.g. Location (default: detect)")
    p.add_argument("--patch", action="store_true", help="the file is a PATCH body")
    p.set_defaults(handler=run)


def resolve_object(doc: Document, version: str, name: str | None) -> str:
    """The object name to validate ``doc`` as; raises InputError when it cannot be told."""
    if name is not None:
        if name not in OBJECTS[version]:
            close = [n for n in OBJECTS[version] if n.lower() == name.lower()]
            if close:
                return close[0]
            raise InputError(f"unknown object {name!r} in OCPI {version}")
        return name
    sample = next((item for item in doc.items if isinstance(item, dict)), None)
    detected = detect_object(version, sample)
    if detected is None:
        raise InputError("cannot detect the object type; pass --object NAME")
    return detected


def validate_items(
    doc: Document, model: type[OcpiModel], *, patch: bool = False
) -> tuple[list[Any], list[str]]:
    """Validate every item; return the validated JSON forms and the problems."""
    problems: list[str] = []
    results: list[Any] = []
    for index, item in enumerate(doc.items):
        prefix: tuple[int, ...] = (index,) if doc.is_list else ()
        try:
            if patch:
                results.append(model.parse_patch(item))
            else:
                results.append(model.model_validate(item).dump())
        except ValidationError as exc:
            problems.extend(validation_problems(exc, prefix=prefix))
    return results, problems


def run(args: argparse.Namespace) -> int:
    try:
        doc = load_document(args.file)
        name = resolve_object(doc, args.version, args.object)
    except InputError as exc:
        print(str(exc))
        return 1
    if args.object is None:
        print(f"object: {name} (detected)", file=sys.stderr)
    _, problems = validate_items(doc, model_for(args.version, name), patch=args.patch)
    if problems:
        for line in problems:
            print(line)
        return 1
    print("valid")
    return 0
