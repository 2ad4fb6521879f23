"""The whole plan in stage order, and the checks a run selects by id patterns."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from typing import Any

from . import checks  # noqa: F401  (importing the check modules registers them)
from .registry import CHECKS, STAGES, Check

__all__ = ["all_checks", "describe", "select"]


def _ordered(among: Iterable[Check]) -> list[Check]:
    order = {stage: i for i, stage in enumerate(STAGES)}
    indexed = list(enumerate(among))
    indexed.sort(key=lambda pair: (order[pair[1].stage], pair[0]))
    return [c for _, c in indexed]


def select(
    patterns: Sequence[str] | None = None, among: Sequence[Check] | None = None
) -> list[Check]:
    """The checks whose id matches one of ``patterns`` (shell-style; all when None), in plan
    order; ValueError when a pattern matches nothing (a typo must not pass silently)."""
    pool = _ordered(among if among is not None else all_checks())
    if patterns is None:
        return pool
    chosen: list[Check] = []
    for pattern in patterns:
        hits = [c for c in pool if fnmatch.fnmatchcase(c.id, pattern)]
        if not hits:
            raise ValueError(f"no check matches {pattern!r}")
        chosen.extend(c for c in hits if c not in chosen)
    return _ordered(chosen)


def all_checks() -> list[Check]:
    """Every registered check."""
    return list(CHECKS)


def describe(among: Iterable[Check]) -> list[dict[str, Any]]:
    return [{"id": c.id, "stage": c.stage, "spec": list(c.spec), "title": c.title} for c in among]
