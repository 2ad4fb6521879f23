"""Select the tariff element that prices a dimension (OCPI 2.2.1 / 2.3.0 ``mod_tariffs``
§TariffElement, §PriceComponent, §ReservationRestrictionType).

Per dimension (ENERGY, TIME, PARKING_TIME, FLAT) the first element in list order that has a
component of that dimension and whose restrictions all match supplies the price (policy
``element_selection=per_dimension``); with ``whole_element`` the first element whose
restrictions match decides, and prices nothing when it lacks the dimension. Reservation periods
look only at elements with a ``reservation`` restriction, charging periods only at the others.

What the selection needs from a tariff alone (:class:`ElementGroup`) is built once per tariff
and policy and kept in ``NTariff.engine_cache``; invariant: it depends only on the tariff, the
group and the policy settings in its cache key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ocpikit.tariffs.normal import NElement, NRestrictions, NTariff, SplitInfo
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.restrictions import MatchContext, Mismatch, first_mismatch
from ocpikit.tariffs.result import ZERO_AMOUNT, Line

__all__ = [
    "DIMENSIONS",
    "Candidate",
    "ElementGroup",
    "GroupKind",
    "LineTemplate",
    "Skipped",
    "cost_bucket",
    "element_group",
    "select_element",
]

#: the dimensions a tariff element prices (mod_tariffs §TariffDimensionType)
DIMENSIONS = ("ENERGY", "TIME", "PARKING_TIME", "FLAT")
#: which elements a period looks at: charging ones, reservation ones, or (an expired
#: reservation) RESERVATION_EXPIRES ones then RESERVATION ones
GroupKind = Literal["charging", "reservation", "expired"]
#: elements passed over before the chosen one, with why
Skipped = list[tuple[int, Mismatch]]
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class LineTemplate:
    """What a line priced by one element's component says (everything but the volumes):
    ``element``/``component`` are ``None`` when no element prices the dimension."""

    dimension: str
    bucket: str
    element: int | None
    component: int | None
    price: Decimal
    vat: Decimal | None
    step_size: int

    def line(
        self, period: int, volume: Decimal, tariff_id: str, skipped: Skipped, sub: int
    ) -> Line:
        """A line of sub-period ``sub`` of ``period`` pricing ``volume`` (billed = volume until
        step_size; cost zero until costing)."""
        return Line(
            period,
            self.dimension,
            self.bucket,
            volume,
            volume,
            tariff_id,
            self.element,
            self.component,
            self.price,
            self.vat,
            self.step_size,
            skipped,
            ZERO_AMOUNT,
            "",
            sub,
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """An element selection may pick for one dimension: its restrictions (``None`` when it has
    none, so it always matches) and the line it prices (``None`` when it has no component of
    the dimension, possible only under whole-element selection)."""

    element: NElement
    restrictions: NRestrictions | None
    index: int
    template: LineTemplate | None


@dataclass(frozen=True, slots=True)
class ElementGroup:
    """A tariff's elements for one :data:`GroupKind`, prepared for selection: per dimension the
    candidates in list order (those with a component of the dimension; all elements under
    whole-element selection), the line when none matches, and where their restrictions can
    switch inside a period (``None``: nowhere)."""

    reservation: bool
    candidates: dict[str, tuple[Candidate, ...]]
    missing: dict[str, LineTemplate]
    split: SplitInfo | None


def cost_bucket(dim: str, reservation: bool, element: NElement | None, policy: Policy) -> str:
    """The CDR cost field a dimension's cost goes to (policy ``flat_parking``: the FLAT of a
    parking-only element is parking cost)."""
    if reservation:
        return "total_reservation_cost"
    if dim == "ENERGY":
        return "total_energy_cost"
    if dim == "TIME":
        return "total_time_cost"
    if dim == "PARKING_TIME":
        return "total_parking_cost"
    if (
        element is not None
        and policy.flat_parking == "parking_only_element"
        and element.parking_only
    ):
        return "total_parking_cost"
    return "total_fixed_cost"


def _template(el: NElement, dim: str, reservation: bool, policy: Policy) -> LineTemplate | None:
    comp = el.by_type.get(dim)
    if comp is None:
        return None
    name = "RESERVATION_TIME" if reservation and dim != "FLAT" else dim
    bucket = cost_bucket(dim, reservation, el, policy)
    return LineTemplate(name, bucket, el.index, comp.index, comp.price, comp.vat, comp.step_size)


def _elements(tariff: NTariff, kind: GroupKind) -> tuple[tuple[NElement, ...], SplitInfo | None]:
    if kind == "charging":
        return tariff.charging, tariff.split_charging
    if kind == "reservation":
        return tariff.reservation, tariff.split_reservation
    return tariff.expired, tariff.split_expired


def element_group(tariff: NTariff, kind: GroupKind, policy: Policy) -> ElementGroup:
    """The :class:`ElementGroup` of ``tariff`` for ``kind`` under ``policy`` (cached on the
    tariff)."""
    whole = policy.element_selection == "whole_element"
    key = ("group", kind, whole, policy.flat_parking)
    found = tariff.engine_cache.get(key)
    if isinstance(found, ElementGroup):
        return found
    elements, split = _elements(tariff, kind)
    reservation = kind != "charging"
    candidates = {
        dim: tuple(
            Candidate(
                el,
                None if el.restrictions.empty else el.restrictions,
                el.index,
                _template(el, dim, reservation, policy),
            )
            for el in elements
            if whole or dim in el.by_type
        )
        for dim in DIMENSIONS
    }
    missing = {
        dim: LineTemplate(
            "RESERVATION_TIME" if reservation else dim,
            cost_bucket(dim, reservation, None, policy),
            None,
            None,
            _ZERO,
            None,
            0,
        )
        for dim in DIMENSIONS
    }
    group = ElementGroup(reservation, candidates, missing, split)
    tariff.engine_cache[key] = group
    return group


def select_element(
    candidates: tuple[Candidate, ...],
    dim: str,
    ctx: MatchContext,
    policy: Policy,
    memo: dict[int, Mismatch | None],
    duration: Decimal | int,
    whole: bool,
) -> tuple[Candidate | None, Skipped]:
    """The candidate supplying dimension ``dim``: the first whose restrictions all match
    ``ctx`` (``duration``: what min/max_duration compare), and the ones skipped before it.

    ``memo`` holds each element's outcome (by element index) for the piece being priced and
    the same duration basis: an element is evaluated once per piece whatever the dimension.
    """
    skipped: Skipped = []
    for cand in candidates:
        r = cand.restrictions
        index = cand.index
        if r is None:
            reason: Mismatch | None = None
        elif index in memo:
            reason = memo[index]
        else:
            reason = memo[index] = first_mismatch(r, ctx, duration, policy)
        if reason is None:
            if whole and cand.template is None:
                skipped.append((index, f"first matching element has no {dim} component"))
                return None, skipped
            return cand, skipped
        skipped.append((index, reason))
    return None, skipped
