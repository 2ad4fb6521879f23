"""Stage 3 of pricing: price every period, piece by piece, with the elements selected at each
piece's start (OCPI 2.2.1 / 2.3.0 ``mod_tariffs`` §TariffElement, §TariffRestrictions).

Walks the classified periods in order. A period is cut at the restriction boundaries of the
elements that can price its dimensions (:mod:`ocpikit.tariffs.splitting`); each piece is
matched against a :class:`~ocpikit.tariffs.restrictions.MatchContext` read at its start, and
consecutive pieces priced by the same elements are merged into one sub-period. FLAT is charged
where it becomes active (policy ``flat``: once per session and once more for a reservation by
default). The lines it returns carry volumes; step_size and costs are later stages.

Invariants: every period gets one :class:`PeriodResult` with at least one sub-period; within a
sub-period, a FLAT line (if any) comes first, then one line per priced dimension in the
period's volume order; kWh and parking used before a period count only charging periods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ocpikit.tariffs.boundaries import BoundaryIndex, SessionBoundaries
from ocpikit.tariffs.normal import NTariff
from ocpikit.tariffs.periods import ClassifiedPeriod, PeriodPlan
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.restrictions import MatchContext, Mismatch, measured_value
from ocpikit.tariffs.result import ZERO_AMOUNT, Line, PeriodResult, SubPeriod
from ocpikit.tariffs.selection import (
    Candidate,
    ElementGroup,
    GroupKind,
    LineTemplate,
    Skipped,
    element_group,
    select_element,
)
from ocpikit.tariffs.splitting import PERIOD_START, Piece, SplitPlan, split_period
from ocpikit.tariffs.tariff_choice import TariffChoice

__all__ = ["SessionProgress", "price_periods"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HOUR = Decimal(3600)
_SECOND = timedelta(seconds=1)


@dataclass(slots=True)
class SessionProgress:
    """What the walk has passed so far (it changes as periods are priced): kWh and parking
    seconds used by earlier charging periods, and which FLATs were charged (per charging /
    reservation, and per ``(tariff id, reservation, element index)`` for policy
    ``flat=once_per_element``)."""

    kwh: Decimal = _ZERO
    parking: Decimal = _ZERO
    flat_charging: bool = False
    flat_reservation: bool = False
    flats_charged: set[tuple[str, bool, int]] = field(default_factory=set)

    def flat_done(self, reservation: bool) -> bool:
        return self.flat_reservation if reservation else self.flat_charging

    def charge_flat(self, tariff_id: str, reservation: bool, element: int) -> None:
        self.flats_charged.add((tariff_id, reservation, element))
        if reservation:
            self.flat_reservation = True
        else:
            self.flat_charging = True

    def advance(self, period: ClassifiedPeriod) -> None:
        """Count a charging period's energy and parking."""
        if period.reservation:
            return
        energy = period.volumes.get("ENERGY")
        if energy is not None:
            self.kwh += energy
        parked = period.volumes.get("PARKING_TIME")
        if parked is not None:
            self.parking += parked * _HOUR


@dataclass(frozen=True, slots=True)
class _Walk:
    """The settings of one price call that every period reads."""

    policy: Policy
    tz: ZoneInfo
    whole: bool
    split: bool
    parking_basis: bool
    session_start: datetime
    charging_start: datetime
    expired: bool
    boundaries: BoundaryIndex
    #: split plans per element group and dimensions wanted (computed once per call)
    plans: dict[tuple[int, tuple[str, ...] | None], SplitPlan]


@dataclass(frozen=True, slots=True)
class _GroupState:
    """The element group of the current tariff and period kind, with the session boundaries of
    all its elements (``None``: no split) and whether kWh or parking thresholds make every
    period worth examining."""

    tariff: NTariff
    reservation: bool
    group: ElementGroup
    kind: GroupKind
    base: SessionBoundaries | None
    always: bool


def _group_state(walk: _Walk, tariff: NTariff, reservation: bool) -> _GroupState:
    kind: GroupKind = (
        ("expired" if walk.expired else "reservation") if reservation else "charging"
    )
    group = element_group(tariff, kind, walk.policy)
    info = group.split
    if walk.split and info is not None:
        base = walk.boundaries.of(info, reservation)
        always = bool(info.kwh or (walk.parking_basis and info.durations))
        return _GroupState(tariff, reservation, group, kind, base, always)
    return _GroupState(tariff, reservation, group, kind, None, False)


