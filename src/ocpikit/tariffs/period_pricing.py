"""Stages 2 and 3 of pricing, walked period by period: split each period into pieces and
price every piece with the elements selected at its start (OCPI 2.2.1 / 2.3.0
``mod_tariffs`` §TariffElement, §TariffRestrictions).

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

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ocpikit.tariffs.boundaries import BoundaryIndex, SessionBoundaries
from ocpikit.tariffs.normal import NTariff
from ocpikit.tariffs.periods import PERIOD_START, ClassifiedPeriod, PeriodPlan
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
from ocpikit.tariffs.splitting import Piece, PieceFields, SplitPlan, split_period
from ocpikit.tariffs.tariff_choice import TariffChoice

__all__ = ["FlatLedger", "price_periods"]

_ONE = Decimal(1)
_SECOND = timedelta(seconds=1)


@dataclass(slots=True)
class FlatLedger:
    """Which FLATs the walk has charged so far (it changes as periods are priced): per
    charging / reservation, and per ``(tariff id, reservation, element index)`` for policy
    ``flat=once_per_element``."""

    charging: bool = False
    reservation: bool = False
    charged: set[tuple[str, bool, int]] = field(default_factory=set)

    def done(self, reservation: bool) -> bool:
        return self.reservation if reservation else self.charging

    def charge(self, tariff_id: str, reservation: bool, element: int) -> None:
        self.charged.add((tariff_id, reservation, element))
        if reservation:
            self.reservation = True
        else:
            self.charging = True


@dataclass(slots=True)
class PeriodWalk:
    """What every period of one price call reads: the policy and the settings derived from it,
    the zone, where durations count from, whether reservations are expired, and the call's
    boundary and split-plan memos. Read for every piece priced, so it is not frozen: it is
    immutable by convention, no field is assigned after it is built (the memos fill up)
    (:mod:`~ocpikit.tariffs.fast_records`)."""

    policy: Policy
    tz: ZoneInfo
    whole: bool
    split: bool
    parking_basis: bool
    flat_mode: str
    #: policy ``measurement``: how a period's current / power is read
    measurement: str
    session_start: datetime
    charging_start: datetime
    expired: bool
    boundaries: BoundaryIndex
    #: split plans per element group and dimensions wanted (computed once per call)
    plans: dict[tuple[int, tuple[str, ...] | None], SplitPlan]


@dataclass(slots=True)
class GroupState:
    """The element group of the current tariff and period kind, with the session boundaries of
    all its elements (``None``: no split) and whether kWh or parking thresholds make every
    period worth examining. Not frozen: immutable by convention, no field is assigned after it
    is built (:mod:`~ocpikit.tariffs.fast_records`)."""

    tariff: NTariff
    reservation: bool
    group: ElementGroup
    kind: GroupKind
    base: SessionBoundaries | None
    always: bool
    #: read for every period: the tariff's id, whether it reads current / power, the group's
    #: candidates per dimension and lines when none matches
    tariff_id: str
    measures_current: bool
    measures_power: bool
    candidates: dict[str, tuple[Candidate, ...]]
    missing: dict[str, LineTemplate]


def _group_state(walk: PeriodWalk, tariff: NTariff, reservation: bool) -> GroupState:
    kind: GroupKind = ("expired" if walk.expired else "reservation") if reservation else "charging"
    group = element_group(tariff, kind, walk.policy)
    info = group.split
    base: SessionBoundaries | None = None
    always = False
    if walk.split and info is not None:
        base = walk.boundaries.of(info, reservation)
        always = bool(info.kwh or (walk.parking_basis and info.durations))
    return GroupState(
        tariff,
        reservation,
        group,
        kind,
        base,
        always,
        tariff.id,
        tariff.measures_current,
        tariff.measures_power,
        group.candidates,
        group.missing,
    )


def _split(
    walk: PeriodWalk, state: GroupState, cp: ClassifiedPeriod, flats: FlatLedger
) -> list[Piece] | None:
    """Stage 2 for one period whose group has boundaries: its pieces, ``None`` when nothing
    switches inside it. Only the elements that can price the period's dimensions (and a FLAT
    still due) cut it."""
    wanted: tuple[str, ...] | None
    if walk.whole:
        wanted = None
    elif walk.flat_mode != "once" or not flats.done(cp.reservation):
        wanted = (*cp.volumes, "FLAT")
    else:
        wanted = tuple(cp.volumes)
    key = (id(state.group), wanted)
    plan = walk.plans.get(key)
    if plan is None:
        info = state.tariff.split_for(state.kind, None if wanted is None else frozenset(wanted))
        boundaries = None if info is None else walk.boundaries.of(info, cp.reservation)
        plan = walk.plans[key] = SplitPlan(info, boundaries)
    return split_period(cp.period, cp.volumes, plan, cp.kwh_before, cp.parking_before, walk.policy)


def _flat(
    walk: PeriodWalk,
    state: GroupState,
    ctx: MatchContext,
    memo: dict[int, Mismatch | None],
    flats: FlatLedger,
) -> tuple[LineTemplate, Skipped] | None:
    """The FLAT to charge at a piece where one is due (policy ``flat``), recorded in
    ``flats``; ``None`` when no element's FLAT matches or it was charged already."""
    cand, skipped = select_element(
        state.group.candidates["FLAT"], "FLAT", ctx, walk.policy, memo, ctx.duration, walk.whole
    )
    if cand is None or cand.template is None:
        return None
    tariff_id = state.tariff.id
    if (
        walk.flat_mode == "once_per_element"
        and (tariff_id, state.reservation, cand.index) in flats.charged
    ):
        return None
    flats.charge(tariff_id, state.reservation, cand.index)
    return cand.template, skipped


