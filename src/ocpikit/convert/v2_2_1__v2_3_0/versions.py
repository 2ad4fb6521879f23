"""Versions module objects between OCPI 2.2.1 and 2.3.0 (2.3.0 version_information_endpoint).

Version, Endpoint and VersionDetails have the same fields; 2.3.0 only opens the ModuleID and
VersionNumber enums. Up is the identity. Down drops endpoints of the modules that exist only
from 2.3.0 on (payments, bookings/Booking, invoicereconciliation), since a 2.2.1 peer would
treat them as unagreed custom modules; each is reported. Agreed custom modules pass through.
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path

__all__ = ["DOWN", "RULES", "UP"]

R_MODULE = LossRule(
    id="2.3.0>2.2.1 Endpoint.identifier",
    object="VersionDetails",
    field="endpoints[].identifier",
    source="payments, bookings, invoicereconciliation",
    target="(endpoint dropped)",
    kind="dropped",
    note="modules that 2.2.1 does not define",
)

RULES: list[LossRule] = [R_MODULE]

_NEW_MODULES = {"payments", "bookings", "booking", "invoicereconciliation"}


def _down_details(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    endpoints = data.get("endpoints")
    if not isinstance(endpoints, list):
        return out
    base = join_path(path, "endpoints")
    kept = []
    for i, e in enumerate(endpoints):
        identifier = e.get("identifier") if isinstance(e, dict) else None
        if isinstance(identifier, str) and identifier.lower() in _NEW_MODULES:
            ctx.lose(R_MODULE, join_path(base, i), identifier)
            continue
        kept.append(e)
    out["endpoints"] = kept
    return out


UP: dict[str, Converter] = {}
DOWN: dict[str, Converter] = {"VersionDetails": _down_details}
