"""Token authorization as a CPO (DIGEST §3.5, §6.7): which answer comes from the token cache
(the Tokens the eMSP pushed to us), when the owning eMSP must be asked in real time, and what to
answer when it cannot be reached. Pure; ``ocpikit.operations.authorization`` does the I/O.

WhitelistType (the same four values in every version):

| whitelist | valid token | invalid token | eMSP unreachable |
| --- | --- | --- | --- |
| ``ALWAYS`` | ALLOWED from the cache | BLOCKED from the cache | (never asked) |
| ``ALLOWED`` | ALLOWED from the cache (the CPO may choose; we do not ask) | ask | BLOCKED |
| ``ALLOWED_OFFLINE`` | ask | ask | ALLOWED if valid, else BLOCKED |
| ``NEVER`` | ask | ask | NOT_ALLOWED |
| unknown token | ask | | NOT_ALLOWED |

2.2+: "If a Token is valid = false, when the whitelist field requires real-time authorization,
the CPO SHALL do a real-time authorization" (hence "ask" for invalid ALLOWED tokens too: the
cache may be stale). A real-time answer in 2.2+ carries the complete Token, which refreshes the
cache (:func:`refreshed_token`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ocpikit.core.types import parse_datetime

__all__ = ["AuthPlan", "answer", "plan", "refreshed_token"]


@dataclass(frozen=True, slots=True)
class AuthPlan:
    """``realtime``: ask the eMSP. ``local``: the answer without asking (when not realtime).
    ``offline``: the answer when the eMSP cannot be reached."""

    realtime: bool
    local: str | None
    offline: str
    reason: str


def plan(token: Mapping[str, Any] | None) -> AuthPlan:
    if token is None:
        return AuthPlan(True, None, "NOT_ALLOWED", "unknown token: real-time only")
    whitelist = str(token.get("whitelist", "ALLOWED"))
    valid = token.get("valid") is not False
    if whitelist == "ALWAYS":
        allowed = "ALLOWED" if valid else "BLOCKED"
        return AuthPlan(False, allowed, allowed, "whitelist ALWAYS: from the token cache")
    if whitelist == "ALLOWED":
        if valid:
            return AuthPlan(False, "ALLOWED", "ALLOWED", "whitelist ALLOWED: from the token cache")
        return AuthPlan(True, None, "BLOCKED", "invalid token in the cache: real-time")
    if whitelist == "ALLOWED_OFFLINE":
        fallback = "ALLOWED" if valid else "BLOCKED"
        return AuthPlan(True, None, fallback, "whitelist ALLOWED_OFFLINE: real-time first")
    return AuthPlan(True, None, "NOT_ALLOWED", f"whitelist {whitelist}: real-time only")


def answer(
    allowed: str,
    source: str,
    token: Mapping[str, Any] | None,
    location: Mapping[str, Any] | None,
    reason: str,
) -> dict[str, Any]:
    """A head AuthorizationInfo built locally, with ``source`` (``cache``, ``realtime``,
    ``offline``) and ``reason`` for the operator (not OCPI fields)."""
    info: dict[str, Any] = {"allowed": allowed, "source": source, "reason": reason}
    if token is not None:
        info["token"] = dict(token)
    if location is not None:
        info["location"] = dict(location)
    return info


def refreshed_token(
    cached: Mapping[str, Any] | None, received: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    """The token to store after a real-time answer: the received one when it is newer than
    the cached one (or nothing is cached); ``None`` when the cache stays."""
    if not isinstance(received, Mapping) or not received.get("uid"):
        return None
    if cached is None:
        return received
    try:
        newer = parse_datetime(str(received["last_updated"])) > parse_datetime(
            str(cached["last_updated"])
        )
    except (KeyError, ValueError):
        return None
    return received if newer else None