def _pieces(
    walk: _Walk, state: _GroupState, cp: ClassifiedPeriod, progress: SessionProgress
) -> list[Piece]:
    """Stage 2: the pieces of a period (one when nothing can switch inside it). A first test
    with all elements of the group; then only the elements that can price the period's
    dimensions (and a FLAT still due) cut it."""
    p = cp.period
    volumes = cp.volumes
    base = state.base
    if base is not None and p.start < p.end and (state.always or base.any_inside(p.start, p.end)):
        wanted: tuple[str, ...] | None
        if walk.whole:
            wanted = None
        elif walk.policy.flat != "once" or not progress.flat_done(cp.reservation):
            wanted = (*volumes, "FLAT")
        else:
            wanted = tuple(volumes)
        key = (id(state.group), wanted)
        plan = walk.plans.get(key)
        if plan is None:
            info = state.tariff.split_for(state.kind, None if wanted is None else frozenset(wanted))
            boundaries = None if info is None else walk.boundaries.of(info, cp.reservation)
            plan = walk.plans[key] = SplitPlan(info, boundaries)
        pieces = split_period(p, volumes, plan, progress.kwh, progress.parking, walk.policy)
        if pieces is not None:
            return pieces
    return [Piece(p.start, p.end, volumes, progress.kwh, progress.parking, PERIOD_START)]


def _line(
    period: int, template: LineTemplate, volume: Decimal, tariff_id: str, skipped: Skipped, sub: int
) -> Line:
    return Line(
        period,
        template.dimension,
        template.bucket,
        volume,
        volume,
        tariff_id,
        template.element,
        template.component,
        template.price,
        template.vat,
        template.step_size,
        skipped,
        ZERO_AMOUNT,
        "",
        sub,
    )


def _flat(
    walk: _Walk,
    state: _GroupState,
    ctx: MatchContext,
    memo: dict[int, Mismatch | None],
    progress: SessionProgress,
    period_flat: bool,
) -> tuple[LineTemplate, Skipped] | None:
    """The FLAT to charge at this piece, if one becomes due here (policy ``flat``), recorded in
    ``progress``."""
    mode = walk.policy.flat
    if mode == "per_period":
        due = not period_flat
    else:
        due = mode == "once_per_element" or not progress.flat_done(state.reservation)
    if not due:
        return None
    cand, skipped = select_element(
        state.group.candidates["FLAT"], "FLAT", ctx, walk.policy, memo, ctx.duration, walk.whole
    )
    if cand is None or cand.template is None:
        return None
    tariff_id = state.tariff.id
    if (
        mode == "once_per_element"
        and (tariff_id, state.reservation, cand.index) in progress.flats_charged
    ):
        return None
    progress.charge_flat(tariff_id, state.reservation, cand.index)
    return cand.template, skipped


def _select(
    walk: _Walk, state: _GroupState, volumes: dict[str, Decimal], ctx: MatchContext,
    memo: dict[int, Mismatch | None],
) -> tuple[list[Candidate | None], list[Skipped]]:
    """Stage 3: per dimension of a piece, the element selected and those skipped."""
    candidates = state.group.candidates
    picks: list[Candidate | None] = []
    skips: list[Skipped] = []
    parking_memo: dict[int, Mismatch | None] = {}
    for dim in volumes:
        options = candidates[dim]
        if not options:
            picks.append(None)
            skips.append([])
        elif walk.parking_basis and dim == "PARKING_TIME":
            cand, skipped = select_element(
                options, dim, ctx, walk.policy, parking_memo, ctx.parking, walk.whole
            )
            picks.append(cand)
            skips.append(skipped)
        else:
            cand, skipped = select_element(
                options, dim, ctx, walk.policy, memo, ctx.duration, walk.whole
            )
            picks.append(cand)
            skips.append(skipped)
    return picks, skips