def _select_piece(
    candidates: dict[str, tuple[Candidate, ...]],
    missing: dict[str, LineTemplate],
    volumes: dict[str, Decimal],
    ctx: MatchContext,
    memo: dict[int, Mismatch | None],
    walk: PeriodWalk,
) -> tuple[list[tuple[LineTemplate, Skipped]], list[int | None]]:
    """Stage 3 for one piece: per dimension of ``volumes``, the line template of the element
    selected (or of none) with the elements skipped before it, and the indexes selected (the
    piece's signature: equal signatures price alike). ``memo``: each element's outcome at
    this piece, by element index (shared with the FLAT selection)."""
    policy = walk.policy
    whole = walk.whole
    parking_basis = walk.parking_basis
    duration = ctx.duration
    picks: list[tuple[LineTemplate, Skipped]] = []
    signature: list[int | None] = []
    for dim in volumes:
        options = candidates[dim]
        if options:
            if parking_basis and dim == "PARKING_TIME":
                cand, skipped = select_element(options, dim, ctx, policy, {}, ctx.parking, whole)
            else:
                cand, skipped = select_element(options, dim, ctx, policy, memo, duration, whole)
            if cand is not None and cand.template is not None:
                picks.append((cand.template, skipped))
                signature.append(cand.index)
                continue
        else:
            skipped = []
        picks.append((missing[dim], skipped))
        signature.append(None)
    return picks, signature


