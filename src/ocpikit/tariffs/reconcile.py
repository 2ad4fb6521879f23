"""Reconciliation: a CDR against its tariffs, the session it came from, the versions' rules,
and (2.3.0 Invoice Reconciliation) an invoice's CDRs against its total.

Each finding is a :class:`Discrepancy` with a stable reason ``code``, the JSON field, the
declared and expected values and the amount at stake (declared - expected, in the CDR's
currency, excl. VAT; incl. VAT beside it when known). Reason codes (``docs/tariffs.md``):

==================== ==============================================================
``rounding``         within one minor unit: the declared amount is a rounding of ours
``step_size``        another step_size reading (DIGEST §4.3, A6) gives the declared amount
``time_zone``        reading restrictions in another zone (UTC, or the given one) does
``tariff_element``   another element-selection reading (A4, A5, tariff_7 durations) does
``period_split``     pricing each period by the elements matching at its start (no split
                     at restriction boundaries, kWh read at the period start) does
``min_max_price``    ignoring min_price/max_price does
``vat``              only the incl. VAT amount differs (VAT/taxes reading)
``cost``             no reading explains the amount
``cost_field_missing`` a cost field the tariff prices is absent (info only)
``energy``           total_energy vs the periods or the session's kwh
``time``             total_time vs the timestamps
``parking_time``     total_parking_time vs the periods
``times``            start/end vs the session; periods out of order or outside the CDR
``session_id``       missing or different from the session's id
``token``, ``location``, ``currency``, ``authorization_reference``, ``auth_method``, ``owner``
                     the CDR disagrees with the session on that field (DIGEST §5.6)
``tariff_id``        a period names a tariff that was not given
``credit``           credit CDR rules (DIGEST §5.4, A9)
``version_rule``     id length, session-only dimensions, empty charging periods
==================== ==============================================================
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from ocpikit.core.types import format_datetime
from ocpikit.tariffs.alike_readings import AlikeReadings
from ocpikit.tariffs.builder import SESSION_ONLY_DIMENSIONS
from ocpikit.tariffs.engine import price
from ocpikit.tariffs.normal import (
    COST_FIELDS,
    NSession,
    PricingInputError,
    normalise_session,
    normalise_tariffs,
    to_decimal,
)
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.result import Amount, PriceResult, json_number

__all__ = [
    "Discrepancy",
    "InvoiceReport",
    "ReconciliationReport",
    "check_cdr",
    "reconcile_invoice",
]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_DEFAULT_POLICY = Policy()
#: volumes that went through JSON floats (0.03333333333333333 h) carry ~1e-17 of noise: an
#: amount this close to the tolerance is within it (a declared 0.14 for an exact 0.135)
_NOISE = Decimal("1e-9")


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One finding: a reason code, where, what was declared vs expected, and what is at stake."""

    code: str
    field: str
    message: str
    declared: Any = None
    expected: Any = None
    amount: Decimal | None = None
    amount_incl: Decimal | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "field": self.field,
            "message": self.message,
            "declared": _plain(self.declared),
            "expected": _plain(self.expected),
            "amount_at_stake": json_number(self.amount),
            "amount_at_stake_incl_vat": json_number(self.amount_incl),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, Amount):
        return value.to_json()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class ReconciliationReport:
    """Everything found about one CDR; ``ok`` when no discrepancy (notes do not count)."""

    cdr_id: str | None
    discrepancies: list[Discrepancy] = field(default_factory=list)
    notes: list[Discrepancy] = field(default_factory=list)
    result: PriceResult | None = None

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    @property
    def amount_at_stake(self) -> Decimal:
        d = next((x for x in self.discrepancies if x.field == "total_cost"), None)
        return _ZERO if d is None or d.amount is None else d.amount

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cdr_id": self.cdr_id,
            "reconciles": self.ok,
            "amount_at_stake": json_number(self.amount_at_stake),
            "discrepancies": [d.to_json() for d in self.discrepancies],
            "notes": [d.to_json() for d in self.notes],
        }
        if self.result is not None:
            out["expected"] = {
                "total_cost": self.result.total_cost.to_json(),
                **{
                    name: self.result.cost(name).to_json()
                    for name in COST_FIELDS
                    if name != "total_cost"
                },
            }
            out["warnings"] = self.result.warnings
        return out


