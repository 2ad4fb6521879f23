"""Stage 6 of pricing: min_price / max_price (OCPI 2.2.1 / 2.3.0 ``mod_tariffs`` §Tariff).

The limits apply to the excl. and incl. totals independently (DIGEST §4.4; policies
``min_price``/``max_price``). Policy ``min_max_adjustment=fixed`` also books the difference in
``total_fixed_cost`` so the cost fields add up to the total; by default only the total changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocpikit.tariffs.fast_records import fast_frozen
from ocpikit.tariffs.normal import NTariff
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.result import ZERO_AMOUNT, Amount

__all__ = ["MinMaxOutcome", "apply_min_max", "clamp"]


@fast_frozen
@dataclass(frozen=True, slots=True)
class MinMaxOutcome:
    """The total after min/max price, what changed it (one note per limit applied) and the cost
    fields (with ``total_fixed_cost`` adjusted under ``min_max_adjustment=fixed``)."""

    total: Amount
    adjustments: list[str]
    costs: dict[str, Amount]


def clamp(total: Amount, tariff: NTariff, policy: Policy) -> tuple[Amount, list[str]]:
    """``total`` raised to min_price and capped at max_price, with the notes."""
    notes: list[str] = []
    excl, incl = total.excl, total.incl
    if policy.min_price == "apply":
        if tariff.min_excl is not None and excl < tariff.min_excl:
            notes.append(f"min_price: excl {excl} raised to {tariff.min_excl}")
            excl = tariff.min_excl
        if tariff.min_incl is not None and incl is not None and incl < tariff.min_incl:
            notes.append(f"min_price: incl {incl} raised to {tariff.min_incl}")
            incl = tariff.min_incl
    if policy.max_price == "apply":
        if tariff.max_excl is not None and excl > tariff.max_excl:
            notes.append(f"max_price: excl {excl} capped at {tariff.max_excl}")
            excl = tariff.max_excl
        if tariff.max_incl is not None and incl is not None and incl > tariff.max_incl:
            notes.append(f"max_price: incl {incl} capped at {tariff.max_incl}")
            incl = tariff.max_incl
    return Amount(excl, incl), notes


def apply_min_max(
    raw_total: Amount, costs: dict[str, Amount], tariff: NTariff, policy: Policy
) -> MinMaxOutcome:
    """Stage 6: the limits of ``tariff`` (the session's main tariff) on ``raw_total``."""
    total, adjustments = clamp(raw_total, tariff, policy)
    if policy.min_max_adjustment == "fixed" and total != raw_total:
        delta_incl = (
            None if total.incl is None or raw_total.incl is None else total.incl - raw_total.incl
        )
        costs = dict(costs)
        costs["total_fixed_cost"] = costs.get("total_fixed_cost", ZERO_AMOUNT) + Amount(
            total.excl - raw_total.excl, delta_incl
        )
    return MinMaxOutcome(total, adjustments, costs)
