"""Speed trick: which alternative readings of a tariff price a CDR exactly as its own reading
does, known without pricing them (docs/tariffs.md, reason codes; OCPI 2.2.1 ``mod_tariffs``
§TariffElement, §TariffRestrictions, §PriceComponent step_size; DIGEST §4.2–§4.5).

A wrong total is explained by re-pricing the CDR under each other reading
(:data:`ocpikit.tariffs.reconcile.ALTERNATIVES`). A reading that prices every cost field as the
CDR's own price cannot explain a declared amount that its own price does not, so pricing it is
wasted. Plan: a reading changes some policy settings; each setting is read by the engine in a
few places only, and for each there is a feature of the tariffs (or of the session, or of the
lines already priced) without which those places do the same whatever its value:

==================== ==========================================================================
setting              the same whatever its value when
==================== ==========================================================================
element_selection    no element is restricted and each tariff's first element has every
                     component type its tariff has (it is then the first match per dimension
                     and as a whole element)
duration_basis       no element has min/max_duration (durations are compared nowhere else)
day_of_week_wrap     no element has day_of_week
end_time             no element has start_time or end_time (the clock boundaries and the time
                     window are the only readers)
flat                 no element has a FLAT component (no FLAT is ever charged)
parking_definition   every period that is not reservation-only has ENERGY (the setting only
                     moves the time of a period without energy to parking)
period_split,        no group of any tariff can switch inside a period (no split information:
kwh_split            nothing is cut, whatever the split readings)
step_size,           every priced line's volume, in steps' units, is a whole multiple of every
energy_step_size     step of its kind, and the sums of the volumes are exact in any order
                     (rounding is then the identity in every grouping), and the step
                     tolerances are not negative
==================== ==========================================================================

and another time zone changes nothing when no element has a time, date or day restriction and
no group can switch inside a period (the local clock is read nowhere else). The stages 1-3
that produce the lines read no step setting, so the lines of the CDR's own price are those of a
step-size reading.

Invariant: when :meth:`AlikeReadings.reading` (or :meth:`AlikeReadings.zone`) is true, pricing under the
reading gives the same amounts (excl. and incl.) in every cost field as ``result``.
tests/unit/tariffs/test_alike_readings.py prices every reading over the tariff corpus and
generated sessions and compares; the reconciliation findings are compared with the check that
prices every reading (the reference).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, Inexact, localcontext

from ocpikit.tariffs.normal import NPeriod, NSession, NTariff
from ocpikit.tariffs.policy import Policy, PolicyValue
from ocpikit.tariffs.result import PriceResult

__all__ = ["AlikeReadings", "TariffFeatures", "features_of"]

_ZERO = Decimal(0)
_UNIT = {
    "ENERGY": Decimal(1000),
    "TIME": Decimal(3600),
    "PARKING_TIME": Decimal(3600),
    "RESERVATION_TIME": Decimal(3600),
}


@dataclass(frozen=True, slots=True)
class TariffFeatures:
    """What of some tariffs the settings of the plan depend on (any element of any tariff)."""

    restricted: bool
    clock: bool
    time_of_day: bool
    weekdays: bool
    durations: bool
    flat: bool
    splits: bool
    first_covers: bool


def _one(tariff: NTariff) -> TariffFeatures:
    key = "alike-readings-features"
    found = tariff.engine_cache.get(key)
    if isinstance(found, TariffFeatures):
        return found
    rs = [el.restrictions for el in tariff.elements]
    types = {t for el in tariff.elements for t in el.by_type}
    first = tariff.elements[0].by_type if tariff.elements else {}
    out = TariffFeatures(
        restricted=any(not r.empty for r in rs),
        clock=any(
            r.start_time is not None
            or r.end_time is not None
            or r.start_date is not None
            or r.end_date is not None
            or r.day_of_week is not None
            for r in rs
        ),
        time_of_day=any(r.start_time is not None or r.end_time is not None for r in rs),
        weekdays=any(r.day_of_week is not None for r in rs),
        durations=any(r.min_duration is not None or r.max_duration is not None for r in rs),
        flat="FLAT" in types,
        splits=any(
            s is not None
            for s in (tariff.split_charging, tariff.split_reservation, tariff.split_expired)
        ),
        first_covers=types <= first.keys(),
    )
    tariff.engine_cache[key] = out
    return out


def features_of(tariffs: Sequence[NTariff]) -> TariffFeatures:
    """The features of ``tariffs`` together (cached per tariff)."""
    if len(tariffs) == 1:
        return _one(tariffs[0])
    each = [_one(t) for t in tariffs]
    return TariffFeatures(
        restricted=any(f.restricted for f in each),
        clock=any(f.clock for f in each),
        time_of_day=any(f.time_of_day for f in each),
        weekdays=any(f.weekdays for f in each),
        durations=any(f.durations for f in each),
        flat=any(f.flat for f in each),
        splits=any(f.splits for f in each),
        first_covers=all(f.first_covers for f in each),
    )


def _steps_identity(result: PriceResult, policy: Policy) -> bool:
    """Every step rounding of ``result``'s lines is the identity, in every grouping and order
    of summing: each line's volume in steps' units is a whole multiple of every step of its
    kind, computed exactly; and the sum of the kind's volumes (in absolute value) and that sum
    in steps' units are exact, so that every partial sum the engine forms, in any order, is
    exact too (it is a multiple of the same smallest decimal unit, and not larger)."""
    if policy.time_step_tolerance < 0 or policy.energy_step_tolerance < 0:
        return False
    kinds: dict[bool, list[tuple[Decimal, Decimal, int]]] = {True: [], False: []}
    for pr in result.periods:
        for ln in pr.lines:
            unit = _UNIT.get(ln.dimension)
            if unit is None or ln.element is None:
                continue
            energy = ln.dimension == "ENERGY"
            step = ln.step_size if energy else (policy.time_step_override or ln.step_size)
            kinds[energy].append((ln.volume, unit, step))
    with localcontext() as ctx:
        ctx.traps[Inexact] = True
        try:
            for items in kinds.values():
                steps = {Decimal(step) for _, _, step in items if step > 0}
                total = _ZERO
                for volume, unit, _ in items:
                    quantity = volume * unit
                    if any(quantity % step != _ZERO for step in steps):
                        return False
                    total += abs(volume)
                if items:
                    _ = total * items[0][1]  # raises Inexact when not exact
        except ArithmeticError:
            return False
    return True


class AlikeReadings:
    """The plan applied to one CDR's own price ``result`` (``ns`` against ``tariffs`` under
    ``policy``); each setting is judged once, when a reading first asks."""

    __slots__ = ("_answers", "_features", "_ns", "_policy", "_result")

    def __init__(
        self, tariffs: Sequence[NTariff], ns: NSession, result: PriceResult, policy: Policy
    ) -> None:
        self._features = features_of(tariffs) if tariffs else None
        self._ns = ns
        self._result = result
        self._policy = policy
        self._answers: dict[str, bool] = {}

    def reading(self, changes: Mapping[str, PolicyValue]) -> bool:
        """``policy.with_(**changes)`` prices as ``policy`` did; False when the plan does not
        tell."""
        for name in changes:
            known = self._answers.get(name)
            if known is None:
                known = self._answers[name] = self._setting(name)
            if not known:
                return False
        return bool(changes)

    def zone(self) -> bool:
        """Any other time zone prices as the CDR's own (no element reads the local clock and
        no group can switch inside a period)."""
        f = self._features
        return f is not None and not f.clock and not f.splits

    def _setting(self, name: str) -> bool:
        f = self._features
        if f is None:
            return False
        if name == "element_selection":
            return not f.restricted and f.first_covers
        if name == "duration_basis":
            return not f.durations
        if name == "day_of_week_wrap":
            return not f.weekdays
        if name == "end_time":
            return not f.time_of_day
        if name == "flat":
            return not f.flat
        if name == "parking_definition":
            return all(bool(p.dims.get("ENERGY")) for p in self._ns.periods if not _reserving(p))
        if name in ("period_split", "kwh_split"):
            return not f.splits
        if name in ("step_size", "energy_step_size"):
            return _steps_identity(self._result, self._policy)
        return False


def _reserving(p: NPeriod) -> bool:
    """A reservation-only period (stage 1 leaves it out of charging)."""
    dims = p.dims
    return "RESERVATION_TIME" in dims and not (
        "ENERGY" in dims or "TIME" in dims or "PARKING_TIME" in dims
    )
