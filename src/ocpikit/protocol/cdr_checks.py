"""The checks of the CDRs partners send us (eMSP side): the durable queue, the stored result and
the verdict rules (docs/cdrs.md "CDR checks in the platform").

Invariants:

- every CDR a partner stores with us (pushed, OCPI 2.2.1 cdrs §8.2.2 Receiver POST, or pulled)
  has a check; storage queues it ``pending`` in the transaction that stores the CDR (SQL: a
  trigger of migration 0009; memory: in the same write), so a crash loses no check;
- a check is ``done`` only for the revision of the CDR it looked at: a CDR written again is
  checked again;
- a check is taken under a lease (:meth:`CdrCheckStore.claim`): two processes never check the
  same CDR at the same time; a lease left by a crashed process runs out;
- an ``unverifiable`` check goes back to ``pending`` when the partner stores a Tariff (the CDR
  arrived before its tariff), in the transaction that stores it; a check in flight then
  (pending) that ends ``unverifiable`` is stored but stays ``pending``; the checks that found a
  ``duplicate`` of a session go back to ``pending`` when a credit CDR of that session is
  checked (a correction: credit CDR, then a new CDR, whatever order they arrive in);
- the verdict is a pure function of the findings (:func:`verdict_of`): ``ok`` (nothing found),
  ``within_tolerance`` (only amounts within the partner's ``cdr_tolerance``), ``disputed``
  (anything else), ``unverifiable`` (no tariff to price it with, and nothing else found).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson

__all__ = [
    "CHECK_LEASE_SECONDS",
    "COST_FIELDS",
    "DEFAULT_TOLERANCE",
    "DISPUTE_VERDICTS",
    "CdrCheck",
    "CdrCheckState",
    "CdrCheckStore",
    "CheckOutcome",
    "Finding",
    "Resolution",
    "Verdict",
    "verdict_of",
]

#: amounts (declared - expected, excl. and incl. VAT) within this many currency units are
#: tolerated when the partner sets no ``cdr_tolerance`` switch
DEFAULT_TOLERANCE = Decimal("0.01")

#: how long a claimed check stays out of other processes' reach
CHECK_LEASE_SECONDS = 15.0

#: the cost fields of a CDR whose differences the tolerance applies to (OCPI 2.2.1 cdrs §10.4.1)
COST_FIELDS: frozenset[str] = frozenset(
    {
        "total_cost",
        "total_fixed_cost",
        "total_energy_cost",
        "total_time_cost",
        "total_parking_cost",
        "total_reservation_cost",
    }
)


class CdrCheckState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"


class Verdict(enum.StrEnum):
    OK = "ok"
    WITHIN_TOLERANCE = "within_tolerance"
    DISPUTED = "disputed"
    UNVERIFIABLE = "unverifiable"


#: what ``ocpikit cdr disputes`` lists: the verdicts that need the operator
DISPUTE_VERDICTS: tuple[Verdict, ...] = (Verdict.DISPUTED, Verdict.UNVERIFIABLE)


class Resolution(enum.StrEnum):
    ACCEPTED = "accepted"
    CONTESTED = "contested"


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason: a code of ``ocpikit cdr check`` (or ``duplicate``, ``tariff_missing``,
    ``signed_data``), the field, and the amount at stake for cost fields."""

    code: str
    field: str
    message: str
    amount: Decimal | None = None
    amount_incl: Decimal | None = None


def verdict_of(
    findings: Iterable[Finding],
    tolerance: Decimal,
    *,
    priced: bool,
    disputing: Collection[str] | None = None,
) -> Verdict:
    """The verdict of a check: ``priced`` says whether a tariff was found to price the CDR;
    ``disputing`` (the partner's ``cdr_dispute_reasons``), when given, the reason codes that
    can dispute it (the others do not count)."""
    tolerated = 0
    other = 0
    for f in findings:
        if disputing is not None and f.code not in disputing and f.code != "tariff_missing":
            continue
        if (
            f.field in COST_FIELDS
            and f.amount is not None
            and abs(f.amount) <= tolerance
            and (f.amount_incl is None or abs(f.amount_incl) <= tolerance)
        ):
            tolerated += 1
        elif f.code != "tariff_missing":
            other += 1
    if other:
        return Verdict.DISPUTED
    if not priced:
        return Verdict.UNVERIFIABLE
    return Verdict.WITHIN_TOLERANCE if tolerated else Verdict.OK


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """What a check found: the verdict, the reason codes, the difference per cost field
    (``{field: {"declared", "expected", "difference"}}``, decimal strings), the session id it
    read, and the rest (``findings`` in detail, the priced breakdown, the OCMF result)."""

    verdict: Verdict
    reasons: list[str]
    differences: dict[str, dict[str, str | None]]
    session_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    #: :meth:`to_json` serialized, in an outcome made by :meth:`packed` (``detail`` then empty)
    packed_json: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        if self.packed_json is not None:
            parsed: dict[str, Any] = orjson.loads(self.packed_json)
            return parsed
        return {
            "verdict": self.verdict.value,
            "reasons": self.reasons,
            "differences": self.differences,
            "session_id": self.session_id,
            **self.detail,
        }

    def json_bytes(self) -> bytes:
        """:meth:`to_json` serialized (compact, as orjson writes it)."""
        return self.packed_json if self.packed_json is not None else orjson.dumps(self.to_json())

    def packed(self) -> CheckOutcome:
        """The same outcome with its JSON serialized once and ``detail`` (the priced breakdown,
        a tree of many small objects) let go: a run holding a batch of outcomes until it stores
        them keeps one bytes object each instead of the tree."""
        return CheckOutcome(
            self.verdict, self.reasons, self.differences, self.session_id, {}, self.json_bytes()
        )


