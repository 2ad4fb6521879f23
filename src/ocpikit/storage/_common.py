"""Small helpers shared by the storage backends."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ocpikit.core.types import parse_datetime

__all__ = ["Clock", "last_updated_of", "utcnow"]

Clock = Callable[[], datetime]
"""Returns "now" as an aware UTC datetime (DESIGN §3: the clock is injected)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def last_updated_of(document: Mapping[str, Any]) -> datetime:
    """The ``last_updated`` of a merged head document (every stored OCPI object has one)."""
    value = document.get("last_updated")
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("a patched document must carry last_updated (an OCPI DateTime string)")
    return parse_datetime(value)