def _g(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _s(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _ci_eq(a: Any, b: Any) -> bool:
    sa, sb = _s(a), _s(b)
    if sa is None or sb is None:
        return sa is sb
    return sa.upper() == sb.upper()


#: alternative readings tried, in order, to explain a cost mismatch: (code, policy changes)
ALTERNATIVES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("step_size", {"step_size": "session_total"}),
    ("step_size", {"step_size": "per_period", "energy_step_size": "per_period"}),
    ("step_size", {"step_size": "ignore", "energy_step_size": "ignore"}),
    ("min_max_price", {"min_price": "ignore"}),
    ("min_max_price", {"max_price": "ignore"}),
    ("tariff_element", {"element_selection": "whole_element"}),
    ("tariff_element", {"duration_basis": "parking"}),
    ("tariff_element", {"day_of_week_wrap": "window_start"}),
    ("tariff_element", {"end_time": "inclusive"}),
    ("tariff_element", {"flat": "once_per_element"}),
    ("tariff_element", {"flat": "per_period"}),
    ("tariff_element", {"parking_definition": "no_energy"}),
    # the partner priced each period by the elements matching at its start (no splitting)
    ("period_split", {"period_split": "none", "kwh_split": "period_start"}),
    ("period_split", {"kwh_split": "period_start"}),
)


def _rounds_to(declared: Decimal, exact: Decimal) -> bool:
    for places in (2, 3, 4):
        unit = Decimal(1).scaleb(-places)
        for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN, ROUND_UP):
            if exact.quantize(unit, rounding=mode) == declared:
                return True
    return abs(declared - exact) < _CENT


def check_cdr(
    cdr: Any,
    tariffs: Any = None,
    session: Any = None,
    *,
    original: Any = None,
    time_zone: str | None = None,
    policy: Policy | None = None,
    origin: str | None = None,
    tolerance: Decimal = Decimal("0.005"),
) -> ReconciliationReport:
    """Check one CDR (head model or JSON of any version) against its tariffs (given, or the
    embedded ones), the ``session`` it came from, and ``original`` when it is a credit CDR."""
    pol = policy or _DEFAULT_POLICY
    ns = normalise_session(cdr)
    report = ReconciliationReport(cdr_id=ns.id)
    add = report.discrepancies.append
    credit = _g(cdr, "credit") is True
    _version_rules(cdr, ns, credit, add, report.notes.append)
    _quantities(ns, add)
    if credit:
        _credit_rules(cdr, ns, original, pol, add)
    if session is not None:
        _against_session(cdr, ns, session, add)
    has_tariffs = tariffs is not None or bool(ns.tariffs)
    if has_tariffs:
        try:
            # normalised once: the alternative readings re-price the same inputs
            normal = None if tariffs is None else normalise_tariffs(tariffs, origin)
            result = price(ns, normal, time_zone=time_zone, policy=pol, origin=origin)
        except PricingInputError as exc:
            add(Discrepancy("tariff_element", "tariffs", f"cannot price the CDR: {exc}"))
            return report
        report.result = result
        given: set[str] | None = None  # built when a period names a tariff
        for p in ns.periods:
            if not p.tariff_id:
                continue
            if given is None:
                given = _given_tariff_ids(tariffs, ns)
            if given and p.tariff_id.upper() not in given:
                add(
                    Discrepancy(
                        "tariff_id",
                        f"charging_periods[{p.index}].tariff_id",
                        f"period names tariff {p.tariff_id}, which was not given",
                        declared=p.tariff_id,
                        expected=sorted({t.upper() for t in result.tariff_ids}),
                    )
                )
        _costs(ns, normal, result, credit, time_zone, pol, origin, tolerance, report)
    return report


