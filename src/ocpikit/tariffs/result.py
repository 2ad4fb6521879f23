"""What pricing returns: amounts, per-period and per-dimension lines that explain every cent,
and their JSON / table forms.

JSON keys follow the 2.2.1 CDR cost fields whatever the input version (``total_cost``,
``total_energy_cost``, ... each ``{excl_vat, incl_vat}``), so two partners on different versions
read the same report; ``incl_vat`` is ``null`` when it cannot be known (no VAT information).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeAlias

from ocpikit.core.types import format_datetime
from ocpikit.tariffs.fast_records import fast_frozen
from ocpikit.tariffs.policy import PolicyValue

__all__ = [
    "COST_BUCKETS",
    "Amount",
    "JsonDict",
    "Line",
    "PeriodForms",
    "PeriodResult",
    "PriceResult",
    "Reason",
    "StepEffect",
    "SubPeriod",
    "json_number",
]

#: a JSON object as the reports build it (values: JSON numbers, strings, lists, objects, null)
JsonDict: TypeAlias = dict[str, object]

#: the CDR cost fields besides total_cost, in the order reports print them
COST_BUCKETS = (
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_fixed_cost",
    "total_reservation_cost",
)
_ZERO = Decimal(0)
_NOISE_FLOOR = Decimal("1e-12")


def json_number(value: Decimal | None, decimals: int = -1) -> int | float | None:
    if value is None:
        return None
    if not value:  # a zero (of any exponent or sign) is 0 at any decimals: most cost fields
        return 0
    if decimals >= 0:
        # drop the 28th-digit noise of inexact quotients first (a 0.135 computed as
        # 0.1349999999999999999999999999 must round to 0.14), then half-up
        if value.adjusted() < 15:
            value = value.quantize(_NOISE_FLOOR)
        value = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    # to_json_number inlined (a breakdown has some fifty numbers): integral as int, else float
    if value == value.to_integral_value():
        return int(value)
    return float(value)


@fast_frozen
@dataclass(frozen=True, slots=True)
class Amount:
    """An amount excl. and incl. VAT/taxes; ``incl`` is ``None`` when unknown."""

    excl: Decimal
    incl: Decimal | None

    def __add__(self, other: Amount) -> Amount:
        incl = None if self.incl is None or other.incl is None else self.incl + other.incl
        return Amount(self.excl + other.excl, incl)

    def __neg__(self) -> Amount:
        return Amount(-self.excl, None if self.incl is None else -self.incl)

    @property
    def tax(self) -> Decimal | None:
        return None if self.incl is None else self.incl - self.excl

    def to_json(self, decimals: int = -1) -> JsonDict:
        # zeros (most cost fields of a report) without the call: json_number gives 0 for them
        excl, incl = self.excl, self.incl
        return {
            "excl_vat": json_number(excl, decimals) if excl else 0,
            "incl_vat": json_number(incl, decimals) if incl else (None if incl is None else 0),
        }


ZERO_AMOUNT = Amount(_ZERO, _ZERO)


class Reason:
    """Why an element did not match, formatted only when shown (pricing throughput)."""

    __slots__ = ("_args", "_fn")

    def __init__(self, fn: Callable[..., str], *args: Any) -> None:
        self._fn = fn
        self._args = args

    def __str__(self) -> str:
        return self._fn(*self._args)

    def __repr__(self) -> str:
        return repr(str(self))

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


@dataclass(slots=True)
class Line:
    """One priced dimension of one period: which element/component applied, and why.

    ``volume`` is what was consumed (kWh or hours; 1 for FLAT) and ``billed`` what is charged
    after step_size; ``skipped`` lists the earlier elements passed over, with the reason.
    """

    period: int
    dimension: str
    bucket: str
    volume: Decimal
    billed: Decimal
    tariff_id: str
    element: int | None
    component: int | None
    price: Decimal
    vat: Decimal | None
    step_size: int
    skipped: list[tuple[int, str | Reason]]
    cost: Amount = ZERO_AMOUNT
    step_note: str = ""
    #: which piece of the period (:class:`SubPeriod`) the line prices
    sub: int = 0

    def to_json(self, decimals: int = -1) -> JsonDict:
        out: JsonDict = {
            "sub_period": self.sub,
            "dimension": self.dimension,
            "cost_field": self.bucket,
            "volume": json_number(self.volume),
            "billed": json_number(self.billed),
            "unit": _UNIT.get(self.dimension, ""),
            "tariff_id": self.tariff_id,
            "element": self.element,
            "component": self.component,
            "price": json_number(self.price),
            "vat": json_number(self.vat),
            "step_size": self.step_size,
            "cost": self.cost.to_json(decimals),
            "why": self.why(),
        }
        if self.step_note:
            out["step_size_effect"] = self.step_note
        return out

    def why(self) -> str:
        if self.element is None:
            return f"no element of tariff {self.tariff_id} has an active {self.dimension} component"
        parts = [f"element {i}: {reason}" for i, reason in self.skipped]
        chosen = f"element {self.element} is the first with a matching {self.dimension} component"
        return "; ".join([*parts, chosen])


_UNIT = {
    "ENERGY": "kWh",
    "TIME": "h",
    "PARKING_TIME": "h",
    "RESERVATION_TIME": "h",
    "FLAT": "",
}


@dataclass(slots=True)
class SubPeriod:
    """A piece of a period between two restriction boundaries, priced by the elements active
    at its start (``cause``: why it starts there; the first piece starts with the period)."""

    index: int
    start: datetime
    end: datetime
    local_start: datetime
    cause: str

    def to_json(self, period: PeriodForms | None = None) -> JsonDict:
        """``period``: the forms of the period's own times, reused where this piece has the
        same (one piece per period is the rule)."""
        if period is None:
            period = PeriodForms.of(self.start, self.end, self.local_start)
        return {
            "sub_period": self.index,
            "start_date_time": period.start_text
            if self.start == period.start
            else format_datetime(self.start),
            "end_date_time": period.end_text
            if self.end == period.end
            else format_datetime(self.end),
            "local_start": period.local_text
            if self.local_start is period.local_start
            else self.local_start.isoformat(),
            "starts_because": self.cause,
        }


@dataclass(frozen=True, slots=True)
class PeriodForms:
    """A period's start, end and local start with their JSON forms (formatted once)."""

    start: datetime
    end: datetime
    local_start: datetime
    start_text: str
    end_text: str
    local_text: str

    @staticmethod
    def of(start: datetime, end: datetime, local_start: datetime) -> PeriodForms:
        return PeriodForms(
            start,
            end,
            local_start,
            format_datetime(start),
            format_datetime(end),
            local_start.isoformat(),
        )


