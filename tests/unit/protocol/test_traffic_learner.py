"""The traffic learner writes each (connection, party, role) a hub forwards for once, and again
for a connection registered anew (whose learned parties went with its old row)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from ocpikit.protocol.parties import TrafficLearner
from ocpikit.protocol.party_records import RemoteParty
from ocpikit.protocol.ports import Partner, PartnerStatus, PartyRole

pytestmark = pytest.mark.anyio


class Directory:
    """Records what is learned (the PartyDirectory port's ``learn``)."""

    def __init__(self) -> None:
        self.learned: list[RemoteParty] = []

    async def learn(self, entries: list[RemoteParty]) -> None:
        self.learned.extend(entries)


HUB = Partner(
    "HUB",
    PartnerStatus.REGISTERED,
    (PartyRole("HUB", "NL", "HUB"),),
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
)


async def test_each_party_once_and_again_after_a_new_registration() -> None:
    learner, directory = TrafficLearner(), Directory()
    for _ in range(3):
        await learner.saw(directory, HUB, "DE", "AAA", "Location")  # type: ignore[arg-type]
    assert [(e.party_id, e.role) for e in directory.learned] == [("AAA", "CPO")]
    again = dataclasses.replace(HUB, created_at=datetime(2026, 2, 1, tzinfo=UTC))
    await learner.saw(directory, again, "DE", "AAA", "Location")  # type: ignore[arg-type]
    assert len(directory.learned) == 2