def _given_tariff_ids(tariffs: Any, ns: NSession) -> set[str]:
    items: Iterable[Any]
    if tariffs is None:
        items = ns.tariffs
    elif isinstance(tariffs, (list, tuple)):
        items = tariffs
    else:
        items = [tariffs]
    return {str(_s(_g(t, "id"))).upper() for t in items}


def _version_rules(cdr: Any, ns: NSession, credit: bool, add: Any, note: Any) -> None:
    cid = ns.id or ""
    if not credit and len(cid) > 36:
        add(
            Discrepancy(
                "version_rule",
                "id",
                f"a non-credit CDR id has at most 36 characters (this one {len(cid)})",
                declared=cid,
            )
        )
    if not ns.periods:
        add(Discrepancy("version_rule", "charging_periods", "a CDR needs at least one period"))
    for p in ns.periods:
        bad = sorted(set(p.dims) & SESSION_ONLY_DIMENSIONS)
        if bad:
            add(
                Discrepancy(
                    "version_rule",
                    f"charging_periods[{p.index}].dimensions",
                    f"session-only dimension(s) {', '.join(bad)} in a CDR",
                )
            )
    if ns.end < ns.start:
        add(Discrepancy("times", "end_date_time", "end_date_time is before start_date_time"))
    last = None
    for p in ns.periods:
        if p.start < ns.start or p.start > ns.end:
            add(
                Discrepancy(
                    "times",
                    f"charging_periods[{p.index}].start_date_time",
                    "period starts outside the CDR's start/end",
                    declared=format_datetime(p.start),
                )
            )
        if last is not None and p.start < last:
            add(
                Discrepancy(
                    "times",
                    f"charging_periods[{p.index}].start_date_time",
                    "periods are not in time order",
                )
            )
        last = p.start
    reservation_only = bool(ns.periods) and all(
        "RESERVATION_TIME" in p.dims and "ENERGY" not in p.dims and "TIME" not in p.dims
        for p in ns.periods
    )
    is_211 = _g(cdr, "stop_date_time") is not None or _g(cdr, "auth_id") is not None
    if not is_211 and _g(cdr, "session_id") is None and not reservation_only:
        note(
            Discrepancy(
                "session_id",
                "session_id",
                "session_id is missing (only allowed for reservation-only CDRs or parties "
                "without the Sessions module; a discrepancy when checked against a session)",
            )
        )


def _quantities(ns: NSession, add: Any) -> None:
    energy = sum((p.dims.get("ENERGY", _ZERO) for p in ns.periods), _ZERO)
    has_energy = any("ENERGY" in p.dims for p in ns.periods)
    if (
        ns.total_energy is not None
        and has_energy
        and abs(ns.total_energy - energy) > Decimal("0.001")
    ):
        add(
            Discrepancy(
                "energy",
                "total_energy",
                "total_energy differs from the sum of the periods' ENERGY volumes",
                declared=ns.total_energy,
                expected=energy,
            )
        )
    hours = Decimal((ns.end - ns.start).total_seconds()) / Decimal(3600)
    if ns.total_time is not None and abs(ns.total_time - hours) > Decimal("0.001"):
        add(
            Discrepancy(
                "time",
                "total_time",
                "total_time differs from end_date_time - start_date_time",
                declared=ns.total_time,
                expected=hours.quantize(Decimal("0.0001")),
            )
        )
    parking = sum((p.dims.get("PARKING_TIME", _ZERO) for p in ns.periods), _ZERO)
    if ns.total_parking_time is not None:
        if abs(ns.total_parking_time - parking) > Decimal("0.001") and any(
            "PARKING_TIME" in p.dims for p in ns.periods
        ):
            add(
                Discrepancy(
                    "parking_time",
                    "total_parking_time",
                    "total_parking_time differs from the periods' PARKING_TIME volumes",
                    declared=ns.total_parking_time,
                    expected=parking,
                )
            )
        if ns.total_time is not None and ns.total_parking_time > ns.total_time + Decimal("0.001"):
            add(
                Discrepancy(
                    "parking_time",
                    "total_parking_time",
                    "total_parking_time exceeds total_time",
                    declared=ns.total_parking_time,
                    expected=ns.total_time,
                )
            )


