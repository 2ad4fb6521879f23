"""Real-time authorization and commands reach an eMSP or a CPO behind a hub: over the hub
connection, addressed (``OCPI-to-*``) to the party behind it (OCPI 2.2.1 transport_and_format
§Message Routing; the party directory, ``ocpikit.protocol.parties``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

from ocpikit.core.errors import NoEndpoint
from ocpikit.core.headers import PartyRef
from ocpikit.core.types import parse_datetime
from ocpikit.operations import commands
from ocpikit.operations.authorization import authorize
from ocpikit.protocol.parties import RoutingRules
from ocpikit.protocol.party_records import Learned, Path, RemoteParty
from ocpikit.protocol.ports import ObjectKey

from .fakes import World, partner, world

pytestmark = pytest.mark.anyio

US = ("NL", "CPO")


async def _hub(w: World, pid: str, *behind: tuple[str, str, str]) -> None:
    await w.storage.partners.save(partner(pid, party=("EU", pid[-3:].upper()), role="HUB"))
    await w.storage.parties.learn(
        [
            RemoteParty(cc, party, role, pid, Path.HUB, Learned.HUBCLIENTINFO, "CONNECTED")
            for cc, party, role in behind
        ]
    )


def _token(uid: str) -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": uid,
        "type": "RFID",
        "contract_id": f"DE-MSP-{uid}",
        "issuer": "MSP",
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": "2026-03-01T10:00:00Z",
    }


async def test_a_token_pushed_through_a_hub_is_authorized_at_its_emsp_over_the_hub() -> None:
    w = world()
    await _hub(w, "hub-one", ("DE", "MSP", "EMSP"))
    doc = _token("T1")
    await w.storage.objects.put(
        ObjectKey("Token", "DE", "MSP", "T1"),
        orjson.dumps(doc),
        last_updated=parse_datetime(doc["last_updated"]),
        owner="hub-one",
    )

    async def allowed(*_: Any, **__: Any) -> dict[str, Any]:
        return {"allowed": "ALLOWED"}

    w.calls.answers["authorize"] = allowed
    info = await authorize(w.ports, US, "T1")
    assert (info["allowed"], info["source"]) == ("ALLOWED", "realtime")
    [(via, method, args, kwargs)] = w.calls.calls[:1]
    assert (via, method, args) == ("hub-one", "authorize", ("T1",))
    assert kwargs["to_party"] == PartyRef("DE", "MSP")


async def test_an_unknown_token_of_a_named_emsp_goes_to_the_preferred_hub() -> None:
    w = world()
    await _hub(w, "hub-one", ("DE", "MSP", "EMSP"))
    await _hub(w, "hub-two", ("DE", "MSP", "EMSP"))
    w.ports = dataclasses.replace(w.ports, rules=RoutingRules(hub_order=("hub-two",)))
    await authorize(w.ports, US, "T9", emsp=("DE", "MSP"))
    [(via, _, _, kwargs)] = [c for c in w.calls.calls if c[1] == "authorize"]
    assert via == "hub-two" and kwargs["to_party"] == PartyRef("DE", "MSP")


async def test_a_command_to_a_cpo_behind_a_hub_is_addressed_to_it() -> None:
    w = world()
    await _hub(w, "hub-one", ("DE", "AAA", "CPO"))
    partner_id, to_party = await commands.party_route(w.ports, "de-aaa", "CPO")
    assert (partner_id, to_party) == ("hub-one", PartyRef("DE", "AAA"))
    start = {"token": _token("T1"), "location_id": "LOC1"}
    await commands.send_command(w.ports, partner_id, "START_SESSION", start, to_party=to_party)
    [(via, method, args, kwargs)] = w.calls.calls
    assert (via, method, args[0], kwargs["to_party"]) == (
        "hub-one",
        "send_command",
        "START_SESSION",
        PartyRef("DE", "AAA"),
    )
    with pytest.raises(NoEndpoint, match="DE-ZZZ"):
        await commands.party_route(w.ports, "DE-ZZZ", "CPO")
    with pytest.raises(ValueError):
        await commands.party_route(w.ports, "DEAAA", "CPO")


async def test_a_direct_cpo_needs_no_routing_party() -> None:
    w = world()
    await w.storage.partners.save(partner("DE-AAA", party=("DE", "AAA")))
    await _hub(w, "hub-one", ("DE", "AAA", "CPO"))
    assert await commands.party_route(w.ports, "DE-AAA", "CPO") == ("DE-AAA", None)


async def test_a_hub_that_needs_location_references_is_not_asked_without_them() -> None:
    w = world()
    await w.storage.partners.save(
        dataclasses.replace(
            partner("FR-GIR", party=("FR", "GIR"), role="HUB"), settings={"profile": "gireve"}
        )
    )
    await w.storage.parties.learn(
        [RemoteParty("DE", "MSP", "EMSP", "FR-GIR", Path.HUB, Learned.HUBCLIENTINFO)]
    )
    info = await authorize(w.ports, US, "T1", emsp=("DE", "MSP"))
    assert info["allowed"] == "NOT_ALLOWED" and "LocationReferences" in info["reason"]
    assert [c for c in w.calls.calls if c[1] == "authorize"] == []
    await authorize(w.ports, US, "T1", emsp=("DE", "MSP"), location={"location_id": "L1"})
    assert [c[0] for c in w.calls.calls if c[1] == "authorize"] == ["FR-GIR"]
