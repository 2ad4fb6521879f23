"""The plan: every check with its stable id, its stage and the spec section it enforces.

A check is an async function of the run's :class:`~.context.Context`. It returns the pass
message, or raises :class:`Failed` (with the request, the response excerpt and what was
expected) or :class:`Skipped` (with the reason). Checks register themselves in definition
order with :func:`check`; the stages run in :data:`STAGES` order. :func:`select` picks checks
by id patterns (``"transport.*"``, ``"pagination.link_works"``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import Context
    from .target import Exchange

__all__ = [
    "CHECKS",
    "STAGES",
    "Check",
    "Failed",
    "Skipped",
    "check",
    "cite",
    "select",
]

#: the order in which stages run (a check's ``stage`` is one of these)
STAGES = (
    "versions",
    "credentials",
    "transport",
    "flows",
    "pagination",
    "objects",
    "write",
    "answers",
    "results",
    "teardown",
)

CheckFn = Callable[["Context"], Awaitable[str]]


class Failed(Exception):
    """The target broke the rule: ``message`` says how; ``exchange`` is the request and
    answer that show it; ``expected`` what the spec wants."""

    def __init__(
        self, message: str, exchange: Exchange | None = None, expected: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange
        self.expected = expected


class Skipped(Exception):
    """The check does not apply (version, role, mode) or cannot run (a prerequisite failed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Check:
    """One check of the plan. ``spec`` is ``(document, section)`` in the spec folder's names,
    e.g. ``("transport_and_format", "Pagination")``; the version is added at run time."""

    id: str
    stage: str
    spec: tuple[str, str]
    title: str
    fn: CheckFn
    #: the section in 2.1.1 when its documents name it differently
    v211: tuple[str, str] | None = None

    def citation(self, version: str) -> str:
        if version == "2.1.1" and self.v211 is not None:
            return cite(version, *self.v211)
        return cite(version or "2.2.1", *self.spec)


def cite(version: str, document: str, section: str) -> str:
    """``"2.2.1 transport_and_format §Pagination"``."""
    return f"{version} {document} §{section}"


CHECKS: list[Check] = []


def check(
    id: str,
    stage: str,
    spec: tuple[str, str],
    title: str,
    v211: tuple[str, str] | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as check ``id`` (ids are unique)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")

    def register(fn: CheckFn) -> CheckFn:
        if any(c.id == id for c in CHECKS):
            raise ValueError(f"duplicate check id {id!r}")
        CHECKS.append(Check(id, stage, spec, title, fn, v211))
        return fn

    return register


def _ordered(checks: Iterable[Check]) -> list[Check]:
    order = {stage: i for i, stage in enumerate(STAGES)}
    indexed = list(enumerate(checks))
    indexed.sort(key=lambda pair: (order[pair[1].stage], pair[0]))
    return [c for _, c in indexed]


def select(patterns: Sequence[str] | None = None, checks: Sequence[Check] | None = None) -> list[Check]:
    """The checks whose id matches one of ``patterns`` (shell-style; all when None), in plan
    order; ValueError when a pattern matches nothing (a typo must not pass silently)."""
    pool = _ordered(checks if checks is not None else all_checks())
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
    """Every registered check (importing the check modules registers them)."""
    from . import checks  # noqa: F401  (registers)

    return list(CHECKS)


def describe(checks: Iterable[Check]) -> list[dict[str, Any]]:
    return [{"id": c.id, "stage": c.stage, "spec": list(c.spec), "title": c.title} for c in checks]
