"""How a run of batched writes is cut into statements (:mod:`.sqlite_put_batch`,
:mod:`.sqlite_field_patch`).

Invariant: the parts are consecutive, in order, and their sizes are powers of two, largest
first, at most :data:`BATCH_PART_MAX`; so the driver's statement cache holds a few statement
texts (one per size), not one per group size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

__all__ = ["BATCH_PART_MAX", "power_parts"]

Item = TypeVar("Item")

#: the largest part of a batch run written by one statement (11 parameters per object)
BATCH_PART_MAX = 64


def power_parts(items: list[Item]) -> Iterator[list[Item]]:
    """``items`` in consecutive parts whose sizes are powers of two, largest first, at most
    :data:`BATCH_PART_MAX` (13 objects: 8, 4, 1)."""
    at = 0
    while at < len(items):
        left = len(items) - at
        size = min(BATCH_PART_MAX, 1 << (left.bit_length() - 1))
        yield items[at : at + size]
        at += size