def _credit_rules(cdr: Any, ns: NSession, original: Any, pol: Policy, add: Any) -> None:
    ref = _s(_g(cdr, "credit_reference_id"))
    if ref is None:
        add(
            Discrepancy(
                "credit", "credit_reference_id", "a credit CDR must name the CDR it credits"
            )
        )
    elif ns.id is not None and ref.upper() == ns.id.upper():
        add(Discrepancy("credit", "id", "a credit CDR needs its own id (e.g. the original + -C)"))
    names = COST_FIELDS if pol.credit == "all_costs" else ("total_cost",)
    for name in names:
        value = ns.declared.get(name)
        if value is not None and value[0] > 0:
            add(
                Discrepancy(
                    "credit",
                    name,
                    f"a credit CDR states {name} as a negative amount (policy credit={pol.credit})",
                    declared=value[0],
                    expected=-value[0],
                    amount=value[0] * 2,
                )
            )
    if original is None:
        return
    orig = normalise_session(original)
    if ref is not None and orig.id is not None and ref.upper() != orig.id.upper():
        add(
            Discrepancy(
                "credit",
                "credit_reference_id",
                "credit_reference_id does not name the original CDR",
                declared=ref,
                expected=orig.id,
            )
        )
    for name in names:
        o, c = orig.declared.get(name), ns.declared.get(name)
        if o is None:
            continue
        if c is None or c[0] != -o[0] or (c[1] is not None and o[1] is not None and c[1] != -o[1]):
            add(
                Discrepancy(
                    "credit",
                    name,
                    f"{name} is not the negated amount of the original CDR",
                    declared=None if c is None else c[0],
                    expected=-o[0],
                    amount=None if c is None else c[0] + o[0],
                )
            )
    for label, a, b in (
        ("total_energy", ns.total_energy, orig.total_energy),
        ("total_time", ns.total_time, orig.total_time),
    ):
        if a is not None and b is not None and a != b:
            add(
                Discrepancy(
                    "credit",
                    label,
                    f"a credit CDR keeps the original's {label} (volumes stay positive)",
                    declared=a,
                    expected=b,
                )
            )


