"""The learned party directory and object pins on every backend (ocpikit.protocol.parties)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ocpikit.protocol.party_records import Learned, Path, RemoteParty
from ocpikit.protocol.ports import Partner, PartnerStatus, PartyRole, Storage

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.anyio


def hub(pid: str = "hub-1") -> Partner:
    return Partner(
        id=pid,
        status=PartnerStatus.REGISTERED,
        roles=(PartyRole("HUB", "DE", "HUB"),),
        version="2.2.1",
    )


def behind(
    cc: str, pid: str, role: str = "CPO", *, via: str = "hub-1", **kw: object
) -> RemoteParty:
    return RemoteParty(cc, pid, role, via, Path.HUB, kw.pop("learned", Learned.HUBCLIENTINFO), **kw)  # type: ignore[arg-type]


async def test_learned_entries_are_kept_refreshed_and_compared_without_case(
    storage: Storage, clock: FakeClock
) -> None:
    await storage.partners.save(hub())
    await storage.parties.learn(
        [behind("DE", "AAA", status="CONNECTED"), behind("NL", "EMA", "EMSP")]
    )
    clock.advance(seconds=5)
    # the same party spelled otherwise refreshes the row (status, source, time), keeps the spelling
    await storage.parties.learn([behind("de", "aaa", status="OFFLINE")])
    # traffic never overrides what the hub listed
    await storage.parties.learn([behind("DE", "AAA", learned=Learned.TRAFFIC)])
    entries = await storage.parties.learned()
    assert [(e.country_code, e.party_id, e.role, e.status, e.learned) for e in entries] == [
        ("DE", "AAA", "CPO", "OFFLINE", Learned.HUBCLIENTINFO),
        ("NL", "EMA", "EMSP", None, Learned.HUBCLIENTINFO),
    ]
    assert all(e.path is Path.HUB and e.partner_id == "hub-1" for e in entries)
    assert entries[0].updated_at == clock.now


async def test_forget_drops_a_connections_entries_by_source(storage: Storage) -> None:
    await storage.partners.save(hub())
    await storage.partners.save(hub("hub-2"))
    await storage.parties.learn(
        [
            behind("DE", "AAA"),
            behind("DE", "AAB", learned=Learned.TRAFFIC),
            behind("DE", "AAA", via="hub-2"),
        ]
    )
    assert await storage.parties.forget("hub-1", learned=Learned.HUBCLIENTINFO) == 1
    assert [(e.party_id, e.partner_id) for e in await storage.parties.learned()] == [
        ("AAA", "hub-2"),
        ("AAB", "hub-1"),
    ]
    assert [e.party_id for e in await storage.parties.learned(partner_id="hub-2")] == ["AAA"]
    # a deleted connection takes its entries along
    await storage.partners.delete("hub-2")
    assert [e.partner_id for e in await storage.parties.learned()] == ["hub-1"]


async def test_a_pin_is_written_once_and_never_moves(storage: Storage) -> None:
    await storage.partners.save(hub())
    await storage.partners.save(hub("hub-2"))
    assert await storage.parties.pinned("Session", "NL", "CPO", "s1") is None
    assert await storage.parties.pin("Session", "NL", "CPO", "s1", "hub-1") == "hub-1"
    assert await storage.parties.pin("Session", "nl", "cpo", "S1", "hub-2") == "hub-1"
    assert await storage.parties.pinned("Session", "NL", "CPO", "s1") == "hub-1"
    assert await storage.parties.pinned("Session", "NL", "CPO", "s2") is None