def _price_period(
    walk: PeriodWalk, state: GroupState, cp: ClassifiedPeriod, flats: FlatLedger
) -> PeriodResult:
    """Stages 2 and 3 for one period: its pieces matched (one :class:`MatchContext` each) and
    merged into sub-periods, with lines. Written flat: it runs for every period priced."""
    period = cp.period
    reservation = cp.reservation
    p_start, p_end = period.start, period.end
    tariff_id = state.tariff_id
    tz = walk.tz
    how = walk.measurement
    dims = period.dims
    current = (
        measured_value(dims, "CURRENT", "MIN_CURRENT", "MAX_CURRENT", how)
        if state.measures_current
        else None
    )
    power = (
        measured_value(dims, "POWER", "MIN_POWER", "MAX_POWER", how)
        if state.measures_power
        else None
    )
    local = p_start.astimezone(tz)
    ref = walk.session_start if reservation else walk.charging_start
    spans: Sequence[PieceFields] | None = None
    base = state.base
    if base is not None and p_start < p_end:
        # a first test with every element of the group: a boundary inside, or a threshold
        at = bisect_right(base.instants, p_start)
        if state.always or (at < len(base.instants) and base.instants[at] < p_end):
            spans = _split(walk, state, cp, flats)
    if spans is None:
        spans = ((p_start, p_end, cp.volumes, cp.kwh_before, cp.parking_before, PERIOD_START),)
    result = PeriodResult(
        period.index,
        "reservation" if reservation else "charging",
        p_start,
        p_end,
        local,
        tariff_id,
        [],
        [],
    )
    subs = result.subs
    sub_lines: list[list[Line]] = []
    period_flat = False
    last_signature: list[int | None] | None = None
    candidates = state.candidates
    missing = state.missing
    flat_mode = walk.flat_mode
    for start, end, piece_volumes, piece_kwh, piece_parking, cause in spans:
        piece_local = local if start == p_start else start.astimezone(tz)
        ctx = MatchContext(
            piece_local.hour * 60 + piece_local.minute,
            piece_local.date(),
            piece_local.weekday(),
            piece_kwh,
            (start - ref) // _SECOND,
            piece_parking,
            current,
            power,
        )
        memo: dict[int, Mismatch | None] = {}
        picks, signature = _select_piece(candidates, missing, piece_volumes, ctx, memo, walk)
        # FLAT: charged where it becomes active (a piece with a FLAT starts a sub-period)
        flat = None
        if flat_mode == "per_period":
            flat_due = not period_flat
        elif flat_mode == "once_per_element":
            flat_due = True
        else:
            flat_due = not (flats.reservation if reservation else flats.charging)
        if flat_due:
            flat = _flat(walk, state, ctx, memo, flats)
        if flat is None and signature == last_signature:
            # same elements as the previous piece: one sub-period (no needless split)
            subs[-1].end = end
            priced = (ln for ln in sub_lines[-1] if ln.dimension != "FLAT")
            for line, vol in zip(priced, piece_volumes.values(), strict=True):
                line.volume += vol
                line.billed = line.volume
            continue
        last_signature = signature
        sub = len(subs)
        subs.append(SubPeriod(sub, start, end, piece_local, cause))
        lines: list[Line] = []
        priced_volumes = piece_volumes
        if flat is not None:
            period_flat = True
            picks.insert(0, flat)
            priced_volumes = {"FLAT": _ONE, **piece_volumes}
        for vol, (t, skipped) in zip(priced_volumes.values(), picks, strict=True):
            lines.append(
                Line(
                    period.index,
                    t.dimension,
                    t.bucket,
                    vol,
                    vol,
                    tariff_id,
                    t.element,
                    t.component,
                    t.price,
                    t.vat,
                    t.step_size,
                    skipped,
                    ZERO_AMOUNT,
                    "",
                    sub,
                )
            )
        sub_lines.append(lines)
    result.lines = sub_lines[0] if len(sub_lines) == 1 else [ln for g in sub_lines for ln in g]
    return result


def price_periods(
    plan: PeriodPlan, choice: TariffChoice, session_start: datetime, tz: ZoneInfo, policy: Policy
) -> list[PeriodResult]:
    """Stages 2 and 3 over the whole session: every period split, selected and turned into
    lines (volumes only: step_size and costs come after)."""
    walk = PeriodWalk(
        policy,
        tz,
        policy.element_selection == "whole_element",
        policy.period_split == "restrictions",
        policy.duration_basis == "parking",
        policy.flat,
        policy.measurement,
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
            [],
            {},
        ),
        {},
    )
    flats = FlatLedger(False, False, set())
    tariff_of: dict[str, NTariff] = {}
    state: GroupState | None = None
    results: list[PeriodResult] = []
    for cp in plan.periods:
        tid = cp.period.tariff_id
        if tid:
            tariff = tariff_of.get(tid) or tariff_of.setdefault(tid, choice.for_period(tid))
        else:
            tariff = choice.main
        if state is None or tariff is not state.tariff or cp.reservation is not state.reservation:
            state = _group_state(walk, tariff, cp.reservation)
        results.append(_price_period(walk, state, cp, flats))
    return results