def _against_session(cdr: Any, ns: NSession, session: Any, add: Any) -> None:
    """DIGEST §5.6: what must agree between a CDR and its Session."""
    s = normalise_session(session)
    sid = _g(cdr, "session_id")
    if sid is None:
        add(
            Discrepancy(
                "session_id", "session_id", "CDR has no session_id", expected=_s(_g(session, "id"))
            )
        )
    elif not _ci_eq(sid, _g(session, "id")):
        add(
            Discrepancy(
                "session_id",
                "session_id",
                "session_id is not the session's id",
                declared=_s(sid),
                expected=_s(_g(session, "id")),
            )
        )
    for key in ("country_code", "party_id"):
        a, b = _g(cdr, key), _g(session, key)
        if a is not None and b is not None and not _ci_eq(a, b):
            add(Discrepancy("owner", key, f"{key} differs", declared=_s(a), expected=_s(b)))
    ct, st = _g(cdr, "cdr_token"), _g(session, "cdr_token")
    if ct is not None and st is not None:
        for key in ("uid", "contract_id", "type", "country_code", "party_id"):
            a, b = _g(ct, key), _g(st, key)
            if not _ci_eq(a, b):
                add(Discrepancy("token", f"cdr_token.{key}", f"token {key} differs", _s(a), _s(b)))
    loc = _g(cdr, "cdr_location")
    if loc is not None:
        for ckey, skey in (
            ("id", "location_id"),
            ("evse_uid", "evse_uid"),
            ("connector_id", "connector_id"),
        ):
            a, b = _g(loc, ckey), _g(session, skey)
            if b is not None and not _ci_eq(a, b):
                add(
                    Discrepancy(
                        "location",
                        f"cdr_location.{ckey}",
                        f"cdr_location.{ckey} is not the session's {skey}",
                        _s(a),
                        _s(b),
                    )
                )
    for key in ("currency", "authorization_reference", "auth_method"):
        a, b = _g(cdr, key), _g(session, key)
        if b is not None and not _ci_eq(a, b):
            add(Discrepancy(key, key, f"{key} differs from the session's", _s(a), _s(b)))
    if ns.start != s.start:
        add(
            Discrepancy(
                "times",
                "start_date_time",
                "start_date_time differs from the session's",
                format_datetime(ns.start),
                format_datetime(s.start),
            )
        )
    if s.end_declared and ns.end != s.end:
        add(
            Discrepancy(
                "times",
                "end_date_time",
                "end_date_time differs from the session's",
                format_datetime(ns.end),
                format_datetime(s.end),
            )
        )
    if (
        ns.total_energy is not None
        and s.total_energy is not None
        and abs(ns.total_energy - s.total_energy) > Decimal("0.001")
    ):
        add(
            Discrepancy(
                "energy",
                "total_energy",
                "total_energy is not the session's final kwh",
                ns.total_energy,
                s.total_energy,
            )
        )
    cdr_starts = {p.start for p in ns.periods}
    missing = [p.index for p in s.periods if p.start not in cdr_starts]
    if missing:
        add(
            Discrepancy(
                "times",
                "charging_periods",
                f"session periods {missing} have no CDR period starting at the same time",
            )
        )


def _costs(
    ns: NSession,
    tariffs: Any,
    result: PriceResult,
    credit: bool,
    time_zone: str | None,
    pol: Policy,
    origin: str | None,
    tolerance: Decimal,
    report: ReconciliationReport,
) -> None:
    alternatives: list[tuple[str, PriceResult]] | None = None
    for name in COST_FIELDS:
        # a credit negates every cost field, or only total_cost (policy A9): each field and
        # the readings that may explain it compare under the same sign
        unsigned = credit and pol.credit == "total_cost_only" and name != "total_cost"
        sign = Decimal(-1) if credit and not unsigned else Decimal(1)
        expected = result.cost(name)
        exp_excl = expected.excl * sign
        exp_incl = None if expected.incl is None else expected.incl * sign
        declared = ns.declared.get(name)
        if declared is None:
            if name != "total_cost" and name in result.relevant and expected.excl != 0:
                report.notes.append(
                    Discrepancy(
                        "cost_field_missing",
                        name,
                        f"{name} is absent; the tariff prices it at {expected.excl}",
                        expected=exp_excl,
                    )
                )
            continue
        d_excl, d_incl = declared
        excl_off = abs(d_excl - exp_excl) > tolerance + _NOISE
        incl_off = (
            d_incl is not None
            and exp_incl is not None
            and abs(d_incl - exp_incl) > tolerance + _NOISE
        )
        if not excl_off and not incl_off:
            continue
        amount = d_excl - exp_excl
        amount_incl = None if d_incl is None or exp_incl is None else d_incl - exp_incl
        if (
            excl_off
            and _rounds_to(d_excl, exp_excl)
            and (not incl_off or _rounds_to(d_incl or _ZERO, exp_incl or _ZERO))
        ):
            code, why = "rounding", "the declared amount is a rounding of the exact one"
        elif not excl_off:
            code, why = "vat", "only the incl. VAT amount differs"
        else:
            if alternatives is None:
                # a reading that prices as the CDR was priced cannot explain it: skipped
                # (min/max ignored when neither applied, :mod:`.alike_readings`)
                alternatives = _alternatives(
                    tariffs, ns, time_zone, pol, origin, result.adjustments, result
                )
            code, why = "cost", "no reading of the tariff explains the declared amount"
            for alt_code, alt in alternatives:
                alt_excl = alt.cost(name).excl * sign
                if abs(alt_excl - d_excl) <= tolerance:
                    code, why = (
                        alt_code,
                        f"the declared amount follows another reading ({alt_code})",
                    )
                    break
        report.discrepancies.append(
            Discrepancy(
                code,
                name,
                f"{name}: declared {d_excl} excl. VAT, expected {exp_excl}; {why}",
                declared=(d_excl, d_incl),
                expected=(exp_excl, exp_incl),
                amount=amount,
                amount_incl=amount_incl,
            )
        )


