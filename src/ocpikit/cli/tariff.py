"""``ocpikit tariff price``: price a CDR or session against tariffs and explain every cent.

Inputs of any version: the version of each file is detected from its JSON shape (or forced
with ``--version``), the objects are brought to head with :func:`ocpikit.convert.to_head`, and
the engine prices head objects. A file that does not validate as its version (a partner's
minimal CDR, a spec example with errata) is still priced from its raw JSON, with a warning.
Files may hold a bare object, a list, or an OCPI response envelope.

The helpers here (loading, detection, conversion) are shared with ``ocpikit cdr``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ocpikit.cli._files import InputError, load_document
from ocpikit.convert import Context, to_head
from ocpikit.tariffs import Policy, PolicyError, PricingInputError, price

__all__ = [
    "Loaded",
    "add_common_options",
    "detect_version",
    "load_objects",
    "location_zone",
    "policy_from_args",
    "register",
]

VERSIONS = ("2.1.1", "2.2.1", "2.3.0")
_ZERO_PRICE: dict[str, dict[str, int]] = {"2.2.1": {"excl_vat": 0}, "2.3.0": {"before_taxes": 0}}


def register(sub: Any) -> None:
    p = sub.add_parser("tariff", help="price CDRs and sessions against tariffs")
    tsub = p.add_subparsers(dest="tariff_command", metavar="SUBCOMMAND")
    pp = tsub.add_parser(
        "price",
        help="price a CDR (or session) against its tariffs and explain the result",
        description="Price a CDR or a session against one or more tariffs. With --json prints "
        "total_cost, the five cost fields (2.2.1 names, excl_vat/incl_vat), total_energy, "
        "total_time, total_parking_time and the breakdown per period and dimension.",
    )
    pp.add_argument("--tariff", help="tariff JSON: one tariff or a list (default: the CDR's own)")
    src = pp.add_mutually_exclusive_group(required=True)
    src.add_argument("--cdr", help="CDR JSON (a session file is accepted too)")
    src.add_argument("--session", help="session JSON")
    add_common_options(pp)
    pp.add_argument("--json", action="store_true", help="machine-readable output")
    pp.set_defaults(handler=run_price)
    p.set_defaults(handler=lambda args: _usage(p))


def add_common_options(p: argparse.ArgumentParser, version_flag: str = "--version") -> None:
    p.add_argument("--time-zone", help="IANA zone for restrictions (default: the location's)")
    p.add_argument("--location", help="Location JSON whose time_zone to use")
    p.add_argument(
        version_flag,
        dest="version",
        choices=VERSIONS,
        help="force the OCPI version of the inputs (default: detected from the JSON shape)",
    )
    p.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pricing policy setting or preset name (repeatable; see docs/tariffs.md)",
    )
    p.add_argument(
        "--decimals", type=int, default=None, help="round amounts half-up (default: exact)"
    )


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def policy_from_args(args: argparse.Namespace) -> Policy:
    policy = Policy.parse(args.policy)
    if args.decimals is not None:
        policy = policy.with_(decimals=args.decimals)
    return policy


# --- version detection and conversion --------------------------------------------------------


def detect_version(obj: dict[str, Any], name: str) -> str:
    """The OCPI version a Tariff/CDR/Session JSON object most likely has (by its keys)."""
    if name == "Tariff":
        if "tax_included" in obj or "preauthorize_amount" in obj:
            return "2.3.0"
        for key in ("min_price", "max_price"):
            if isinstance(obj.get(key), dict) and "before_taxes" in obj[key]:
                return "2.3.0"
        comps = [
            c
            for e in obj.get("elements") or []
            if isinstance(e, dict)
            for c in e.get("price_components") or []
            if isinstance(c, dict)
        ]
        if (
            "country_code" not in obj
            and "party_id" not in obj
            and not any("vat" in c for c in comps)
        ):
            return "2.1.1"
        return "2.2.1"
    if any(k in obj for k in ("stop_date_time", "auth_id", "start_datetime", "end_datetime")):
        return "2.1.1"
    if isinstance(obj.get("location"), dict):
        return "2.1.1"
    for key in ("total_cost", "total_fixed_cost", "total_energy_cost", "total_time_cost"):
        value = obj.get(key)
        if isinstance(value, dict):
            return "2.3.0" if "before_taxes" in value else "2.2.1"
        if isinstance(value, (int, float)) and key == "total_cost":
            return "2.1.1"
    for t in obj.get("tariffs") or []:
        if isinstance(t, dict):
            return (
                "2.1.1" if detect_version(t, "Tariff") == "2.1.1" else detect_version(t, "Tariff")
            )
    return "2.2.1"


def object_kind(obj: dict[str, Any]) -> str:
    """``Session`` or ``CDR`` by shape (a session has ``kwh`` and ``status``)."""
    return "Session" if ("kwh" in obj or "status" in obj) else "CDR"


@dataclass
class Loaded:
    """An input object: the head model when it converted and validated, else the raw JSON."""

    obj: Any
    raw: dict[str, Any]
    version: str
    name: str
    validated: bool
    warnings: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)


def _to_head(raw: dict[str, Any], version: str, name: str) -> Loaded:
    ctx = Context(
        country_code=str(raw.get("country_code") or "XX"),
        party_id=str(raw.get("party_id") or "XXX"),
    )
    data = raw
    if name == "CDR" and "total_cost" not in raw:
        # a CDR to be priced need not state its total yet: a placeholder lets it validate
        data = {**raw, "total_cost": 0 if version == "2.1.1" else _ZERO_PRICE[version]}
    try:
        model, losses = to_head(data, version, name, ctx)
    except (ValidationError, ValueError, KeyError, TypeError) as exc:
        first = str(exc).splitlines()
        detail = "; ".join(line.strip() for line in first[:3])
        return Loaded(
            obj=raw,
            raw=raw,
            version=version,
            name=name,
            validated=False,
            warnings=[
                f"{name} does not validate as OCPI {version} ({detail}); priced from its raw JSON"
            ],
        )
    return Loaded(
        obj=model,
        raw=raw,
        version=version,
        name=name,
        validated=True,
        losses=[str(loss) for loss in losses],
    )


def load_objects(path: str, name: str | None, forced: str | None) -> list[Loaded]:
    """Every object of a file (bare, list or envelope) brought to head where possible."""
    doc = load_document(path)
    out: list[Loaded] = []
    for i, item in enumerate(doc.items):
        if not isinstance(item, dict):
            raise InputError(f"{path}: item {i} is not a JSON object")
        kind = name or object_kind(item)
        version = forced or detect_version(item, kind)
        out.append(_to_head(item, version, kind))
    if not out:
        raise InputError(f"{path}: no object in the file")
    return out


def location_zone(loaded: Loaded, args: argparse.Namespace) -> str | None:
    if args.time_zone:
        return str(args.time_zone)
    if getattr(args, "location", None):
        loc = load_document(args.location).items[0]
        if isinstance(loc, dict) and loc.get("time_zone"):
            return str(loc["time_zone"])
    location = loaded.raw.get("location")
    if isinstance(location, dict) and location.get("time_zone"):
        return str(location["time_zone"])
    return None


def price_inputs(
    args: argparse.Namespace, session_path: str, tariff_path: str | None
) -> tuple[Any, Loaded, list[Loaded]]:
    """Load, convert and price; returns the result, the priced object and the tariffs."""
    policy = policy_from_args(args)
    session = load_objects(session_path, None, args.version)[0]
    tariffs = load_objects(tariff_path, "Tariff", args.version) if tariff_path else []
    zone = location_zone(session, args)
    origin = tariffs[0].version if tariffs else session.version
    try:
        result = price(
            session.obj,
            [t.obj for t in tariffs] if tariffs else None,
            time_zone=zone,
            policy=policy,
            origin=origin,
        )
    except PricingInputError:
        if not session.validated:
            raise
        # the head form lost something the raw form has: price the raw JSON instead
        result = price(
            session.raw,
            [t.raw for t in tariffs] if tariffs else None,
            time_zone=zone,
            policy=policy,
            origin=origin,
        )
    for loaded in (session, *tariffs):
        result.warnings[:0] = loaded.warnings
    return result, session, tariffs


def run_price(args: argparse.Namespace) -> int:
    path = args.cdr or args.session
    try:
        result, session, tariffs = price_inputs(args, path, args.tariff)
    except (InputError, PricingInputError, PolicyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = result.to_json()
        out["input"] = {
            "object": session.name,
            "version": session.version,
            "validated": session.validated,
            "tariff_versions": [t.version for t in tariffs],
            "losses": session.losses + [loss for t in tariffs for loss in t.losses],
        }
        print(json.dumps(out, indent=2))
    else:
        print(f"{session.name} (OCPI {session.version})")
        print(result.to_table())
    return 0
