"""Small helpers the checks share."""

from __future__ import annotations

from collections.abc import Sequence

from ..registry import Failed, Skipped
from ..target import Exchange

__all__ = ["expect_ok", "listing", "need_2_2", "need_write", "one_object_problem", "status_of"]


def listing(problems: Sequence[str], limit: int = 5) -> str:
    """The first ``limit`` problems joined, with how many more there are."""
    shown = "; ".join(problems[:limit])
    more = len(problems) - limit
    return shown + (f" (and {more} more)" if more > 0 else "")


def status_of(ex: Exchange) -> str:
    """``HTTP 404, status 2003`` or, without an OCPI envelope, what came instead."""
    if not ex.status:
        return f"no answer ({ex.error or 'no response'})"
    if ex.status_code is not None:
        return f"HTTP {ex.status}, status {ex.status_code}"
    body = " ".join(ex.text.split())[:80] or "no body"
    return f"HTTP {ex.status} without an OCPI envelope ({body})"


def one_object_problem(ex: Exchange, what: str) -> str | None:
    """Why ``ex`` is not HTTP 200, status 1000 with one object as ``data``, or ``None``.

    OCPI 2.2.1 transport_and_format §Response format: a request for one object answers that
    object, not a list of it.
    """
    if ex.status != 200 or ex.status_code != 1000:
        return f"GET of {what} answered {status_of(ex)}"
    if isinstance(ex.data, list):
        return f"GET of {what} answered a list of {len(ex.data)} instead of one object"
    if not isinstance(ex.data, dict):
        return f"GET of {what} answered data of type {type(ex.data).__name__}, not an object"
    return None


def need_2_2(version: str) -> None:
    if version == "2.1.1":
        raise Skipped("2.1.1 has no such rule (it came with 2.2)")


def need_write(mode: str) -> None:
    if mode != "write":
        raise Skipped("write mode only (--mode write)")


def expect_ok(ex: Exchange, what: str, http: Sequence[int] = (200,)) -> None:
    """:class:`Failed` unless ``ex`` answered one of ``http`` with OCPI status 1000."""
    if ex.status not in http or ex.status_code != 1000:
        raise Failed(
            f"{what} answered {status_of(ex)}" + (f" ({ex.message})" if ex.message else ""),
            ex,
            f"HTTP {'/'.join(map(str, http))} with status_code 1000",
        )