def _price_period(
    walk: _Walk, state: _GroupState, cp: ClassifiedPeriod, progress: SessionProgress
) -> PeriodResult:
    """One period's result: its pieces matched and merged into sub-periods, with lines."""
    p = cp.period
    tariff = state.tariff
    tz = walk.tz
    dims = p.dims
    how = walk.policy.measurement
    current = (
        measured_value(dims, "CURRENT", "MIN_CURRENT", "MAX_CURRENT", how)
        if tariff.measures_current
        else None
    )
    power = (
        measured_value(dims, "POWER", "MIN_POWER", "MAX_POWER", how)
        if tariff.measures_power
        else None
    )
    local = p.start.astimezone(tz)
    ref = walk.session_start if cp.reservation else walk.charging_start
    pieces = _pieces(walk, state, cp, progress)
    result = PeriodResult(
        p.index, "reservation" if cp.reservation else "charging", p.start, p.end, local, tariff.id
    )
    subs = result.subs
    sub_lines: list[list[Line]] = []
    period_flat = False
    last_signature: list[int | None] | None = None
    missing = state.group.missing
    for piece in pieces:
        piece_local = local if piece.start == p.start else piece.start.astimezone(tz)
        ctx = MatchContext(
            piece_local.hour * 60 + piece_local.minute,
            piece_local.date(),
            piece_local.weekday(),
            piece.kwh_before,
            (piece.start - ref) // _SECOND,
            piece.parking_before,
            current,
            power,
        )
        memo: dict[int, Mismatch | None] = {}
        picks, skips = _select(walk, state, piece.volumes, ctx, memo)
        signature = [None if c is None else c.index for c in picks]
        flat = _flat(walk, state, ctx, memo, progress, period_flat)
        if flat is not None:
            period_flat = True
        if signature == last_signature and subs and flat is None:
            # same elements as the previous piece: one sub-period (no needless split)
            subs[-1].end = piece.end
            priced = (ln for ln in sub_lines[-1] if ln.dimension != "FLAT")
            for line, vol in zip(priced, piece.volumes.values(), strict=True):
                line.volume += vol
                line.billed = line.volume
        else:
            last_signature = signature
            sub = len(subs)
            subs.append(SubPeriod(sub, piece.start, piece.end, piece_local, piece.cause))
            sub_lines.append(
                [
                    _line(
                        p.index,
                        missing[dim] if c is None or c.template is None else c.template,
                        vol,
                        tariff.id,
                        skipped,
                        sub,
                    )
                    for (dim, vol), c, skipped in zip(piece.volumes.items(), picks, skips, strict=True)
                ]
            )
        if flat is not None:
            template, skipped = flat
            sub_lines[-1].insert(0, _line(p.index, template, _ONE, tariff.id, skipped, len(subs) - 1))
    result.lines = sub_lines[0] if len(sub_lines) == 1 else [ln for g in sub_lines for ln in g]
    return result


def price_periods(
    plan: PeriodPlan, choice: TariffChoice, session_start: datetime, tz: ZoneInfo, policy: Policy
) -> list[PeriodResult]:
    """Stages 2 and 3 over the whole session: every period split, selected and turned into
    lines (volumes only: step_size and costs come after)."""
    walk = _Walk(
        policy,
        tz,
        policy.element_selection == "whole_element",
        policy.period_split == "restrictions",
        policy.duration_basis == "parking",
        session_start,
        plan.charging_start,
        plan.expired,
        BoundaryIndex(
            tz,
            plan.span_start,
            plan.span_end,
            session_start,
            plan.charging_start,
            policy.end_time == "inclusive",
        ),
        {},
    )
    progress = SessionProgress()
    tariff_of: dict[str, NTariff] = {}
    state: _GroupState | None = None
    results: list[PeriodResult] = []
    for cp in plan.periods:
        tid = cp.period.tariff_id
        if tid:
            tariff = tariff_of.get(tid) or tariff_of.setdefault(tid, choice.for_period(tid))
        else:
            tariff = choice.main
        if state is None or tariff is not state.tariff or cp.reservation is not state.reservation:
            state = _group_state(walk, tariff, cp.reservation)
        results.append(_price_period(walk, state, cp, progress))
        progress.advance(cp)
    return results
