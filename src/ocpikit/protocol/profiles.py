"""Hub profiles: the ways hubs differ where the spec leaves room, each a named per-connection
switch, and named sets of them (DESIGN §3: every tolerance is a named, per-partner switch in
one place; OCPI 2.2.1 transport_and_format §Message Routing, mod_hub_client_info).

A connection's ``settings`` may name a ``profile``; its effective settings are the profile's
values overlaid by the connection's own keys (an explicit key always wins). Every switch a
profile sets is listed in :data:`SWITCHES` with what it does and where it acts; ``ocpikit
partners show PARTNER`` prints the effective values and where each came from.

Invariants: a profile only sets switches of :data:`SWITCHES` (checked at import); an unknown
profile name is refused where it is set (CLI, backend API), never silently ignored; the
``generic`` profile sets nothing but ``hub``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from pydantic import ValidationError

_log = logging.getLogger("ocpikit.profiles")

__all__ = [
    "PLACEHOLDER",
    "PROFILES",
    "SWITCHES",
    "EffectiveSwitch",
    "Switch",
    "effective_settings",
    "effective_switches",
    "passed_headers",
    "profile_of",
    "rfid_uid",
    "without_placeholders",
    "without_stamps",
]


@dataclass(frozen=True, slots=True)
class Switch:
    """One per-connection switch: its name, its default and what it does."""

    name: str
    default: Any
    doc: str


SWITCHES: Final[Mapping[str, Switch]] = {
    s.name: s
    for s in (
        Switch("hub", False, "the connection is a hub: it may write for the parties behind it"),
        Switch(
            "page_limits",
            {},
            "the `limit` asked for per module when pulling ({module: n}); `page_limit` for all",
        ),
        Switch(
            "push_policy",
            None,
            "store-and-forward or drop-and-resync per object kind (client/policy.py)",
        ),
        Switch(
            "routing_headers_always",
            False,
            "OCPI-from/to-* on every request but Credentials and Versions, not only on "
            "functional modules",
        ),
        Switch(
            "credentials_put",
            True,
            "the hub accepts a credentials PUT (false: rotating means unregister and register)",
        ),
        Switch(
            "version_aliases",
            {},
            'version texts read as another ({"2.2": "2.2.1"}) in the versions list',
        ),
        Switch(
            "authorization_needs_location",
            False,
            "real-time authorization through this connection only with LocationReferences "
            "(without: NOT_ALLOWED at once, the hub is not asked)",
        ),
        Switch(
            "dash_placeholders",
            False,
            'the hub sends "-" for fields it does not know: an optional field "-" is read as '
            "absent (a required one is kept)",
        ),
        Switch(
            "hub_sets_last_updated",
            False,
            "the hub stamps last_updated with its own time: a reconcile ignores last_updated",
        ),
        Switch(
            "tariffs_immutable",
            False,
            "a Tariff once published never changes: a change of its content is refused "
            "(publish it under a new id)",
        ),
        Switch(
            "rfid_uid_format",
            None,
            '"hex-8-or-14-upper": RFID token uids sent upper-cased; others skipped, logged',
        ),
        Switch(
            "pull_retries",
            5,
            "retries of one page of a pull after a 429/503, 5xx, timeout or truncated body "
            "(default: outbox.pull_retries; protocol/pull_retry.py)",
        ),
        Switch(
            "role",
            None,
            "for a hub: the role of a connection whose credentials carry none (2.1.1), e.g. "
            '"CPO"; without it the hub learns the role from what the connection sends',
        ),
        Switch(
            "cdr_tolerance",
            "0.01",
            "amounts of a received CDR within this many currency units of the price engine's "
            "are `within_tolerance`, not disputed (operations/cdr_checks.py)",
        ),
        Switch(
            "hub_replaces_references",
            False,
            "the hub replaces authorization references (and session ids) with its own: the "
            "session a START_SESSION started is found by token, location and time "
            "(protocol/started_sessions.py)",
        ),
        Switch(
            "pass_headers",
            [],
            "request headers of this connection a hub passes on with a request it forwards "
            'unchanged (same version, no response_url rewrite), e.g. ["OCN-Signature"]',
        ),
        Switch(
            "case_sensitive_ids",
            False,
            "the hub compares object ids case-sensitively: an id differing only in case from "
            "a stored one is another object, refused rather than merged (protocol/id_case.py)",
        ),
        Switch(
            "cdr_dispute_reasons",
            None,
            "the reason codes that make a received CDR `disputed` (a list, or comma-separated); "
            "other findings stay in the check's reasons without disputing it (default: all)",
        ),
        Switch(
            "whole_object_puts",
            False,
            "every change of our Locations and Sessions is pushed as a PUT of the whole "
            "object, never as the smallest PATCH (protocol/push_patches.py)",
        ),
        Switch(
            "ignore_link",
            False,
            "the partner's Link headers are unusable (another scheme, a wrong path): pages are "
            "asked by offset from X-Total-Count and X-Limit instead (protocol/paging.py)",
        ),
        Switch(
            "cdr_evse_uid_from_location",
            False,
            "a CDR from this partner without cdr_location.evse_uid gets the uid of the EVSE "
            "with its evse_id in that partner's Location (protocol/cdr_evse_uid.py)",
        ),
        Switch(
            "slash_endpoints",
            False,
            "the version details we answer this partner list endpoint URLs ending with / "
            "(it appends {country_code}/... to them as the 2.2.1 structure definitions read)",
        ),
        Switch(
            "single_object_lists",
            False,
            "the partner wraps an answer that is one object (CommandResponse, "
            "AuthorizationInfo, a GET of one object, ...) in a list of one: its element is read",
        ),
        Switch(
            "pull_max_wait",
            60,
            "the longest wait in seconds before such a retry; a longer Retry-After is capped "
            "(default: outbox.pull_max_wait)",
        ),
    )
}

#: the named profiles (``ocpikit register --profile``, ``ocpikit partners set --profile``)
PROFILES: Final[Mapping[str, Mapping[str, Any]]] = {
    "generic": {"hub": True},
    "gireve": {
        "hub": True,
        "routing_headers_always": True,
        "credentials_put": False,
        "page_limits": {"locations": 100, "tokens": 1000, "cdrs": 20, "tariffs": 100},
        "push_policy": {
            "Location": "store-and-forward",
            "Session": "store-and-forward",
            "CDR": "store-and-forward",
            "Tariff": "store-and-forward",
        },
        "rfid_uid_format": "hex-8-or-14-upper",
        "authorization_needs_location": True,
        "tariffs_immutable": True,
        "hub_replaces_references": True,
    },
    "e-clearing": {
        "hub": True,
        "dash_placeholders": True,
        "hub_sets_last_updated": True,
        "case_sensitive_ids": True,
    },
    "ocn": {"hub": True, "version_aliases": {"2.2": "2.2.1"}, "pass_headers": ["OCN-Signature"]},
}

for _name, _values in PROFILES.items():
    _unknown = set(_values) - set(SWITCHES)
    if _unknown:  # pragma: no cover - a programming error caught at import
        raise RuntimeError(f"profile {_name} sets unknown switches {sorted(_unknown)}")


def passed_headers(
    settings: Mapping[str, Any] | None, headers: Mapping[str, str]
) -> dict[str, str]:
    """The request ``headers`` (lower-case names) a hub passes on for a connection with these
    settings: those its ``pass_headers`` switch names, present in the request."""
    names = effective_settings(settings).get("pass_headers") or []
    if not isinstance(names, list):
        return {}
    out: dict[str, str] = {}
    for name in names:
        if isinstance(name, str) and name.lower() in headers:
            out[name] = headers[name.lower()]
    return out


def profile_of(settings: Mapping[str, Any] | None) -> str | None:
    """The profile a connection's settings name (None: none, or not a known profile)."""
    name = (settings or {}).get("profile")
    return name if isinstance(name, str) and name in PROFILES else None


