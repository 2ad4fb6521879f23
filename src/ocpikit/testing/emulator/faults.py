"""Fault modes of an emulated partner and when they fire: parsing ``--fault`` specs and the
seeded schedule that decides, request by request, which faults apply.

Syntax of one spec (docs/testing.md): ``MODE[:ITEM[,ITEM...]]``; an ITEM is a probability
(``0.3``) or a ``key=value`` pair. Schedule keys: ``every=N`` (the Nth, 2Nth, ... eligible
request), ``first=N`` (the first N), ``after=N`` (every one after the first N), ``times=N`` (at
most N injections). No schedule item means probability 1. Other keys tune the mode:
``seconds=`` (slow, timeout, clock-skew), ``retry_after=`` (rate-limit), ``status=``
(server-error), ``kind=`` (pagination, auth, truncated-body, missing-headers), ``on=`` (the
modules it applies to, ``+``-separated, or ``all``; by default the functional modules).

Invariant: the decisions depend only on the seed, the specs and the sequence of eligible
requests, so a run is reproducible; each rule has its own counter and random stream.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "FUNCTIONAL_MODULES",
    "MODES",
    "SERVER_ONLY",
    "TERMINAL",
    "FaultPlan",
    "FaultRule",
    "FaultSpecError",
    "Triggered",
    "parse_fault",
]

#: every fault mode the emulator knows
MODES = (
    "rate-limit",
    "server-error",
    "slow",
    "timeout",
    "truncated-body",
    "pagination",
    "auth",
    "missing-headers",
    "bad-objects",
    "clock-skew",
    "duplicate-cdr",
    "stale-session",
    "drop",
)

#: faults that replace the answer; when several fire, the first in this order wins
TERMINAL = ("drop", "timeout", "auth", "rate-limit", "server-error")

#: faults that only make sense on an answer we serve (never on our own pushes)
SERVER_ONLY = frozenset(
    {
        "rate-limit",
        "server-error",
        "slow",
        "timeout",
        "truncated-body",
        "pagination",
        "auth",
        "drop",
    }
)

#: modules a fault applies to unless ``on=`` says otherwise (configuration modules excluded,
#: so registration still works under faults)
FUNCTIONAL_MODULES = frozenset(
    {"locations", "tariffs", "sessions", "cdrs", "tokens", "commands", "hubclientinfo"}
)
ALL_MODULES = FUNCTIONAL_MODULES | {"versions", "credentials"}

_KINDS: Mapping[str, tuple[str, ...]] = {
    "pagination": ("mixed", "one-item", "no-link", "bad-link", "wrong-total", "repeat"),
    "auth": ("expire", "raw"),
    "truncated-body": ("json", "connection"),
    "missing-headers": ("all", "ids", "paging", "routing"),
}
_DEFAULT_SECONDS = {"slow": 2.0, "timeout": 60.0, "clock-skew": 3600.0}
_INT_KEYS = ("every", "first", "after", "times", "status", "retry_after")


class FaultSpecError(ValueError):
    """A ``--fault`` spec that cannot be parsed; the message names the spec and the problem."""


@dataclass(frozen=True)
class FaultRule:
    """One parsed spec: the mode, its schedule and its tuning (see the module docstring)."""

    mode: str
    probability: float = 1.0
    every: int | None = None
    first: int | None = None
    after: int | None = None
    times: int | None = None
    seconds: float | None = None
    retry_after: int = 1
    status: int = 500
    kind: str | None = None
    on: frozenset[str] = FUNCTIONAL_MODULES
    spec: str = ""

    @property
    def delay(self) -> float:
        """Seconds for slow, timeout and clock-skew (the mode's default when not given)."""
        return self.seconds if self.seconds is not None else _DEFAULT_SECONDS.get(self.mode, 0.0)

    def describe(self) -> dict[str, object]:
        return {"spec": self.spec, "mode": self.mode, "kind": self.kind}


def _number(spec: str, key: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise FaultSpecError(f"--fault {spec!r}: {key} must be a number, not {value!r}") from None
    if number < 0:
        raise FaultSpecError(f"--fault {spec!r}: {key} must not be negative")
    return number


def parse_fault(spec: str) -> FaultRule:
    """Parse one ``--fault`` spec; :class:`FaultSpecError` names what is wrong."""
    mode, _, rest = spec.strip().partition(":")
    if mode not in MODES:
        raise FaultSpecError(f"--fault {spec!r}: unknown mode {mode!r} (one of {', '.join(MODES)})")
    values: dict[str, object] = {"mode": mode, "spec": spec.strip()}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            probability = _number(spec, "probability", item)
            if probability > 1:
                raise FaultSpecError(f"--fault {spec!r}: probability {item} is above 1")
            values["probability"] = probability
        elif key in _INT_KEYS:
            number = _number(spec, key, value)
            if number != int(number) or (key in ("every", "times") and number < 1):
                raise FaultSpecError(f"--fault {spec!r}: {key} must be a whole number >= 1")
            values[key] = int(number)
        elif key == "seconds":
            values["seconds"] = _number(spec, key, value)
        elif key == "kind":
            kinds = _KINDS.get(mode, ())
            if value not in kinds:
                known = ", ".join(kinds) if kinds else "none"
                raise FaultSpecError(f"--fault {spec!r}: kind {value!r} (kinds of {mode}: {known})")
            values["kind"] = value
        elif key == "on":
            modules = frozenset(ALL_MODULES if value == "all" else value.split("+"))
            unknown = sorted(modules - ALL_MODULES)
            if unknown:
                raise FaultSpecError(f"--fault {spec!r}: unknown module(s) {', '.join(unknown)}")
            values["on"] = modules
        else:
            raise FaultSpecError(f"--fault {spec!r}: unknown item {item!r}")
    if "kind" not in values and mode in _KINDS:
        values["kind"] = _KINDS[mode][0]
    status = values.get("status")
    if mode == "server-error" and isinstance(status, int) and not 500 <= status <= 599:
        raise FaultSpecError(f"--fault {spec!r}: status must be a 5xx code")
    return FaultRule(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Triggered:
    """A fault that fires on this request (``kind`` resolved for ``pagination:kind=mixed``)."""

    rule: FaultRule
    kind: str | None

    @property
    def mode(self) -> str:
        return self.rule.mode

    @property
    def terminal(self) -> bool:
        """Replaces the answer (``auth:kind=raw`` only changes which tokens are accepted)."""
        return self.mode in TERMINAL and not (self.mode == "auth" and self.kind == "raw")


def eligible(rule: FaultRule, module: str, kind: str, outbound: bool) -> bool:
    """Whether ``rule`` counts this request: ``kind`` is ``list``, ``object`` or ``other`` for
    requests we answer, ``push`` for our own outbound requests."""
    if module not in rule.on:
        return False
    if outbound:
        if rule.mode in SERVER_ONLY:
            return False
    elif rule.mode in ("pagination",):
        return kind == "list"
    elif rule.mode == "bad-objects":
        return kind in ("list", "object")
    if rule.mode == "duplicate-cdr":
        return module == "cdrs" and kind in ("list", "push")
    if rule.mode == "stale-session":
        return module == "sessions" and kind in ("list", "push")
    return True


@dataclass
class _Schedule:
    rule: FaultRule
    rng: random.Random
    seen: int = 0
    injected: int = 0

    def fires(self) -> bool:
        self.seen += 1
        rule = self.rule
        if rule.times is not None and self.injected >= rule.times:
            return False
        if rule.every is not None and self.seen % rule.every != 0:
            return False
        if rule.first is not None and self.seen > rule.first:
            return False
        if rule.after is not None and self.seen <= rule.after:
            return False
        # always draw, so a probability's stream does not depend on the other items
        draw = self.rng.random()
        return rule.probability >= 1.0 or draw < rule.probability


@dataclass
class FaultPlan:
    """The faults in force and their counters; :meth:`decide` is called once per request."""

    seed: int = 0
    schedules: list[_Schedule] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_specs(cls, specs: Iterable[str], seed: int = 0) -> FaultPlan:
        plan = cls(seed=seed)
        plan.replace([parse_fault(s) for s in specs])
        return plan

    def replace(self, rules: Iterable[FaultRule]) -> None:
        """Put ``rules`` in force with fresh schedules (counters of injections are kept)."""
        self.schedules = [
            _Schedule(rule, random.Random(f"{self.seed}:{i}:{rule.spec}"))
            for i, rule in enumerate(rules)
        ]

    @property
    def rules(self) -> list[FaultRule]:
        return [s.rule for s in self.schedules]

    @property
    def raw_tokens(self) -> bool:
        """``auth:kind=raw`` is in force: we send raw tokens and refuse Base64 ones, whatever
        the version (a 2.2.1 partner that never adopted the encoding)."""
        return any(r.mode == "auth" and r.kind == "raw" for r in self.rules)

    def decide(self, module: str, kind: str, *, outbound: bool = False) -> list[Triggered]:
        """The faults that fire on one request, terminal ones first (at most one of them)."""
        fired: list[Triggered] = []
        for schedule in self.schedules:
            rule = schedule.rule
            if not eligible(rule, module, kind, outbound) or not schedule.fires():
                continue
            kind_now = rule.kind
            if rule.mode == "pagination" and kind_now == "mixed":
                kind_now = schedule.rng.choice(_KINDS["pagination"][1:])
            fired.append(Triggered(rule, kind_now))
        terminal = sorted((t for t in fired if t.terminal), key=lambda t: TERMINAL.index(t.mode))
        chosen = terminal[:1] + [t for t in fired if not t.terminal]
        for t in chosen:
            self.note(t)
        return chosen

    def note(self, triggered: Triggered) -> None:
        """Count one injection (``state`` shows the counters)."""
        for schedule in self.schedules:
            if schedule.rule is triggered.rule:
                schedule.injected += 1
        self.counts[triggered.mode] = self.counts.get(triggered.mode, 0) + 1
