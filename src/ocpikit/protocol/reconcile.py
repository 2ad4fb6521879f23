"""Comparison of one module's objects as a partner serves them and as we store them: the pure
half of a reconciliation pull (``transport_and_format`` §Pull: "the response
data provided by all the pages together is the new truth").

Both sides are reduced to ``{key: digest}`` (a digest of the canonical head JSON), so a
reconciliation of 100,000 objects keeps keys and 32-byte digests in memory, not documents.
:func:`compare` says what is missing here, missing there, and different; :func:`diff_fields`
names the differing fields of one object when both documents are at hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import orjson

__all__ = ["ReconcileReport", "canonical", "compare", "diff_fields", "digest"]

Key = TypeVar("Key")


def _normal(value: Any) -> Any:
    """Numbers compare by value (``1.50`` == ``1.5``), timestamps by their text."""
    if isinstance(value, Mapping):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value)).normalize()
        return format(number, "f")
    return value


def canonical(document: Mapping[str, Any]) -> bytes:
    """Canonical JSON of a head document: sorted keys, normalised numbers."""
    return orjson.dumps(_normal(document), option=orjson.OPT_SORT_KEYS)


def digest(document: Mapping[str, Any]) -> bytes:
    """A short fingerprint of :func:`canonical`."""
    return hashlib.blake2b(canonical(document), digest_size=16).digest()


@dataclass(slots=True)
class ReconcileReport:
    """What differs between the partner (``there``) and our storage (``here``)."""

    missing_here: list[Any] = field(default_factory=list)
    missing_there: list[Any] = field(default_factory=list)
    different: list[Any] = field(default_factory=list)
    same: int = 0

    @property
    def in_sync(self) -> bool:
        return not (self.missing_here or self.missing_there or self.different)


def compare(there: Mapping[Key, bytes], here: Mapping[Key, bytes]) -> ReconcileReport:
    """Compare two ``{key: digest}`` maps (keys must hash alike on both sides)."""
    report = ReconcileReport()
    for key, theirs in there.items():
        ours = here.get(key)
        if ours is None:
            report.missing_here.append(key)
        elif ours != theirs:
            report.different.append(key)
        else:
            report.same += 1
    report.missing_there.extend(key for key in here if key not in there)
    return report


def diff_fields(
    there: Mapping[str, Any], here: Mapping[str, Any], *, prefix: str = ""
) -> list[str]:
    """JSON paths of the fields that differ (recursing into objects; lists compared whole,
    except that equal-length lists of objects recurse per index)."""
    out: list[str] = []
    keys: Iterable[str] = sorted(set(there) | set(here))
    for key in keys:
        path = f"{prefix}.{key}" if prefix else key
        a, b = there.get(key), here.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out.extend(diff_fields(a, b, prefix=path))
        elif (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(isinstance(x, Mapping) for x in a + b)
        ):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                out.extend(diff_fields(x, y, prefix=f"{path}[{i}]"))
        elif _normal(a) != _normal(b):
            out.append(path)
    return out
