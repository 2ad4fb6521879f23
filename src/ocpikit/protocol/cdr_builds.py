"""The CDRs the platform builds for our own sessions (CPO side, docs/cdrs.md "CDRs built by
the platform"): the durable queue of finished sessions and what became of each.

Invariants:

- every Session of ours (no ``owner``) whose stored status becomes ``COMPLETED`` (OCPI 2.2.1
  sessions §9.4.3 SessionStatus) is queued ``pending`` in the transaction that stores it (SQL: a
  trigger of the ``cdr_builds`` migration; memory: in the same write), whichever path wrote it
  (backend API PUT or PATCH, a tool); a crash between the session's end and its CDR loses
  nothing;
- a session is queued once: writing a completed session again does not queue a second build;
- a build is taken under a lease (:meth:`CdrBuildStore.claim`): two processes never build the
  same session at the same time, and a lease left by a crashed process runs out;
- a pending build ends ``built`` (the CDR id), ``skipped`` (``[cdrs] build = "off"``, or a CDR
  of the session already exists) or ``failed`` (why: no tariff, no charging period, ...).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "BUILD_LEASE_SECONDS",
    "CdrBuild",
    "CdrBuildState",
    "CdrBuildStore",
    "signed_data_fact",
]

#: how long a claimed build stays out of other processes' reach
BUILD_LEASE_SECONDS = 15.0


def signed_data_fact(country_code: str, party_id: str, session_id: str) -> str:
    """The platform fact holding the OCPI SignedData (JSON) that the charger signed for our
    Session (the OCPP bridge writes it before it completes the session; the build carries it
    into the CDR, OCPI 2.2.1 cdrs §10.4.1 ``signed_data``). A Session has no such field, so
    it is kept beside the session, not sent to partners with it."""
    return f"session_signed_data:{country_code.upper()}:{party_id.upper()}:{session_id}"


class CdrBuildState(enum.StrEnum):
    PENDING = "pending"
    BUILT = "built"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CdrBuild:
    """One finished session of ours and its CDR build: ``seq`` is the Session's creation order."""

    seq: int
    country_code: str
    party_id: str
    session_id: str
    state: CdrBuildState
    queued_at: datetime
    built_at: datetime | None = None
    cdr_id: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The listing form (``GET /admin/api/cdr-builds``)."""
        return {
            "session_id": self.session_id,
            "country_code": self.country_code,
            "party_id": self.party_id,
            "state": self.state.value,
            "cdr_id": self.cdr_id,
            "error": self.error,
            "queued_at": self.queued_at.isoformat(),
            "built_at": None if self.built_at is None else self.built_at.isoformat(),
        }


class CdrBuildStore(Protocol):
    """The ``cdr_builds`` table: the queue of finished sessions (storage implements it)."""

    async def claim(self, *, limit: int = 50, lease: float = BUILD_LEASE_SECONDS) -> list[CdrBuild]:
        """Pending builds whose lease is free or ran out, in the sessions' creation order,
        each leased to the caller for ``lease`` seconds."""
        ...

    async def finish(
        self, seq: int, state: CdrBuildState, *, cdr_id: str | None, error: str | None
    ) -> bool:
        """Record how a build ended; False when there is no such pending build."""
        ...

    async def listing(
        self, *, states: Sequence[CdrBuildState] = (), limit: int = 1000
    ) -> list[CdrBuild]:
        """Builds (with ``states`` only those) in the sessions' creation order."""
        ...