@dataclass(slots=True)
class PeriodResult:
    """A charging (or reservation) period, the local time its restrictions were read in, and
    its lines. A period crossing a restriction boundary is priced in pieces (``subs``; one
    piece when it crosses none); each line names its piece."""

    index: int
    kind: str
    start: datetime
    end: datetime
    local_start: datetime
    tariff_id: str
    lines: list[Line] = field(default_factory=list)
    subs: list[SubPeriod] = field(default_factory=list)

    def local_start_of(self, sub: int) -> datetime:
        return self.subs[sub].local_start if sub < len(self.subs) else self.local_start

    def to_json(self, decimals: int = -1) -> JsonDict:
        forms = PeriodForms.of(self.start, self.end, self.local_start)
        return {
            "period": self.index,
            "kind": self.kind,
            "start_date_time": forms.start_text,
            "end_date_time": forms.end_text,
            "local_start": forms.local_text,
            "tariff_id": self.tariff_id,
            "sub_periods": [s.to_json(forms) for s in self.subs],
            "dimensions": [line.to_json(decimals) for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class StepEffect:
    """step_size applied to one group (DIGEST §4.3): consumed vs billed total, the step used
    and which line took the extra."""

    group: str
    consumed: Decimal
    billed: Decimal
    step_size: int
    unit: str
    period: int | None

    def to_json(self) -> JsonDict:
        return {
            "group": self.group,
            "consumed": json_number(self.consumed),
            "billed": json_number(self.billed),
            "extra": json_number(self.billed - self.consumed),
            "step_size": self.step_size,
            "unit": self.unit,
            "extra_billed_in_period": self.period,
        }


@dataclass(slots=True)
class PriceResult:
    """The price of one session or CDR and its explanation."""

    currency: str
    tariff_ids: list[str]
    time_zone: str
    costs: dict[str, Amount]
    total_cost: Amount
    uncapped_total: Amount
    total_energy: Decimal
    total_time: Decimal
    total_parking_time: Decimal
    computed_energy: Decimal
    computed_time: Decimal
    computed_parking_time: Decimal
    periods: list[PeriodResult]
    step_effects: list[StepEffect]
    adjustments: list[str]
    taxes: dict[Decimal | None, Decimal]
    policy: dict[str, PolicyValue]
    warnings: list[str] = field(default_factory=list)
    decimals: int = -1
    relevant: frozenset[str] = frozenset()

    @property
    def lines(self) -> list[Line]:
        return [line for p in self.periods for line in p.lines]

    def cost(self, name: str) -> Amount:
        if name == "total_cost":
            return self.total_cost
        return self.costs.get(name, ZERO_AMOUNT)

    def to_json(self) -> JsonDict:
        d = self.decimals
        buckets = [(name, self.cost(name)) for name in COST_BUCKETS]
        out: JsonDict = {"total_cost": self.total_cost.to_json(d)}
        for name, amount in buckets:
            out[name] = amount.to_json(d)
        # the money at 2 decimals, ROUND_HALF_UP (5.625 -> 5.63, as the spec's examples round),
        # beside the exact amounts: a consumer rounding the exact JSON float with a float
        # round() would get 5.62 (binary tie, half-even)
        rounded: JsonDict = {"decimals": 2, "rounding": "ROUND_HALF_UP"}
        rounded["total_cost"] = self.total_cost.to_json(2)
        for name, amount in buckets:
            rounded[name] = amount.to_json(2)
        out["rounded"] = rounded
        out["total_energy"] = json_number(self.total_energy)
        out["total_time"] = json_number(self.total_time)
        out["total_parking_time"] = json_number(self.total_parking_time)
        out["currency"] = self.currency
        out["tariff_ids"] = self.tariff_ids
        out["time_zone"] = self.time_zone
        out["breakdown"] = [p.to_json(d) for p in self.periods]
        out["step_size"] = [s.to_json() for s in self.step_effects]
        out["min_max_price"] = self.adjustments
        out["uncapped_total_cost"] = self.uncapped_total.to_json(d)
        out["taxes"] = [
            {"vat": json_number(rate), "amount": json_number(amount)}
            for rate, amount in self.taxes.items()
        ]
        out["policy"] = dict(self.policy)
        out["warnings"] = self.warnings
        return out

    def to_table(self) -> str:
        """A readable report: the totals, then one row per priced line."""
        d = self.decimals if self.decimals >= 0 else 4

        def fmt(value: Decimal | None) -> str:
            if value is None:
                return "-"
            return str(value.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP))

        rows = [
            f"currency {self.currency}   tariffs {', '.join(self.tariff_ids)}   "
            f"time zone {self.time_zone}",
            "",
            f"{'period':>6} {'local start':<20} {'dimension':<13} {'volume':>10} {'billed':>10} "
            f"{'el':>3} {'price':>8} {'vat%':>5} {'excl':>10} {'incl':>10}",
        ]
        for p in self.periods:
            for line in p.lines:
                label = f"{p.index}" if len(p.subs) < 2 else f"{p.index}.{line.sub}"
                rows.append(
                    f"{label:>6} {p.local_start_of(line.sub).strftime('%a %Y-%m-%d %H:%M'):<20} "
                    f"{line.dimension:<13} {_short(line.volume):>10} {_short(line.billed):>10} "
                    f"{'-' if line.element is None else line.element:>3} "
                    f"{_short(line.price):>8} {_short(line.vat):>5} "
                    f"{fmt(line.cost.excl):>10} {fmt(line.cost.incl):>10}"
                )
        rows.append("")
        for s in self.step_effects:
            rows.append(
                f"step_size {s.group}: {_short(s.consumed)} -> {_short(s.billed)} {s.unit} "
                f"(step {s.step_size})"
            )
        rows.extend(self.adjustments)
        rows.append("")
        rows.append(f"{'cost field':<24} {'excl_vat':>12} {'incl_vat':>12}")
        for name in COST_BUCKETS:
            a = self.cost(name)
            rows.append(f"{name:<24} {fmt(a.excl):>12} {fmt(a.incl):>12}")
        rows.append(
            f"{'total_cost':<24} {fmt(self.total_cost.excl):>12} {fmt(self.total_cost.incl):>12}"
        )
        rows.append(
            f"total_energy {_short(self.total_energy)} kWh   total_time {_short(self.total_time)} h"
            f"   total_parking_time {_short(self.total_parking_time)} h"
        )
        rows.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(rows)


def _short(value: Decimal | None) -> str:
    if value is None:
        return "-"
    q = value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    return f"{q:f}"
