"""Fault specs of the emulator: parsing, schedules, and reproducibility from the seed."""

from __future__ import annotations

import pytest

from ocpikit.testing.emulator.faults import FaultPlan, FaultSpecError, parse_fault


def test_a_spec_with_a_probability_and_options() -> None:
    rule = parse_fault("rate-limit:0.3,retry_after=5,on=locations+tariffs")
    assert rule.mode == "rate-limit" and rule.probability == 0.3 and rule.retry_after == 5
    assert rule.on == {"locations", "tariffs"}


def test_defaults_of_each_mode() -> None:
    assert parse_fault("slow").delay == 2.0
    assert parse_fault("timeout").delay == 60.0
    assert parse_fault("pagination").kind == "mixed"
    assert parse_fault("truncated-body").kind == "json"
    assert parse_fault("server-error").status == 500
    assert "credentials" not in parse_fault("drop").on


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("teapot", "unknown mode"),
        ("slow:1.5", "above 1"),
        ("slow:every=0", "whole number"),
        ("slow:every=x", "number"),
        ("pagination:kind=odd", "kind 'odd'"),
        ("auth:on=payments", "unknown module"),
        ("server-error:status=404", "5xx"),
        ("slow:color=red", "unknown item"),
    ],
)
def test_bad_specs_name_the_problem(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        parse_fault(spec)


def _fires(spec: str, n: int, module: str = "locations", kind: str = "list") -> list[bool]:
    plan = FaultPlan.from_specs([spec], seed=3)
    return [bool(plan.decide(module, kind)) for _ in range(n)]


def test_schedules() -> None:
    assert _fires("server-error:every=3", 7) == [False, False, True, False, False, True, False]
    assert _fires("server-error:first=2", 4) == [True, True, False, False]
    assert _fires("server-error:after=2", 4) == [False, False, True, True]
    assert _fires("server-error:times=2", 4) == [True, True, False, False]
    assert _fires("server-error", 3) == [True, True, True]


def test_a_probability_is_reproducible_from_the_seed() -> None:
    first = _fires("rate-limit:0.3", 200)
    assert first == _fires("rate-limit:0.3", 200)
    assert 30 <= sum(first) <= 90
    other = FaultPlan.from_specs(["rate-limit:0.3"], seed=4)
    assert [bool(other.decide("locations", "list")) for _ in range(200)] != first


def test_eligibility() -> None:
    plan = FaultPlan.from_specs(["pagination:kind=repeat", "server-error"])
    # registration is spared unless on= says otherwise
    assert plan.decide("credentials", "other") == []
    # pagination only on lists
    assert [t.mode for t in plan.decide("locations", "object")] == ["server-error"]
    assert {t.mode for t in plan.decide("locations", "list")} == {"pagination", "server-error"}
    # our own pushes: only the faults that change what we send
    assert plan.decide("locations", "push", outbound=True) == []
    dup = FaultPlan.from_specs(["duplicate-cdr"])
    assert dup.decide("sessions", "push", outbound=True) == []
    assert [t.mode for t in dup.decide("cdrs", "push", outbound=True)] == ["duplicate-cdr"]


def test_one_terminal_fault_at_most_and_counters() -> None:
    plan = FaultPlan.from_specs(["server-error", "rate-limit", "slow", "drop:every=2"])
    assert [t.mode for t in plan.decide("tariffs", "list")] == ["rate-limit", "slow"]
    assert [t.mode for t in plan.decide("tariffs", "list")] == ["drop", "slow"]
    assert plan.counts == {"rate-limit": 1, "slow": 2, "drop": 1}


def test_raw_tokens_is_not_terminal() -> None:
    plan = FaultPlan.from_specs(["auth:kind=raw"])
    assert plan.raw_tokens
    fired = plan.decide("locations", "list")
    assert [t.terminal for t in fired] == [False]


def test_mixed_pagination_picks_a_kind_per_page() -> None:
    plan = FaultPlan.from_specs(["pagination"], seed=1)
    kinds = {plan.decide("locations", "list")[0].kind for _ in range(60)}
    assert kinds == {"one-item", "no-link", "bad-link", "wrong-total", "repeat"}
