"""The plan: every check with its stable id, its stage and the spec section it enforces.

A check is an async function of the run's :class:`~.context.Context`. It returns the pass
message, or raises :class:`Failed` (with the request, the response excerpt and what was
expected) or :class:`Skipped` (with the reason). Checks register themselves in definition
order with :func:`check`; the stages run in :data:`STAGES` order. :func:`select` picks checks
by id patterns (``"transport.*"``, ``"pagination.link_works"``) in plan.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .target import Exchange

__all__ = [
    "CHECKS",
    "STAGES",
    "Check",
    "Failed",
    "Skipped",
    "check",
    "cite",
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

#: a check: an async function of the run's ``Context`` (context.py) returning the pass message
CheckFn = Callable[[Any], Awaitable[str]]


class Failed(Exception):
    """The target broke the rule: ``message`` says how; ``exchange`` is the request and
    answer that show it; ``expected`` what the spec wants."""

    def __init__(self, message: str, exchange: Exchange | None = None, expected: str = "") -> None:
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
