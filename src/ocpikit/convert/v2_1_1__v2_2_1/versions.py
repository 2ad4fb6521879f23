"""Versions module objects between OCPI 2.1.1 and 2.2.1 (DIGEST §2.1, §6.1; 2.1.1/2.2.1
version_information_endpoint).

``Version`` (an entry of the versions list) is the same in both. ``Endpoint`` gains ``role``
(InterfaceRole) in 2.2: a 2.1.1 endpoint list belongs to one party role, and which interface
each module is follows from it (a CPO sends Locations, Sessions, CDRs and Tariffs and receives
Tokens and Commands; an eMSP the reverse; Credentials is announced as SENDER). The party role
is ``ctx.role``, else guessed from a ``/cpo/`` or ``/emsp/``/``/msp/`` URL segment, else CPO;
a guess or default is reported.

``VersionDetails.version`` is not rewritten: the endpoints still serve the version they serve.
Going down, 2.1.1 can list a module once, so only the interface of this connection's role is
kept (``ctx.role``; else the first entry of each module), and the 2.2-only modules
(chargingprofiles, hubclientinfo) are dropped; each is reported.
"""

from __future__ import annotations

from typing import Any

from ocpikit.convert.base import Context, Converter, LossRule, join_path

__all__ = ["DOWN", "RULES", "UP", "interface_of"]

R_ROLE = LossRule(
    id="2.1.1>2.2.1 Endpoint.role",
    object="Endpoint",
    field="role",
    source="(implied by the party role)",
    target="role",
    kind="defaulted",
    note="party role from the context, else guessed from the URL, else CPO",
)
R_DUPLICATE = LossRule(
    id="2.2.1>2.1.1 VersionDetails.endpoints",
    object="VersionDetails",
    field="endpoints",
    source="one module in both interface roles",
    target="one endpoint per module",
    kind="dropped",
    note="2.1.1 lists each module once; the interface of this connection's role is kept",
)
R_MODULE = LossRule(
    id="2.2.1>2.1.1 Endpoint.identifier",
    object="VersionDetails",
    field="endpoints[].identifier",
    source="chargingprofiles, hubclientinfo",
    target="(endpoint dropped)",
    kind="dropped",
    note="modules that 2.1.1 does not define",
)

RULES: list[LossRule] = [R_ROLE, R_DUPLICATE, R_MODULE]

_CPO_SENDS = {"credentials", "locations", "sessions", "cdrs", "tariffs"}
_EMSP_SENDS = {"credentials", "tokens", "commands"}
_NEW_MODULES = {"chargingprofiles", "hubclientinfo"}


def interface_of(identifier: str, party_role: str) -> str:
    """The InterfaceRole a 2.1.1 module endpoint of a ``party_role`` (CPO/EMSP) implements."""
    sends = _EMSP_SENDS if party_role == "EMSP" else _CPO_SENDS
    return "SENDER" if identifier in sends else "RECEIVER"


def _party_role(url: object, ctx: Context) -> tuple[str, bool]:
    """(party role, certain?) for an endpoint URL."""
    if ctx.role in ("CPO", "EMSP"):
        return ctx.role, True
    text = url.lower() if isinstance(url, str) else ""
    if "/cpo/" in text:
        return "CPO", False
    if "/emsp/" in text or "/msp/" in text:
        return "EMSP", False
    return "CPO", False


def _up_endpoint(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    role, certain = _party_role(data.get("url"), ctx)
    identifier = str(data.get("identifier"))
    if not certain:
        ctx.lose(R_ROLE, join_path(path, "role"), f"{identifier}: {role}")
    out: dict[str, Any] = {}
    for key, value in data.items():
        out[key] = value
        if key == "identifier":
            out["role"] = interface_of(identifier, role)
    out.setdefault("role", interface_of(identifier, role))
    return out


def _down_endpoint(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "role"}


def _up_details(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    endpoints = data.get("endpoints")
    if isinstance(endpoints, list):
        base = join_path(path, "endpoints")
        out["endpoints"] = [
            _up_endpoint(e, ctx, join_path(base, i)) if isinstance(e, dict) else e
            for i, e in enumerate(endpoints)
        ]
    return out


def _down_details(data: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    out = dict(data)
    endpoints = data.get("endpoints")
    if not isinstance(endpoints, list):
        return out
    base = join_path(path, "endpoints")

    def mine(e: dict[str, Any]) -> bool:
        party = ctx.role
        if party not in ("CPO", "EMSP"):
            return False
        return e.get("role") == interface_of(str(e.get("identifier")), str(party))

    wanted: dict[str, int] = {}
    for i, e in enumerate(endpoints):
        if not isinstance(e, dict) or str(e.get("identifier")) in _NEW_MODULES:
            continue
        identifier = str(e.get("identifier"))
        if identifier not in wanted or (mine(e) and not mine(endpoints[wanted[identifier]])):
            wanted[identifier] = i
    kept = []
    for i, e in enumerate(endpoints):
        if not isinstance(e, dict):
            kept.append(e)
            continue
        identifier = str(e.get("identifier"))
        if identifier in _NEW_MODULES:
            ctx.lose(R_MODULE, join_path(base, i), identifier)
        elif wanted.get(identifier) != i:
            ctx.lose(R_DUPLICATE, join_path(base, i), f"{identifier} {e.get('role')}")
        else:
            kept.append(_down_endpoint(e, ctx, join_path(base, i)))
    out["endpoints"] = kept
    return out


UP: dict[str, Converter] = {"Endpoint": _up_endpoint, "VersionDetails": _up_details}
DOWN: dict[str, Converter] = {"Endpoint": _down_endpoint, "VersionDetails": _down_details}
