"""Small helpers shared by the storage backends."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ocpikit.core.types import parse_datetime
from ocpikit.protocol.ports import Page, StoredObject, WirePage

__all__ = ["Clock", "last_updated_of", "utcnow", "wire_page_of"]

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


def wire_page_of(page: Page, version: str | None) -> WirePage:
    """A :class:`Page` read with ``version`` as a :class:`WirePage`: fresh cached bytes, the
    head document's bytes when no version is asked, else the object to convert."""
    items: list[bytes | StoredObject] = []
    for obj in page.items:
        if obj.wire is not None:
            items.append(obj.wire)
        elif version is None:
            items.append(obj.raw)
        else:
            items.append(obj)
    return WirePage(items=items, total=page.total, offset=page.offset, limit=page.limit)