@dataclass(frozen=True, slots=True)
class CdrCheck:
    """One check as stored: the CDR it is about (its key parts; ``seq`` the object's creation
    order), the partner that sent it, the revision checked, state, and once done the outcome
    and the operator's resolution."""

    seq: int
    country_code: str
    party_id: str
    cdr_id: str
    owner: str
    revision: int
    state: CdrCheckState
    queued_at: datetime
    checked_at: datetime | None = None
    verdict: Verdict | None = None
    result: Mapping[str, Any] | None = None
    resolution: Resolution | None = None
    note: str | None = None
    resolved_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The listing form (``ocpikit cdr disputes --json``, ``GET /admin/api/cdr-checks``)."""
        result = self.result or {}
        return {
            "cdr_id": self.cdr_id,
            "country_code": self.country_code,
            "party_id": self.party_id,
            "partner": self.owner,
            "state": self.state.value,
            "verdict": None if self.verdict is None else self.verdict.value,
            "reasons": list(result.get("reasons", [])),
            "differences": dict(result.get("differences", {})),
            "checked_at": None if self.checked_at is None else self.checked_at.isoformat(),
            "resolution": None if self.resolution is None else self.resolution.value,
            "note": self.note,
        }


class CdrCheckStore(Protocol):
    """The ``cdr_checks`` table: the queue and the results (storage implements it)."""

    async def pending(self, *, limit: int = 100) -> list[CdrCheck]:
        """Pending checks in the CDRs' creation order."""
        ...

    async def claim(
        self, *, limit: int = 100, lease: float = CHECK_LEASE_SECONDS
    ) -> list[CdrCheck]:
        """Pending checks whose lease is free or ran out, in the CDRs' creation order, each
        leased to the caller for ``lease`` seconds: two processes never check one CDR at once."""
        ...

    async def requeue(self, seqs: Sequence[int]) -> int:
        """Put these done checks back to ``pending`` (something they read changed); the
        number requeued."""
        ...

    async def finish(self, check: CdrCheck, outcome: CheckOutcome) -> bool:
        """Store the outcome (:meth:`CheckOutcome.to_json`); False (nothing written) when the CDR was written again since
        ``check`` was read (it stays pending for its new revision)."""
        ...

    async def finish_many(self, items: Sequence[tuple[CdrCheck, CheckOutcome]]) -> list[bool]:
        """:meth:`finish` of each, in one write transaction; whether each was stored."""
        ...

    async def first_with_session(
        self, owner: str, session_id: str, *, before_seq: int
    ) -> CdrCheck | None:
        """A CDR of ``owner`` created before ``before_seq`` whose done check read the same
        session id (case-insensitive), if any: the second CDR of one session."""
        ...

    async def with_session(self, owner: str, session_id: str, *, before_seq: int) -> list[CdrCheck]:
        """Every CDR of ``owner`` created before ``before_seq`` whose done check read the same
        session id (case-insensitive), in creation order: the CDRs (and credit CDRs) that
        billed the session before."""
        ...

    async def with_sessions(
        self, wanted: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[CdrCheck]]:
        """:meth:`with_session` of every ``(owner, session id)`` pair at once (whatever the
        creation order), in one read: by ``(owner, session id upper-cased)`` (``ci_key``),
        each list in creation order; a pair with no check is absent."""
        ...

    async def listing(
        self,
        *,
        verdicts: Sequence[Verdict] = (),
        partner: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[CdrCheck]:
        """Checks (done and pending; with ``verdicts`` only done ones with those verdicts) in
        the CDRs' creation order; ``since`` on ``checked_at``."""
        ...

    async def find(self, cdr_id: str) -> list[CdrCheck]:
        """The checks of every CDR with this id (any party; case-insensitive)."""
        ...

    async def resolve(self, seq: int, resolution: Resolution, note: str | None) -> bool:
        """Record the operator's resolution of a check; False when there is no such check."""
        ...
