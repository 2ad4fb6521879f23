"""Stage 5 of pricing: the cost of every priced line and the sums per CDR cost field.

Tax regimes (OCPI 2.2.1 ``mod_tariffs`` §PriceComponent ``vat``; 2.3.0 §Tariff
``tax_included``): prices excl. VAT plus a component's VAT; 2.3.0 prices that include taxes
(``YES``: the excl. amount is derived from the VAT, or equals the price without one) or carry
none (``N/A``); an unknown VAT (policy ``missing_vat``) makes the incl. amount unknown.

Plan of :func:`sum_costs`: the common case (a VAT rate, a tariff whose prices exclude it) is
computed inline with the VAT factor cached per rate; every other case goes through
:func:`line_amount`, the plain rule. Invariant: every line's cost equals
``line_amount(price × billed, vat, its tariff, policy)`` (the tests compare both). Sums start at
zero and add in line order, exactly as :class:`Amount` addition would; an unknown incl. amount
makes its sum unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ocpikit.tariffs.fast_records import fast_frozen
from ocpikit.tariffs.normal import NTariff
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.result import COST_BUCKETS, ZERO_AMOUNT, Amount, Line

__all__ = ["CostSummary", "line_amount", "sum_costs"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


@fast_frozen
@dataclass(frozen=True, slots=True)
class CostSummary:
    """The sums per cost field (only fields some line priced), the tax per VAT rate and the
    total of the fields before min/max price."""

    costs: dict[str, Amount]
    taxes: dict[Decimal | None, Decimal]
    total: Amount


def line_amount(base: Decimal, vat: Decimal | None, tariff: NTariff, policy: Policy) -> Amount:
    """Excl./incl. amounts of ``base`` = price × billed quantity under the tariff's tax regime."""
    tax = tariff.tax_included
    if tax == "YES":
        if vat is not None:
            return Amount(base / (_ONE + vat / _HUNDRED), base)
        return Amount(base, base)  # A20: before_taxes = price (policy tax_included_without_vat)
    if tax == "N/A":
        return Amount(base, base)
    if vat is not None:
        return Amount(base, base * (_ONE + vat / _HUNDRED))
    mode = policy.missing_vat
    if mode == "auto":
        unknown = tax == "NO" or tariff.origin == "2.1.1"
        if tariff.origin == "2.2.1":
            unknown = False
        mode = "unknown" if unknown else "no_vat"
    return Amount(base, base if mode == "no_vat" else None)


def sum_costs(
    lines: list[Line], main: NTariff, by_id: dict[str, NTariff], policy: Policy
) -> CostSummary:
    """Stage 5: set each line's ``cost`` and sum them per cost field and per VAT rate."""
    excl_sums: dict[str, Decimal] = {}
    incl_sums: dict[str, Decimal | None] = {}
    taxes: dict[Decimal | None, Decimal] = {}
    factors: dict[Decimal, Decimal] = {}
    main_id = main.id
    for line in lines:
        tariff = main if line.tariff_id == main_id else by_id.get(line.tariff_id.upper(), main)
        base = line.price * line.billed
        vat = line.vat
        incl: Decimal | None
        if vat is not None and tariff.tax_included not in ("YES", "N/A"):
            factor = factors.get(vat)
            if factor is None:
                factor = factors[vat] = _ONE + vat / _HUNDRED
            excl, incl = base, base * factor
            line.cost = Amount(excl, incl)
        else:
            cost = line.cost = line_amount(base, vat, tariff, policy)
            excl, incl = cost.excl, cost.incl
        bucket = line.bucket
        so_far = excl_sums.get(bucket)
        if so_far is None:
            excl_sums[bucket] = _ZERO + excl
            incl_sums[bucket] = None if incl is None else _ZERO + incl
        else:
            excl_sums[bucket] = so_far + excl
            incl_so_far = incl_sums[bucket]
            incl_sums[bucket] = None if incl_so_far is None or incl is None else incl_so_far + incl
        if incl is not None:
            tax = incl - excl
            if tax != 0:
                taxes[vat] = taxes.get(vat, _ZERO) + tax
    costs = {name: Amount(excl_sums[name], incl_sums[name]) for name in excl_sums}
    total_excl = _ZERO
    total_incl: Decimal | None = _ZERO
    for name in COST_BUCKETS:
        part = costs.get(name, ZERO_AMOUNT)
        total_excl = total_excl + part.excl
        total_incl = None if total_incl is None or part.incl is None else total_incl + part.incl
    return CostSummary(costs, taxes, Amount(total_excl, total_incl))
