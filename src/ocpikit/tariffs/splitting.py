"""Stage 2b of pricing: split a period at the restriction boundaries inside it (policy
``period_split``; OCPI 2.2.1 / 2.3.0 ``mod_tariffs`` §TariffRestrictions, §TariffElement: the
active component is chosen at each instant).

A period is cut where the session boundaries (:mod:`ocpikit.tariffs.boundaries`) fall inside
it, and where a kWh threshold is reached, interpolated assuming constant power (policy
``kwh_split``), and with ``duration_basis=parking`` where a parking-time threshold is reached.
Invariants: the pieces of a period are contiguous, start with the period and end with it; their
volumes sum to the period's (each dimension's last piece takes the remainder); energy and
parking are exact at their own thresholds, other volumes are spread in proportion to time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from ocpikit.tariffs.boundaries import SessionBoundaries
from ocpikit.tariffs.fast_records import fast_frozen
from ocpikit.tariffs.local_time import MICROSECOND
from ocpikit.tariffs.normal import NPeriod, SplitInfo
from ocpikit.tariffs.periods import PERIOD_START
from ocpikit.tariffs.policy import Policy

__all__ = ["Piece", "PieceFields", "SplitPlan", "period_pieces", "split_period"]

_ZERO = Decimal(0)
_HOUR = Decimal(3600)


#: the fields of a :class:`Piece`, in order (a period that is not split is priced as one
#: piece given as a plain tuple of them)
PieceFields = tuple[datetime, datetime, dict[str, Decimal], Decimal, Decimal, str]


class Piece(NamedTuple):
    """A piece of a period: ``[start, end)``, its volumes, the kWh and parking seconds used
    before it, and why it starts there. A named tuple (immutable) so that the pricing loop
    can unpack a piece and an unsplit period alike."""

    start: datetime
    end: datetime
    volumes: dict[str, Decimal]
    kwh_before: Decimal
    parking_before: Decimal
    cause: str


@fast_frozen
@dataclass(frozen=True, slots=True)
class SplitPlan:
    """Where the elements that can price a period switch: their :class:`SplitInfo` and the
    session boundaries of it (both ``None`` when nothing in them can switch)."""

    info: SplitInfo | None
    boundaries: SessionBoundaries | None


@dataclass(slots=True)
class Cut:
    """A boundary inside a period (or the period start): the fraction of the period before it,
    the instant, why, and the kWh and parking seconds used there (exact at a kWh / parking
    threshold, else in proportion to time). One is built for every boundary a period is cut
    at, so it is not frozen: it is immutable by convention, no field is assigned after it is
    built (:mod:`~ocpikit.tariffs.fast_records`)."""

    fraction: Decimal
    instant: datetime
    cause: str
    kwh: Decimal
    parking: Decimal


def _cuts(
    p: NPeriod,
    volumes: dict[str, Decimal],
    info: SplitInfo,
    clock: list[tuple[datetime, str]],
    kwh_before: Decimal,
    parking_before: Decimal,
    policy: Policy,
) -> list[Cut]:
    """The boundaries inside ``p``, sorted by fraction (stable)."""
    start = p.start
    total_us = (p.end - start) // MICROSECOND
    energy = volumes.get("ENERGY", _ZERO)
    parked = volumes.get("PARKING_TIME", _ZERO) * _HOUR
    cuts: list[Cut] = []
    if clock:
        total = Decimal(total_us)
        for instant, why in clock:
            f = Decimal((instant - start) // MICROSECOND) / total
            cuts.append(Cut(f, instant, why, kwh_before + energy * f, parking_before + parked * f))
    if info.kwh and energy > 0 and policy.kwh_split == "interpolate":
        for k in info.kwh:
            if kwh_before < k < kwh_before + energy:
                f = (k - kwh_before) / energy
                instant = start + MICROSECOND * int(f * total_us)
                why = f"{k} kWh reached (interpolated, constant power)"
                cuts.append(Cut(f, instant, why, k, parking_before + parked * f))
    if info.durations and parked > 0 and policy.duration_basis == "parking":
        for threshold in info.durations:
            limit = Decimal(threshold)
            if parking_before < limit < parking_before + parked:
                f = (limit - parking_before) / parked
                instant = start + MICROSECOND * int(f * total_us)
                why = f"parking time reaches {threshold} s"
                cuts.append(Cut(f, instant, why, kwh_before + energy * f, limit))
    cuts.sort(key=_fraction)
    return cuts


def _fraction(cut: Cut) -> Decimal:
    return cut.fraction


def period_pieces(
    p: NPeriod,
    volumes: dict[str, Decimal],
    info: SplitInfo,
    clock: list[tuple[datetime, str]],
    kwh_before: Decimal,
    parking_before: Decimal,
    policy: Policy,
) -> list[Piece]:
    """Cut period ``p`` where a restriction of ``info`` can switch.

    ``clock``: the session boundaries inside the period (time of day, day, date, duration),
    explained. Pieces whose elements turn out the same are merged by the caller.
    """
    start, end = p.start, p.end
    cuts = _cuts(p, volumes, info, clock, kwh_before, parking_before, policy) if end > start else []
    if not cuts:
        return [Piece(start, end, volumes, kwh_before, parking_before, PERIOD_START)]
    # the boundaries kept: strictly after the previous one, before the end
    last = Cut(_ZERO, start, PERIOD_START, kwh_before, parking_before)
    points = [last]
    for cut in cuts:
        if cut.fraction <= last.fraction or cut.instant <= last.instant or cut.instant >= end:
            continue
        points.append(cut)
        last = cut
    return _distribute(points, volumes, end, kwh_before, parking_before)


def _distribute(
    points: list[Cut],
    volumes: dict[str, Decimal],
    end: datetime,
    kwh_before: Decimal,
    parking_before: Decimal,
) -> list[Piece]:
    """The pieces between consecutive ``points`` (the period start, then the boundaries kept),
    with the period's volumes shared out: the last piece takes each dimension's remainder."""
    pieces: list[Piece] = []
    done: dict[str, Decimal] = dict.fromkeys(volumes, _ZERO)
    for i, point in enumerate(points):
        last = i + 1 == len(points)
        piece_volumes: dict[str, Decimal] = {}
        for dim, vol in volumes.items():
            if last:
                upto = vol
            elif dim == "ENERGY":
                upto = points[i + 1].kwh - kwh_before
            elif dim == "PARKING_TIME":
                upto = (points[i + 1].parking - parking_before) / _HOUR
            else:
                upto = vol * points[i + 1].fraction
            piece_volumes[dim] = upto - done[dim]
            done[dim] = upto
        piece_end = end if last else points[i + 1].instant
        pieces.append(
            Piece(
                point.instant,
                piece_end,
                piece_volumes,
                point.kwh,
                point.parking,
                point.cause,
            )
        )
    return pieces


def split_period(
    p: NPeriod,
    volumes: dict[str, Decimal],
    plan: SplitPlan,
    kwh_before: Decimal,
    parking_before: Decimal,
    policy: Policy,
) -> list[Piece] | None:
    """The pieces of ``p`` (:func:`period_pieces`) at the boundaries of ``plan``; ``None``
    when none falls inside it and no kWh / parking threshold can."""
    info, boundaries = plan.info, plan.boundaries
    if info is None or boundaries is None:
        return None
    clock = boundaries.inside(p.start, p.end)
    if clock or info.kwh or (policy.duration_basis == "parking" and info.durations):
        return period_pieces(p, volumes, info, clock, kwh_before, parking_before, policy)
    return None