def effective_settings(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The connection's settings over its profile's values (the settings themselves when no
    profile is named)."""
    s = settings or {}
    name = profile_of(s)
    if name is None:
        return s
    return {**PROFILES[name], **s}


@dataclass(frozen=True, slots=True)
class EffectiveSwitch:
    name: str
    value: Any
    #: ``"partner"`` (set on the connection), ``"profile NAME"`` or ``"default"``
    source: str
    doc: str


def effective_switches(settings: Mapping[str, Any] | None) -> list[EffectiveSwitch]:
    """Every switch of :data:`SWITCHES` with its effective value and where it comes from."""
    s = settings or {}
    name = profile_of(s)
    profile = PROFILES[name] if name is not None else {}
    out: list[EffectiveSwitch] = []
    for switch in SWITCHES.values():
        if switch.name in s:
            out.append(EffectiveSwitch(switch.name, s[switch.name], "partner", switch.doc))
        elif switch.name in profile:
            value = profile[switch.name]
            out.append(EffectiveSwitch(switch.name, value, f"profile {name}", switch.doc))
        else:
            out.append(EffectiveSwitch(switch.name, switch.default, "default", switch.doc))
    return out


_HEX_8_OR_14 = re.compile(r"[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}")


def rfid_uid(uid: str, fmt: str | None) -> str:
    """The uid of an RFID Token as a partner with ``rfid_uid_format`` ``fmt`` takes it
    (``"hex-8-or-14-upper"``: 8 or 14 hex characters, upper-cased); ValueError naming the rule
    when it cannot be sent at all. Without a format the uid is sent as it is."""
    if fmt != "hex-8-or-14-upper":
        return uid
    if not _HEX_8_OR_14.fullmatch(uid):
        raise ValueError(f"uid {uid!r} is not 8 or 14 hexadecimal characters (rfid_uid_format)")
    return uid.upper()


#: what a hub with ``dash_placeholders`` sends for a field it does not know
PLACEHOLDER = "-"


def without_placeholders(value: Any) -> tuple[Any, list[str]]:
    """``value`` with every ``"-"`` string field of its objects left out (recursively, also in
    objects inside lists), and the JSON paths left out. Lists of strings keep their items."""
    removed: list[str] = []

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, item in node.items():
                here = f"{path}.{key}" if path else str(key)
                if item == PLACEHOLDER:
                    removed.append(here)
                    continue
                out[key] = walk(item, here)
            return out
        if isinstance(node, list):
            return [walk(item, f"{path}[{i}]") for i, item in enumerate(node)]
        return node

    return walk(value, ""), removed


def without_stamps(value: Any) -> Any:
    """``value`` without any ``last_updated`` field, at any depth (for comparing what a hub
    that stamps its own times holds with what we hold)."""
    if isinstance(value, dict):
        return {k: without_stamps(v) for k, v in value.items() if k != "last_updated"}
    if isinstance(value, list):
        return [without_stamps(v) for v in value]
    return value


T = TypeVar("T")


def read_with_placeholders(validate: Callable[[Any], T], raw: Any, *, where: str) -> T:
    """Validate ``raw`` from a hub with ``dash_placeholders``: its optional ``"-"`` fields are
    read as absent, its required ones kept (a model that needs a value gets the hub's ``"-"``).
    Each field left out is logged with ``where``. Errors are the validator's own."""
    stripped, removed = without_placeholders(raw)
    if not removed:
        return validate(raw)
    try:
        result = validate(stripped)
    except ValidationError as exc:
        missing = [e["loc"] for e in exc.errors() if e["type"] == "missing"]
        kept = [loc for loc in missing if _at(raw, loc) == PLACEHOLDER]
        if not kept:
            raise
        for loc in kept:
            _put(stripped, loc, PLACEHOLDER)
        result = validate(stripped)
        back = {".".join(str(p) for p in loc) for loc in kept}
        removed = [p for p in removed if p.replace("[", ".").replace("]", "") not in back]
    _log.info("%s: %s read as absent (dash_placeholders)", where, ", ".join(removed))
    return result


def _at(value: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _put(value: Any, loc: tuple[Any, ...], item: Any) -> None:
    parent = _at(value, loc[:-1])
    if isinstance(parent, dict) or (isinstance(parent, list) and isinstance(loc[-1], int)):
        parent[loc[-1]] = item