def _limit_not_applied(changes: dict[str, Any], applied: Sequence[str]) -> bool:
    """``changes`` only ignores min_price or max_price, and that limit did not apply."""
    if len(changes) != 1:
        return False
    ((name, value),) = changes.items()
    return (
        name in ("min_price", "max_price")
        and value == "ignore"
        and not any(note.startswith(f"{name}:") for note in applied)
    )


def _alternatives(
    tariffs: Any,
    ns: NSession,
    time_zone: str | None,
    pol: Policy,
    origin: str | None,
    applied: Sequence[str] | None = None,
    alike: PriceResult | None = None,
) -> list[tuple[str, PriceResult]]:
    """The CDR priced by each other reading (:data:`ALTERNATIVES`). ``applied``: the notes of
    the min/max stage of the CDR's own price, given when a reading that prices alike can be
    left out: ignoring a limit that did not apply prices alike (the limits are the last stage,
    :func:`ocpikit.tariffs.min_max.clamp`). ``alike``: the CDR's own price, given when every
    reading known to price alike without pricing it can be left out
    (:mod:`ocpikit.tariffs.alike_readings`)."""
    out: list[tuple[str, PriceResult]] = []
    same: AlikeReadings | None = None
    if alike is not None:
        same = AlikeReadings(tariffs or normalise_tariffs(ns.tariffs, origin), ns, alike, pol)
    zones = ["UTC"] if (time_zone or ns.time_zone or "UTC") != "UTC" else []
    if time_zone and ns.time_zone and time_zone != ns.time_zone:
        zones.append(ns.time_zone)
    if zones and same is not None and same.zone():
        zones = []
    for zone in zones:
        with contextlib.suppress(PricingInputError):
            out.append(("time_zone", price(ns, tariffs, time_zone=zone, policy=pol, origin=origin)))
    for code, changes in ALTERNATIVES:
        if applied is not None and _limit_not_applied(changes, applied):
            continue
        if same is not None and same.reading(changes):
            continue
        try:
            alt = price(
                ns, tariffs, time_zone=time_zone, policy=pol.with_(**changes), origin=origin
            )
        except PricingInputError:
            continue
        out.append((code, alt))
    return out


# --- 2.3.0 Invoice Reconciliation ----------------------------------------------------------


@dataclass
class InvoiceReport:
    """The expected total of an InvoiceReconciliationRecord's CDRs, and what does not add up."""

    record_id: str | None
    invoice_id: str | None
    currency: str | None
    declared_total: Amount
    recomputed_total: Amount | None
    invoiced_total: Decimal | None
    discrepancies: list[Discrepancy] = field(default_factory=list)
    per_cdr: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def to_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "invoice_id": self.invoice_id,
            "currency": self.currency,
            "reconciles": self.ok,
            "expected_total": self.declared_total.to_json(),
            "recomputed_total": None
            if self.recomputed_total is None
            else self.recomputed_total.to_json(),
            "invoiced_total": json_number(self.invoiced_total),
            "cdrs": self.per_cdr,
            "discrepancies": [d.to_json() for d in self.discrepancies],
        }


