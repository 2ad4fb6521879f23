"""How a run of batched writes is cut into statements (:mod:`.sqlite_put_batch`,
:mod:`.sqlite_field_patch`, the exchange log's INSERTs in :mod:`.exchange_log`).

Invariant: the parts are consecutive, in order, and their sizes are powers of two, largest
first, at most ``largest`` (:data:`BATCH_PART_MAX` by default); so the driver's statement cache
holds a few statement texts (one per size), not one per group size. It keeps the prepared
statement of each text it holds (128 by default): a statement of ``n`` rows of values is a
program of ``n`` times the row's, a few hundred KiB for 200 log rows, so one text per batch
size would keep tens of MiB.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

__all__ = ["BATCH_PART_MAX", "power_parts"]

Item = TypeVar("Item")

#: the largest part of a batch run written by one statement (11 parameters per object)
BATCH_PART_MAX = 64


def power_parts(items: list[Item], largest: int = BATCH_PART_MAX) -> Iterator[list[Item]]:
    """``items`` in consecutive parts whose sizes are powers of two, largest first, at most
    ``largest`` (a power of two; 13 objects: 8, 4, 1)."""
    at = 0
    while at < len(items):
        left = len(items) - at
        size = min(largest, 1 << (left.bit_length() - 1))
        yield items[at : at + size]
        at += size
