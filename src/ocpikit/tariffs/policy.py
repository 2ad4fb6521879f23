"""Named positions on the places where the OCPI pricing text is ambiguous or contradicts itself.

Every setting has a documented default (the reading we defend, usually the latest errata text)
and the values that reproduce each other source's reading; ``docs/tariffs.md`` lists them with
their sources. Settings are plain strings or numbers so that a command line can set them
(``--policy step_size=session_total``) and a report can print them back.

Sources cited below: DIGEST §4.2–§4.5 and §5.4, errata index A4, A5, A6, A9, A10, A15, A20,
A25, A26, and the ``ambiguous`` / ``conflicting_versions`` / ``conflicts_with_spec`` cases of the
shared tariff corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import TypeAlias

__all__ = ["POLICY_CHOICES", "PRESETS", "Policy", "PolicyError", "PolicyValue"]

#: the value of a setting: a choice, an integer, or a Decimal tolerance (``as_dict`` prints
#: Decimals as strings)
PolicyValue: TypeAlias = str | int | Decimal


class PolicyError(ValueError):
    """An unknown policy name or a value outside its choices."""


#: the allowed values of each string setting (first = default)
POLICY_CHOICES: dict[str, tuple[str, ...]] = {
    # A4: 2.1.1 "first tariff element with matching restrictions" read per dimension (2.2+
    # text) or literally as whole elements.
    "element_selection": ("per_dimension", "whole_element"),
    # A6 / DIGEST §4.3: how step_size rounds TIME and PARKING_TIME.
    #   session        - rules 1-6 + bugfix: parking total only when parking is priced, else the
    #                    charging total; extra billed at the last period's price (2.3.0, bugfix
    #                    branches: tariff_14 ex1 0.55, ex3 0.73)
    #   session_total  - TIME + PARKING_TIME rounded together (2.2.1 tag text: ex1 0.383,
    #                    ex3 0.78)
    #   per_period     - every period rounded on its own (a common partner reading)
    #   ignore         - no rounding (2.3.0 tariff_3 table, A25; the 2.2.1 bugfix advice
    #                    "step_size 1 always")
    "step_size": ("session", "session_total", "per_period", "ignore"),
    # the same choice for ENERGY (session = rule 5: once per session, extra at the last price)
    "energy_step_size": ("session", "per_period", "ignore"),
    # tariff_7 (2.2.1 tag only): min/max_duration measured on the session (normative
    # TariffRestrictions text) or, for PARKING_TIME components, on the parking time so far
    # (the tariff_7 prose: 7.30).
    "duration_basis": ("session", "parking"),
    # A5: day_of_week when a time window wraps past midnight: the calendar day at the instant,
    # or the day on which the window opened (Fri 22:00-06:00 still FRIDAY at Sat 01:00).
    "day_of_week_wrap": ("calendar", "window_start"),
    # A5: end_time exclusive ([start, end)) or inclusive.
    "end_time": ("exclusive", "inclusive"),
    # A15: PARKING_TIME as the CPO labelled it (errata: vehicle not requesting power; only the
    # CPO can know) or recomputed as "time with no energy" (2.2.1/2.3.0 release text).
    "parking_definition": ("dimension", "no_energy"),
    # a period without TIME/PARKING_TIME dimensions: derive its duration from the timestamps
    # (energy > 0: TIME, else PARKING_TIME) or treat it as having none.
    "missing_time": ("infer", "zero"),
    # min/max_current and min/max_power restrictions: which period value is compared.
    "measurement": ("average", "max", "min"),
    # a current/power restriction on a period that carries no such value.
    "missing_measurement": ("no_match", "match"),
    # FLAT: charged once for the session (the first period where a FLAT is active; the examples
    # and tandemdrive multiple_flat_fees), once per element that becomes active, or per period.
    "flat": ("once", "once_per_element", "per_period"),
    # DIGEST §4.5: a FLAT in an element whose other components are all PARKING_TIME is parking
    # cost ("including fixed price components"), or always fixed cost.
    "flat_parking": ("parking_only_element", "fixed"),
    # PriceComponent.vat omitted: "no VAT applicable" (2.2.1 text; incl = excl, as the corpus
    # expects for 2.2.1 and 2.3.0 tariffs without vat), incl unknown (tariff_7 case notes,
    # tariff_19 "plus local taxes"), or auto (unknown for 2.1.1 and 2.3.0 tax_included=NO).
    "missing_vat": ("no_vat", "unknown", "auto"),
    # A20: tax_included=YES without vat: before_taxes = price (digest PRACTICE) or unknown tax
    # split reported with before = incl.
    "tax_included_without_vat": ("before_equals_price",),
    # min_price / max_price: applied (both bounds independently) or ignored (tandemdrive
    # ocpi-tariffs 0.6.x test cdr2_less_than_2kWh).
    "min_price": ("apply", "ignore"),
    "max_price": ("apply", "ignore"),
    # A10: where a min/max adjustment shows: only in total_cost, or also in total_fixed_cost.
    "min_max_adjustment": ("total_only", "fixed"),
    # A9: a credit CDR negates every cost field, or total_cost only (strict text).
    "credit": ("all_costs", "total_cost_only"),
    # no time zone given and none on the location: UTC, or refuse.
    "time_zone_fallback": ("utc", "error"),
    # a tariff whose start/end_date_time excludes the session start: refuse, or use it anyway.
    "tariff_validity": ("strict", "ignore"),
    # reservation periods with no charging afterwards: expired (RESERVATION_EXPIRES elements
    # first) decided automatically, never, or always.
    "reservation_expired": ("auto", "never", "always"),
    # A period crossing a restriction boundary (start/end_time, local midnight for day_of_week
    # and dates, a DST change, min/max_duration, min/max_kwh): split it there and price each
    # piece by the elements active in it (restrictions "switch on and off during the session",
    # TariffRestrictions; TariffElement "at each instant"), or price the whole period by the
    # elements matching at its start (the CPO must split, mod_cdrs §ChargingPeriod; the engine's
    # reading before 0.2).
    "period_split": ("restrictions", "none"),
    # min/max_kwh inside a period: the instant the threshold is crossed is interpolated assuming
    # constant power over the period (its energy and time volumes are spread evenly), or kWh are
    # read at the period start only (no split at kWh thresholds).
    "kwh_split": ("interpolate", "period_start"),
}


@dataclass(frozen=True, slots=True)
class Policy:
    """All pricing positions; ``Policy()`` is the documented default."""

    element_selection: str = "per_dimension"
    step_size: str = "session"
    energy_step_size: str = "session"
    duration_basis: str = "session"
    day_of_week_wrap: str = "calendar"
    end_time: str = "exclusive"
    parking_definition: str = "dimension"
    missing_time: str = "infer"
    measurement: str = "average"
    missing_measurement: str = "no_match"
    flat: str = "once"
    flat_parking: str = "parking_only_element"
    missing_vat: str = "no_vat"
    tax_included_without_vat: str = "before_equals_price"
    min_price: str = "apply"
    max_price: str = "apply"
    min_max_adjustment: str = "total_only"
    credit: str = "all_costs"
    time_zone_fallback: str = "utc"
    tariff_validity: str = "strict"
    reservation_expired: str = "auto"
    period_split: str = "restrictions"
    kwh_split: str = "interpolate"
    #: step_size for TIME/PARKING_TIME (seconds) and RESERVATION time replacing the tariff's
    #: (A26: the 2.3.0 North American examples say "per 60 seconds" but carry step_size 1);
    #: 0 = use the tariff's value
    time_step_override: int = 0
    #: time volumes are hours with a few decimals (0.0833 h = 299.88 s): a consumed duration
    #: this many seconds above a step multiple still counts as that multiple
    time_step_tolerance: Decimal = Decimal("0.5")
    #: the same for ENERGY, in Wh (0: volumes in kWh are exact decimals)
    energy_step_tolerance: Decimal = Decimal(0)
    #: amounts rounded ROUND_HALF_UP to this many decimals in results; -1 = exact (the spec
    #: defines no rounding, DIGEST §4.2)
    decimals: int = -1

    def __post_init__(self) -> None:
        for name, choices in POLICY_CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                raise PolicyError(f"policy {name}={value!r}: choose one of {', '.join(choices)}")

    def with_(self, **changes: PolicyValue) -> Policy:
        """A copy with some settings changed (validated)."""
        # each value's type is checked against its setting by __post_init__ (choices) and
        # the parser; mypy cannot match a ** mapping to the individual fields
        return replace(self, **changes)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, PolicyValue]:
        out: dict[str, PolicyValue] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Decimal) else value
        return out

    def changed(self) -> dict[str, PolicyValue]:
        """Only the settings that differ from the default."""
        default = Policy().as_dict()
        return {k: v for k, v in self.as_dict().items() if default[k] != v}

    @classmethod
    def parse(cls, items: list[str] | None, base: Policy | None = None) -> Policy:
        """Build from ``name=value`` strings; a bare name is a preset (see :data:`PRESETS`)."""
        policy = base or cls()
        for item in items or []:
            name, sep, value = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep:
                if item.strip() in PRESETS:
                    policy = policy.with_(**PRESETS[item.strip()])
                    continue
                raise PolicyError(
                    f"--policy {item!r}: expected name=value or a preset "
                    f"({', '.join(sorted(PRESETS))})"
                )
            policy = policy.with_(**{name: _coerce(name, value.strip())})
        return policy


def _coerce(name: str, value: str) -> PolicyValue:
    known = {f.name: f for f in fields(Policy)}
    if name not in known:
        raise PolicyError(f"unknown policy {name!r}; known: {', '.join(sorted(known))}")
    if name in POLICY_CHOICES:
        return value
    if name in ("time_step_tolerance", "energy_step_tolerance"):
        try:
            return Decimal(value)
        except ArithmeticError:
            raise PolicyError(f"policy {name}: {value!r} is not a number") from None
    try:
        return int(value)
    except ValueError:
        raise PolicyError(f"policy {name}: {value!r} is not an integer") from None


#: named bundles of settings reproducing one source's reading
PRESETS: dict[str, dict[str, PolicyValue]] = {
    # OCPI 2.2.1 tag text (tariff_14 step_size examples, tariff_7 prose)
    "ocpi-2.2.1-text": {"step_size": "session_total", "duration_basis": "parking"},
    # the 2.3.0 tariff_3 table and the 2.2.1 bugfix advice to avoid step_size
    "no-step-size": {"step_size": "ignore", "energy_step_size": "ignore"},
    # tandemdrive ocpi-tariffs 0.6.x test vectors (min_price not applied)
    "tandemdrive-0.6": {"min_price": "ignore"},
    # strict literal 2.1.1 element selection
    "ocpi-2.1.1-literal": {"element_selection": "whole_element"},
    # every period priced by the elements matching at its start (no splitting)
    "period-start": {"period_split": "none", "kwh_split": "period_start"},
}
