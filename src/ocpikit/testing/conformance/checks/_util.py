"""Small helpers the checks share."""

from __future__ import annotations

from collections.abc import Sequence

from ..registry import Failed, Skipped
from ..target import Exchange

__all__ = ["expect_ok", "listing", "need_2_2", "need_write"]


def listing(problems: Sequence[str], limit: int = 5) -> str:
    """The first ``limit`` problems joined, with how many more there are."""
    shown = "; ".join(problems[:limit])
    more = len(problems) - limit
    return shown + (f" (and {more} more)" if more > 0 else "")


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
            f"{what} answered HTTP {ex.status or 'nothing'}, status {ex.status_code}"
            + (f" ({ex.message})" if ex.message else ""),
            ex,
            f"HTTP {'/'.join(map(str, http))} with status_code 1000",
        )
