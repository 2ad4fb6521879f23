"""The price engine: a session or CDR, one or more tariffs → a :class:`PriceResult`.

:func:`price` is a pipeline of named stages, each a typed function over frozen dataclasses
(OCPI 2.2.1 / 2.3.0 ``mod_tariffs`` §TariffElement, §TariffRestrictions, §PriceComponent;
``mod_cdrs`` §CDR step_size; DIGEST §4.2–§4.5):

0. normalise the inputs and choose the tariffs (:mod:`~ocpikit.tariffs.tariff_choice`) and the
   time zone (:mod:`~ocpikit.tariffs.local_time`);
1. classify periods: charging or reservation, volumes per dimension
   (:mod:`~ocpikit.tariffs.periods`);
2. split periods at restriction boundaries, read on the local wall clock with DST
   (:mod:`~ocpikit.tariffs.boundaries`, :mod:`~ocpikit.tariffs.splitting`);
3. select per piece and dimension the first element whose restrictions match
   (:mod:`~ocpikit.tariffs.selection`, :mod:`~ocpikit.tariffs.restrictions`); stages 2 and 3
   walk the periods together (:mod:`~ocpikit.tariffs.period_pricing`) because kWh, parking and
   FLATs carry from one period to the next;
4. apply step_size to session totals (:mod:`~ocpikit.tariffs.step_size`);
5. cost every line and sum per cost field, with VAT / taxes (:mod:`~ocpikit.tariffs.costs`);
6. apply min/max price on excl. and incl. totals independently
   (:mod:`~ocpikit.tariffs.min_max`).

Every ambiguous step is a :class:`~ocpikit.tariffs.policy.Policy` setting.
"""

from __future__ import annotations

from decimal import Decimal

from ocpikit.tariffs.changed_policy import changed_settings
from ocpikit.tariffs.costs import sum_costs
from ocpikit.tariffs.errors import PricingError
from ocpikit.tariffs.local_time import MICROSECOND, resolve_time_zone, zone
from ocpikit.tariffs.min_max import apply_min_max
from ocpikit.tariffs.normal import (
    NSession,
    SessionInput,
    TariffsInput,
    normalise_session,
    normalise_tariffs,
)
from ocpikit.tariffs.period_pricing import price_periods
from ocpikit.tariffs.periods import classify_periods
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.result import PriceResult
from ocpikit.tariffs.step_size import apply_step_size
from ocpikit.tariffs.tariff_choice import choose_tariffs

__all__ = ["PricingError", "price", "resolve_time_zone"]

_ZERO = Decimal(0)
_HOUR = Decimal(3600)
_DEFAULT_POLICY = Policy()


def _computed_quantities(s: NSession) -> tuple[Decimal, Decimal, Decimal]:
    """Energy (kWh, charging periods only), time and parking time (h) from the periods."""
    energy = parking = _ZERO
    for p in s.periods:
        dims = p.dims
        used = dims.get("ENERGY")
        if used is not None and "RESERVATION_TIME" not in dims:
            energy += used
        parked = dims.get("PARKING_TIME")
        if parked is not None:
            parking += parked
    time = Decimal((s.end - s.start) // MICROSECOND) / 1_000_000 / _HOUR
    return energy, time, parking


def price(
    session: SessionInput,
    tariffs: TariffsInput | None = None,
    *,
    time_zone: str | None = None,
    policy: Policy | None = None,
    origin: str | None = None,
) -> PriceResult:
    """Price ``session`` (a head CDR/Session, or its JSON form) against ``tariffs``.

    ``tariffs`` may be one tariff or a list (head models or JSON); when omitted the CDR's
    embedded tariffs are used. ``origin`` names the OCPI version the inputs were converted from
    (it decides what an omitted ``vat`` means, policy ``missing_vat=auto``).
    """
    pol = policy or _DEFAULT_POLICY
    warnings: list[str] = []
    s = normalise_session(session)
    given = normalise_tariffs(tariffs, origin) if tariffs is not None else []
    if not given:
        given = normalise_tariffs(s.tariffs, origin)
    choice = choose_tariffs(s, given, pol, warnings)
    main = choice.main
    tz_name = resolve_time_zone(time_zone, s, pol, warnings)
    plan = classify_periods(s, pol)
    periods = price_periods(plan, choice, s.start, zone(tz_name), pol)
    priced, effects = apply_step_size(periods, pol)
    summary = sum_costs(priced, main, choice.by_id, pol)
    capped = apply_min_max(summary.total, summary.costs, main, pol)
    energy, time, parking = _computed_quantities(s)
    return PriceResult(
        currency=main.currency or (s.currency or ""),
        tariff_ids=list(dict.fromkeys([main.id, *(p.tariff_id for p in periods)])),
        time_zone=tz_name,
        costs=capped.costs,
        total_cost=capped.total,
        uncapped_total=summary.total,
        total_energy=s.total_energy if s.total_energy is not None else energy,
        total_time=s.total_time if s.total_time is not None else time,
        total_parking_time=(s.total_parking_time if s.total_parking_time is not None else parking),
        computed_energy=energy,
        computed_time=time,
        computed_parking_time=parking,
        periods=periods,
        step_effects=effects,
        adjustments=capped.adjustments,
        taxes=summary.taxes,
        policy=changed_settings(pol),
        warnings=warnings,
        decimals=pol.decimals,
        relevant=frozenset(summary.costs),
    )
