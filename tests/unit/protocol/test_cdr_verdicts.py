"""The verdict rules of a CDR check (ocpikit.protocol.cdr_checks.verdict_of)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ocpikit.protocol.cdr_checks import Finding, Verdict, verdict_of

TOL = Decimal("0.01")


def cost(amount: str, incl: str | None = None, field: str = "total_cost") -> Finding:
    return Finding("cost", field, "off", Decimal(amount), None if incl is None else Decimal(incl))


def test_nothing_found_is_ok() -> None:
    assert verdict_of([], TOL, priced=True) is Verdict.OK


@pytest.mark.parametrize("amount", ["0.01", "-0.01", "0.004"])
def test_cost_differences_within_the_tolerance(amount: str) -> None:
    assert verdict_of([cost(amount)], TOL, priced=True) is Verdict.WITHIN_TOLERANCE


def test_a_cost_difference_beyond_the_tolerance_is_disputed() -> None:
    assert verdict_of([cost("0.011")], TOL, priced=True) is Verdict.DISPUTED
    # excl. VAT within, incl. VAT beyond
    assert verdict_of([cost("0.0", "0.02")], TOL, priced=True) is Verdict.DISPUTED


def test_the_tolerance_applies_per_cost_field_only() -> None:
    assert verdict_of([cost("0.01", field="total_energy_cost")], TOL, priced=True) is (
        Verdict.WITHIN_TOLERANCE
    )
    small_energy = Finding("energy", "total_energy", "kWh differ", Decimal("0.001"))
    assert verdict_of([small_energy], TOL, priced=True) is Verdict.DISPUTED
    no_amount = Finding("cost", "total_cost", "no amount")
    assert verdict_of([no_amount], TOL, priced=True) is Verdict.DISPUTED


@pytest.mark.parametrize("code", ["duplicate", "signed_data", "session_id", "times", "token"])
def test_any_other_reason_is_disputed(code: str) -> None:
    assert verdict_of([cost("0.001"), Finding(code, "x", "y")], TOL, priced=True) is (
        Verdict.DISPUTED
    )


def test_without_a_tariff_the_check_is_unverifiable_unless_something_else_is_wrong() -> None:
    missing = Finding("tariff_missing", "tariffs", "no tariff")
    assert verdict_of([missing], TOL, priced=False) is Verdict.UNVERIFIABLE
    assert verdict_of(
        [missing, Finding("duplicate", "session_id", "twice")], TOL, priced=False
    ) is (Verdict.DISPUTED)


def test_a_larger_partner_tolerance_tolerates_more() -> None:
    assert verdict_of([cost("1.5", "1.65")], Decimal("2"), priced=True) is (
        Verdict.WITHIN_TOLERANCE
    )


def test_only_the_partners_dispute_reasons_dispute() -> None:
    session = Finding("session", "start_date_time", "differs from the session")
    assert verdict_of([session], TOL, priced=True, disputing={"cost"}) is Verdict.OK
    assert verdict_of([session], TOL, priced=True, disputing={"session"}) is Verdict.DISPUTED
    assert verdict_of([session, cost("1.0")], TOL, priced=True, disputing={"cost"}) is (
        Verdict.DISPUTED
    )
    missing = Finding("tariff_missing", "tariffs", "no tariff")
    assert verdict_of([missing], TOL, priced=False, disputing=set()) is Verdict.UNVERIFIABLE
