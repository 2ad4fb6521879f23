"""The pure rules the checks apply, with no I/O (unit-tested on their own).

- the response envelope (transport_and_format §Response format): a JSON object with an integer
  ``status_code`` of four digits, a ``timestamp`` DateTime and an optional string
  ``status_message``;
- URLs in versions and version details are absolute (version_information_endpoint §Data);
- object URLs: the endpoint URL as listed, a ``/`` and the path parts (an endpoint URL that ends
  with ``/`` is not doubled: ``…/locations/`` + ``loc1`` is ``…/locations/loc1``);
- the ``Link`` header, ``<url>; rel="next"`` (transport_and_format §Paginated Response, RFC 8288);
- objects against the version's models (``ocpikit.models.model_for``), unset fields absent rather
  than ``null``, object keys ``(country_code, party_id, id)``;
- a stored object read back equal to what was sent (timestamps as instants, numbers by value).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import pydantic

from ocpikit.models import model_for
from ocpikit.protocol.addressing import join_url  # object URLs: one "/", segments encoded

__all__ = [
    "KIND",
    "NEEDED",
    "SENDER_LISTS",
    "LinkError",
    "dedupe",
    "duplicate_endpoints",
    "duplicates",
    "envelope_problems",
    "is_absolute_url",
    "join_url",
    "missing_modules",
    "model_problems",
    "next_link",
    "null_paths",
    "object_key",
    "parse_time",
    "same_sequence",
    "stored_differences",
]

#: module -> the object its lists hold
KIND = {
    "locations": "Location",
    "sessions": "Session",
    "cdrs": "CDR",
    "tariffs": "Tariff",
    "tokens": "Token",
    "hubclientinfo": "ClientInfo",
}

#: role under test -> the Sender lists it may serve (the ones offered are walked)
SENDER_LISTS = {
    "cpo": ("locations", "sessions", "cdrs", "tariffs"),
    "emsp": ("tokens",),
    "hub": ("locations", "sessions", "cdrs", "tariffs", "tokens", "hubclientinfo"),
}

#: role under test -> the (module, interface) its version details must list: the data it
#: owns (terminology §Typical OCPI implementations per Role; a hub's HubClientInfo)
NEEDED = {
    "cpo": (("credentials", None), ("locations", "SENDER")),
    "emsp": (("credentials", None), ("tokens", "SENDER")),
    "hub": (("credentials", None), ("hubclientinfo", "SENDER")),
}

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|z)?$")


def parse_time(value: Any) -> datetime | None:
    """An OCPI DateTime (RFC 3339 in UTC, ``Z`` optional, fractions allowed: types §DateTime);
    None when ``value`` is not one."""
    if not isinstance(value, str) or not _TIME.match(value):
        return None
    text = value.rstrip("Zz")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC)


def envelope_problems(body: Any) -> list[str]:
    """What is wrong with a response body as an OCPI envelope (empty: nothing)."""
    if not isinstance(body, dict):
        return [f"the body is not a JSON object ({type(body).__name__})"]
    problems = []
    code = body.get("status_code")
    if isinstance(code, bool) or not isinstance(code, int):
        problems.append(f"status_code: {code!r} is not an integer")
    elif not 1000 <= code <= 4999:
        problems.append(f"status_code: {code} is not a four-digit OCPI status code")
    if "timestamp" not in body:
        problems.append("timestamp: missing")
    elif parse_time(body["timestamp"]) is None:
        problems.append(f"timestamp: {body['timestamp']!r} is not an OCPI DateTime")
    if "status_message" in body and not isinstance(body["status_message"], str | None):
        problems.append("status_message: not a string")
    return problems


def is_absolute_url(value: Any) -> bool:
    """An absolute http(s) URL with a host."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def duplicate_endpoints(endpoints: Sequence[Mapping[str, Any]], version: str) -> list[str]:
    """The module/role pairs listed more than once (2.1.1: modules, which carry no role)."""
    seen: set[tuple[Any, Any]] = set()
    dups = []
    for e in endpoints:
        pair = (e.get("identifier"), None if version == "2.1.1" else e.get("role"))
        if pair in seen:
            dups.append(f"{pair[0]}" + (f"/{pair[1]}" if pair[1] else ""))
        seen.add(pair)
    return dups


def missing_modules(endpoints: Sequence[Mapping[str, Any]], role: str, version: str) -> list[str]:
    """The modules of :data:`NEEDED` for ``role`` that ``endpoints`` lack."""
    missing = []
    for module, interface in NEEDED[role]:
        found = any(
            e.get("identifier") == module
            and (version == "2.1.1" or interface is None or e.get("role") == interface)
            for e in endpoints
        )
        if not found:
            missing.append(module + (f" ({interface})" if interface and version != "2.1.1" else ""))
    return missing


class LinkError(ValueError):
    """A ``Link`` header that is not ``<url>; rel="next"`` (RFC 8288)."""


