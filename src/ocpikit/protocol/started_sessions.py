"""Which Session a START_SESSION command started, seen from the eMSP that sent it (OCPI 2.2.1
mod_commands §StartSession, mod_sessions §Session: ``authorization_reference``).

The CPO copies the command's ``authorization_reference`` into the Session it starts, so the
reference names the session. Two things break that link: a 2.1.1 CPO has no reference, and a
hub may replace references (and session ids) with its own (the ``hub_replaces_references``
switch of :mod:`ocpikit.protocol.profiles`; Gireve does). Then the session is the one of the
command's token, at its location (and EVSE, when the command named one), that started within
:data:`START_WINDOW` after the command was sent.

Invariants: a session whose reference is present and differs from the command's never matches
unless the connection's hub replaces references; among several candidates the earliest start
wins (the first session of that token there after the command); pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ocpikit.core.types import ci_equal, parse_datetime

__all__ = ["START_WINDOW", "started_session"]

#: how long after the command its session may start (the driver still has to plug in);
#: the spec's 15 minutes in which the CPO must not re-authorize the token (§StartSession)
START_WINDOW = timedelta(minutes=15)
#: clock skew between the two backends that is still the same session
SKEW = timedelta(minutes=1)


def _start(session: Mapping[str, Any]) -> datetime | None:
    value = session.get("start_date_time")
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and ci_equal(a, b)


def _by_token_and_place(
    command: Mapping[str, Any], sent_at: datetime, session: Mapping[str, Any]
) -> bool:
    token = command.get("token") or {}
    cdr_token = session.get("cdr_token") or {}
    if not _same(token.get("uid"), cdr_token.get("uid")):
        return False
    if not _same(command.get("location_id"), session.get("location_id")):
        return False
    evse = command.get("evse_uid")
    if evse is not None and not _same(evse, session.get("evse_uid")):
        return False
    start = _start(session)
    return start is not None and sent_at - SKEW <= start <= sent_at + START_WINDOW


def started_session(
    command: Mapping[str, Any],
    sent_at: datetime,
    sessions: Iterable[Mapping[str, Any]],
    *,
    references_replaced: bool = False,
) -> Mapping[str, Any] | None:
    """The session (head documents) that the START_SESSION ``command`` (its head request body)
    sent at ``sent_at`` started, or None."""
    reference = command.get("authorization_reference")
    candidates: list[Mapping[str, Any]] = []
    for session in sessions:
        theirs = session.get("authorization_reference")
        if reference and not references_replaced and theirs is not None:
            if _same(theirs, reference):
                return session
            continue
        if _by_token_and_place(command, sent_at, session):
            candidates.append(session)
    if not candidates:
        return None
    return min(candidates, key=lambda s: _start(s) or sent_at)
