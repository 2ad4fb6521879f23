"""Speed trick: how a CDR check records the engine's priced breakdown (docs/cdrs.md "CDR
checks in the platform", performance).

Plan: a check stores the :class:`~ocpikit.tariffs.result.PriceResult` it priced the CDR with
in a compact form (:func:`pack_breakdown`: nested JSON lists of the result's own fields, the
decimals as their exact strings, the datetimes in ISO form), not as the report of
``ocpikit tariff price --json`` (:meth:`PriceResult.to_json`). The report repeats what it
derives (the amounts rounded to cents beside the exact ones, units, the "why" sentence of each
line, each number converted for JSON): some fifty conversions and a tree of small objects per
CDR, twice the work of the compact form, and twice the bytes to store. :func:`breakdown_json`
rebuilds the result from the compact form and gives its report, when one is asked for.

Invariant: ``breakdown_json(pack_breakdown(r)) == r.to_json()`` for every result ``r`` the
engine gives (``Decimal(str(d))`` is ``d`` with its exponent; an ISO datetime read back is the
same instant with the same UTC offset; a piece that shares its period's local start keeps
sharing it); ``tests/unit/operations/test_cdr_check_breakdown.py`` compares both over the
tariff cases and generated results. The compact form starts with :data:`FORMAT`; a stored
breakdown of another form is given back as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from ocpikit.tariffs.result import (
    Amount,
    JsonDict,
    Line,
    PeriodResult,
    PriceResult,
    StepEffect,
    SubPeriod,
)

__all__ = ["FORMAT", "breakdown_json", "pack_breakdown"]

#: the first item of a compact breakdown (a later form gets another number)
FORMAT = "priced-1"


def _amount(a: Amount) -> list[str | None]:
    incl = a.incl
    return [str(a.excl), None if incl is None else str(incl)]


def _sub(s: SubPeriod, p: PeriodResult) -> list[Any]:
    return [
        s.index,
        None if s.start == p.start else s.start.isoformat(),
        None if s.end == p.end else s.end.isoformat(),
        None if s.local_start is p.local_start else s.local_start.isoformat(),
        s.cause,
    ]


def _line(x: Line) -> list[Any]:
    vat = x.vat
    return [
        x.period,
        x.dimension,
        x.bucket,
        str(x.volume),
        str(x.billed),
        x.tariff_id,
        x.element,
        x.component,
        str(x.price),
        None if vat is None else str(vat),
        x.step_size,
        [[i, str(reason)] for i, reason in x.skipped] if x.skipped else [],
        _amount(x.cost),
        x.step_note,
        x.sub,
    ]


def _period(p: PeriodResult) -> list[Any]:
    return [
        p.index,
        p.kind,
        p.start.isoformat(),
        p.end.isoformat(),
        p.local_start.isoformat(),
        p.tariff_id,
        [_sub(s, p) for s in p.subs],
        [_line(x) for x in p.lines],
    ]


def _policy_value(value: Any) -> Any:
    return ["decimal", str(value)] if isinstance(value, Decimal) else value


def pack_breakdown(r: PriceResult) -> list[Any]:
    """The compact form of ``r`` (JSON: lists, strings, numbers, null)."""
    return [
        FORMAT,
        r.currency,
        r.tariff_ids,
        r.time_zone,
        r.decimals,
        _amount(r.total_cost),
        [[name, _amount(a)] for name, a in r.costs.items()],
        _amount(r.uncapped_total),
        str(r.total_energy),
        str(r.total_time),
        str(r.total_parking_time),
        [_period(p) for p in r.periods],
        [
            [s.group, str(s.consumed), str(s.billed), s.step_size, s.unit, s.period]
            for s in r.step_effects
        ],
        r.adjustments,
        [[None if rate is None else str(rate), str(tax)] for rate, tax in r.taxes.items()],
        [[k, _policy_value(v)] for k, v in r.policy.items()],
        r.warnings,
    ]


# --- reading back ------------------------------------------------------------------------------


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _amount_of(pair: Sequence[str | None]) -> Amount:
    excl, incl = pair
    return Amount(Decimal(str(excl)), _dec(incl))


def _period_of(raw: Sequence[Any]) -> PeriodResult:
    index, kind, start, end, local, tariff_id, subs, lines = raw
    p = PeriodResult(
        index,
        kind,
        datetime.fromisoformat(start),
        datetime.fromisoformat(end),
        datetime.fromisoformat(local),
        tariff_id,
    )
    for s_index, s_start, s_end, s_local, cause in subs:
        p.subs.append(
            SubPeriod(
                s_index,
                p.start if s_start is None else datetime.fromisoformat(s_start),
                p.end if s_end is None else datetime.fromisoformat(s_end),
                p.local_start if s_local is None else datetime.fromisoformat(s_local),
                cause,
            )
        )
    for line in lines:
        period, dim, bucket, volume, billed, tid, element, component, price = line[:9]
        vat, step_size, skipped, cost, step_note, sub = line[9:]
        p.lines.append(
            Line(
                period,
                dim,
                bucket,
                Decimal(volume),
                Decimal(billed),
                tid,
                element,
                component,
                Decimal(price),
                _dec(vat),
                step_size,
                [(i, reason) for i, reason in skipped],
                _amount_of(cost),
                step_note,
                sub,
            )
        )
    return p


def _result_of(packed: Sequence[Any]) -> PriceResult:
    (_, currency, tariff_ids, time_zone, decimals, total, costs, uncapped) = packed[:8]
    energy, time, parking, periods, steps, adjustments, taxes, policy, warnings = packed[8:]
    return PriceResult(
        currency=currency,
        tariff_ids=list(tariff_ids),
        time_zone=time_zone,
        costs={name: _amount_of(a) for name, a in costs},
        total_cost=_amount_of(total),
        uncapped_total=_amount_of(uncapped),
        total_energy=Decimal(energy),
        total_time=Decimal(time),
        total_parking_time=Decimal(parking),
        # not in the report: the computed quantities and the relevant cost fields
        computed_energy=Decimal(energy),
        computed_time=Decimal(time),
        computed_parking_time=Decimal(parking),
        periods=[_period_of(p) for p in periods],
        step_effects=[
            StepEffect(group, Decimal(consumed), Decimal(billed), step, unit, period)
            for group, consumed, billed, step, unit, period in steps
        ],
        adjustments=list(adjustments),
        taxes={_dec(rate): Decimal(tax) for rate, tax in taxes},
        policy={
            k: Decimal(v[1]) if isinstance(v, list) and v[:1] == ["decimal"] else v
            for k, v in policy
        },
        warnings=list(warnings),
        decimals=decimals,
    )


def breakdown_json(stored: Any) -> JsonDict | Any:
    """The report of ``ocpikit tariff price --json`` (:meth:`PriceResult.to_json`) of a
    breakdown a check stored (:func:`pack_breakdown`); anything else as it is."""
    if isinstance(stored, list) and stored[:1] == [FORMAT]:
        return _result_of(stored).to_json()
    return stored