_LINK = re.compile(r"^\s*<([^>]*)>\s*((?:;\s*[^;,]+)*)\s*$")


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header; None when there is none;
    :class:`LinkError` when the header is present but malformed."""
    if header is None or not header.strip():
        return None
    found: str | None = None
    for part in _split_links(header):
        m = _LINK.match(part)
        if m is None:
            raise LinkError(f'{part.strip()!r} is not <url>; rel="next"')
        params = [p.strip() for p in m.group(2).split(";") if p.strip()]
        rels = [
            p.split("=", 1)[1].strip().strip('"').lower()
            for p in params
            if p.lower().startswith("rel=")
        ]
        if not rels:
            raise LinkError(f"{part.strip()!r} has no rel parameter")
        if "next" in " ".join(rels).split():
            found = m.group(1)
    return found


def _split_links(header: str) -> list[str]:
    """Split on commas outside ``<...>``."""
    parts: list[str] = []
    current: list[str] = []
    depth = False
    for ch in header:
        if ch == "<":
            depth = True
        elif ch == ">":
            depth = False
        if ch == "," and not depth:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def model_problems(version: str, kind: str, obj: Any) -> list[str]:
    """The field errors of ``obj`` as the ``kind`` object of ``version`` (``path: message``)."""
    if not isinstance(obj, dict):
        return [f"{kind}: expected a JSON object, got {type(obj).__name__}"]
    try:
        model_for(version, kind).model_validate(obj)
    except pydantic.ValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in err['loc']) or kind}: {err['msg']}" for err in exc.errors()
        ]
    return []


def null_paths(value: Any, path: str = "") -> list[str]:
    """The JSON paths holding ``null`` (an unset field must be absent: types, and the model
    conventions of every version)."""
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if item is None:
                out.append(sub)
            else:
                out.extend(null_paths(item, sub))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            sub = f"{path}[{i}]"
            if item is None:
                out.append(sub)
            else:
                out.extend(null_paths(item, sub))
    return out


def object_key(module: str, obj: Any) -> str | None:
    """The identity of an object of ``module``: ``country_code/party_id/id`` (tokens: ``uid``
    and ``type``; 2.1.1 objects carry no party, so the id alone). Case is kept: an id must come
    back exactly as it was. None when the object has no string id: it cannot be told apart
    (``objects.valid`` reports it; the list checks count it without comparing it)."""
    if not isinstance(obj, dict):
        return None
    if module == "hubclientinfo":
        return f"{obj.get('country_code')}/{obj.get('party_id')}/{obj.get('role')}"
    own = obj.get("uid") if module == "tokens" else obj.get("id")
    if not isinstance(own, str):
        return None
    parts = [obj.get("country_code"), obj.get("party_id"), own]
    if module == "tokens":
        parts.append(obj.get("type"))
    return "/".join(str(p) for p in parts if p is not None)


def duplicates(keys: Iterable[str | None]) -> list[str]:
    """Keys seen more than once (None, an object without an id, is never a duplicate)."""
    seen: set[str] = set()
    dups: list[str] = []
    for key in keys:
        if key is None:
            continue
        if key in seen and key not in dups:
            dups.append(key)
        seen.add(key)
    return dups


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _same(sent: Any, got: Any) -> bool:
    if isinstance(sent, str) and isinstance(got, str):
        a, b = parse_time(sent), parse_time(got)
        if a is not None and b is not None:
            return a == b
        return sent == got
    if isinstance(sent, int | float) and not isinstance(sent, bool):
        return _number(got) == _number(sent) and not isinstance(got, bool | str)
    return bool(sent == got)


def stored_differences(sent: Any, got: Any, path: str = "") -> list[str]:
    """Where ``got`` (read back) differs from ``sent``: a field sent and missing or changed
    (fields the receiver added are allowed). Timestamps compare as instants, numbers by value,
    strings exactly (ids keep their case)."""
    where = path or "(object)"
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object, got {got!r:.80}"]
        out = []
        for key, value in sent.items():
            sub = f"{path}.{key}" if path else key
            if key not in got:
                out.append(f"{sub}: missing (sent {value!r:.60})")
            else:
                out.extend(stored_differences(value, got[key], sub))
        return out
    if isinstance(sent, list):
        if not isinstance(got, list) or len(got) != len(sent):
            return [f"{where}: expected {len(sent)} items, got {got!r:.80}"]
        out = []
        for i, (a, b) in enumerate(zip(sent, got, strict=True)):
            out.extend(stored_differences(a, b, f"{path}[{i}]"))
        return out
    if not _same(sent, got):
        return [f"{where}: sent {sent!r:.60}, got {got!r:.60}"]
    return []


def dedupe(keys: Iterable[str | None]) -> list[str | None]:
    """``keys`` without repeats, first occurrence kept (every None kept: it may be anything)."""
    seen: set[str] = set()
    out: list[str | None] = []
    for key in keys:
        if key is None:
            out.append(None)
        elif key not in seen:
            seen.add(key)
            out.append(key)
    return out


def same_sequence(got: Sequence[str | None], want: Sequence[str | None]) -> int | None:
    """The first position where ``got`` and ``want`` differ (None: they agree); a None on
    either side matches anything, and ``got`` may be shorter."""
    if len(got) > len(want):
        return len(want)
    for i, (a, b) in enumerate(zip(got, want, strict=False)):
        if a is not None and b is not None and a != b:
            return i
    return None