def reconcile_invoice(
    record: Any,
    cdrs: Iterable[Any],
    *,
    invoiced_total: Decimal | float | str | None = None,
    tariffs: Any = None,
    recompute: bool = True,
    time_zone: str | None = None,
    policy: Policy | None = None,
    tolerance: Decimal = Decimal("0.005"),
) -> InvoiceReport:
    """2.3.0 mod_invoice_reconciliation: the expected total of the record's CDRs (credit CDRs
    count negative as stated), CDRs named but not supplied, currencies, and optionally each
    CDR re-priced against its tariffs."""
    ids = [str(_s(x)) for x in (_g(record, "cdrs") or [])]
    by_id: dict[str, Any] = {}
    for c in cdrs:
        cid = _s(_g(c, "id"))
        if cid is not None:
            by_id.setdefault(cid.upper(), c)
    report = InvoiceReport(
        record_id=_s(_g(record, "id")),
        invoice_id=_s(_g(record, "invoice_id")),
        currency=None,
        declared_total=Amount(_ZERO, _ZERO),
        recomputed_total=Amount(_ZERO, _ZERO) if recompute else None,
        invoiced_total=to_decimal(invoiced_total, "invoiced_total"),
    )
    seen: set[str] = set()
    for cid in ids:
        key = cid.upper()
        if key in seen:
            report.discrepancies.append(
                Discrepancy("duplicate_cdr", "cdrs", f"CDR {cid} is listed twice", declared=cid)
            )
            continue
        seen.add(key)
        cdr = by_id.get(key)
        if cdr is None:
            report.discrepancies.append(
                Discrepancy("missing_cdr", "cdrs", f"CDR {cid} is not among the CDRs given", cid)
            )
            continue
        ns = normalise_session(cdr)
        if report.currency is None:
            report.currency = ns.currency
        elif ns.currency and ns.currency.upper() != report.currency.upper():
            report.discrepancies.append(
                Discrepancy(
                    "currency",
                    f"cdrs[{cid}]",
                    "CDRs of one invoice in different currencies",
                    ns.currency,
                    report.currency,
                )
            )
        total = ns.declared.get("total_cost")
        amount = Amount(_ZERO, _ZERO) if total is None else Amount(total[0], total[1])
        report.declared_total = report.declared_total + amount
        entry: dict[str, Any] = {"id": cid, "total_cost": amount.to_json()}
        if recompute and report.recomputed_total is not None:
            check = check_cdr(cdr, tariffs, time_zone=time_zone, policy=policy, tolerance=tolerance)
            if check.result is not None:
                exp = check.result.total_cost
                if _g(cdr, "credit") is True:
                    exp = -exp
                report.recomputed_total = report.recomputed_total + exp
                entry["recomputed"] = exp.to_json()
            else:
                report.recomputed_total = None
            entry["reconciles"] = check.ok
            entry["discrepancies"] = [d.to_json() for d in check.discrepancies]
            for d in check.discrepancies:
                if d.field == "total_cost":
                    report.discrepancies.append(
                        Discrepancy(
                            d.code,
                            f"cdrs[{cid}].total_cost",
                            d.message,
                            d.declared,
                            d.expected,
                            d.amount,
                            d.amount_incl,
                        )
                    )
        report.per_cdr.append(entry)
    if report.invoiced_total is not None:
        diff = report.invoiced_total - report.declared_total.excl
        incl = report.declared_total.incl
        if abs(diff) > tolerance and (
            incl is None or abs(report.invoiced_total - incl) > tolerance
        ):
            report.discrepancies.append(
                Discrepancy(
                    "invoice_total",
                    "invoice_total",
                    "the invoiced total is not the sum of its CDRs' total_cost",
                    declared=report.invoiced_total,
                    expected=report.declared_total,
                    amount=diff,
                )
            )
    return report
