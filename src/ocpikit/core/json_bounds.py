"""Bounds on the JSON a partner sends: what the platform can store, convert and send back.

A body that passes :func:`check_json_bounds` can be kept and written back exactly on SQLite
and PostgreSQL and by orjson; one that does not is refused with 2001 naming the field
(transport_and_format §Response format: "2001 Invalid or missing parameters"), never stored,
never a 500:

- nesting deeper than :data:`MAX_DEPTH` levels (OCPI objects nest about eight deep; orjson
  writes at most 254, so a deeper unknown field could be read but never written back);
- a number whose magnitude is :data:`MAX_NUMBER` or more (money, energy and durations are far
  below; beyond 64 bits orjson cannot write an integer, and a JSON parser that read it as a
  float has already lost digits: it cannot be kept exactly);
- a string (or key) holding U+0000 (PostgreSQL's text and JSONB cannot store it).

The plan: :func:`find_violation` walks the decoded value (the reference). Most bodies contain
nothing that could break a rule, which the raw bytes tell by C-level scans (no escaped NUL;
fewer brackets than :data:`MAX_DEPTH`; no digit run or exponent long enough for a big number,
outside strings); :func:`check_json_bounds` walks only when a scan finds a candidate. A digit
run or an exponent inside a string (an id such as ``"1234E5678"``) is no number: in a body
without backslashes every ``"`` opens or closes a string, so an even count of them before a
candidate puts it outside any string. Invariant: the scans never pass a body the walk would
refuse (tests compare both on generated bodies).
"""

from __future__ import annotations

from typing import Any

from ocpikit.core.errors import InvalidOrMissingParameters, format_error_path

__all__ = ["MAX_DEPTH", "MAX_NUMBER", "check_json_bounds", "find_violation"]

MAX_DEPTH = 64
"""Nesting levels allowed (the body itself is level 1)."""

MAX_NUMBER = 2**63
"""Numbers must be strictly smaller in magnitude."""

# every digit read as "0": then 19 digits in a row (10**18 < 2**63 <= 10**19) or a digit before
# an exponent are the only ways to write a number of 2**63 or more, found by C-level substring
# searches (strings may match too, which only costs a walk)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19
_NUMBER_CANDIDATES = (_NINETEEN_DIGITS, b"0e", b"0E")
#: candidates looked at one by one before the screen gives up and lets the walk decide
_CANDIDATES_CHECKED = 8


def find_violation(value: Any) -> tuple[str, str] | None:
    """``(json path, what is wrong)`` of the first part of ``value`` (decoded JSON) that breaks
    a bound, or None. Depth first, in document order."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) >= MAX_DEPTH:
            return format_error_path(path), f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, dict):
            children: list[tuple[Any, tuple[str | int, ...]]] = []
            for key, child in item.items():
                if "\x00" in key:
                    return format_error_path(path), "a key contains U+0000"
                children.append((child, (*path, key)))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend((child, (*path, i)) for i, child in reversed(list(enumerate(item))))
        elif isinstance(item, str) and "\x00" in item:
            return format_error_path(path), "contains U+0000, which cannot be stored"
        elif isinstance(item, int | float) and not isinstance(item, bool) and _too_big(item):
            return format_error_path(path), "number out of range (must be below 2^63)"
    return None


def _too_big(number: float) -> bool:
    return abs(number) >= MAX_NUMBER


def _may_violate(raw: bytes) -> bool:
    """False only when no bound can be broken by the JSON text ``raw``."""
    if b"\\u0000" in raw:
        return True
    if raw.count(b"{") + raw.count(b"[") >= MAX_DEPTH:
        return True
    digits = raw.translate(_DIGITS_AS_ZERO)
    if b"\\" in raw:  # an escaped quote may hide in a string: any candidate counts
        return any(candidate in digits for candidate in _NUMBER_CANDIDATES)
    checked = 0
    for candidate in _NUMBER_CANDIDATES:
        at = digits.find(candidate)
        while at >= 0:
            if raw.count(b'"', 0, at) % 2 == 0 or checked == _CANDIDATES_CHECKED:
                return True  # outside any string: a number (or too many to look at)
            checked += 1
            at = digits.find(candidate, at + 1)
    return False


def check_json_bounds(value: Any, raw: bytes | None = None) -> None:
    """Raise 2001 naming the field when ``value`` breaks a bound; ``raw``, the text ``value``
    was decoded from, lets most bodies skip the walk."""
    if raw is not None and not _may_violate(raw):
        return
    found = find_violation(value)
    if found is not None:
        path, why = found
        if len(path) > 200:  # a partner's keys are echoed: never more than a line of them
            path = path[:200] + "..."
        raise InvalidOrMissingParameters(path=path, problems=(f"{path}: {why}",))
