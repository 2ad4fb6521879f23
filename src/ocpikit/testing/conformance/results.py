"""What a conformance run produces: one :class:`Result` per check (pass, fail or skip, the spec
section behind it, a message, and for a failure the request, the response excerpt and what was
expected), gathered in a :class:`Report` for one target."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAIL", "PASS", "SKIP", "STATUSES", "Report", "Result"]

PASS = "pass"
FAIL = "fail"
SKIP = "skip"
STATUSES = (PASS, FAIL, SKIP)


@dataclass(frozen=True)
class Result:
    """The verdict of one check. ``spec`` is the section cited, e.g. ``"2.2.1
    transport_and_format §Pagination"``; ``request``/``response``/``expected`` explain a
    failure (empty otherwise)."""

    id: str
    status: str
    spec: str
    message: str
    request: str = ""
    response: str = ""
    expected: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of ``--json``: ``id``, ``status``, ``spec``, ``message`` (plus the
        failure details when there are any)."""
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "spec": self.spec,
            "message": self.message,
        }
        for key in ("request", "response", "expected"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


@dataclass
class Report:
    """Every result of a run against ``target`` (its versions URL), in the plan's order;
    ``info`` says what was tested (version, role, mode, registration)."""

    target: str
    results: list[Result] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(r.status for r in self.results)
        return {status: counts.get(status, 0) for status in STATUSES}

    @property
    def ok(self) -> bool:
        """No check failed."""
        return self.summary[FAIL] == 0

    def by_id(self) -> dict[str, Result]:
        return {r.id: r for r in self.results}

    def failed(self) -> list[str]:
        return [r.id for r in self.results if r.status == FAIL]

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            **self.info,
            "checks": [r.as_dict() for r in self.results],
            "summary": self.summary,
        }
