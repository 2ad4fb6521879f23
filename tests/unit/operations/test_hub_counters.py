"""A hub's counters (ocpikit.operations.hub_counters through HubRelay): each forwarded request
counted by outcome on the sender's and the receiver's connection, conversion losses by loss
rule on the connection whose object it was, written in batches and shown by ``hub parties``
and ``hub losses``."""

from __future__ import annotations

from typing import Any

import pytest

from ocpikit.core.errors import HubConnectionProblem, HubTimeout, OcpiError
from ocpikit.core.headers import PartyRef
from ocpikit.operations.hub_clients import hub_parties
from ocpikit.operations.hub_counters import HubCounters, forwarded_summary, loss_rows
from ocpikit.protocol.handlers.base import head_to_version
from ocpikit.protocol.hub_routing import Forward, Forwarded
from ocpikit.server.demo import demo_sessions_and_cdrs, demo_tokens
from ocpikit.storage.memory import MemoryStorage

from .hub_world import HubWorld, hub_world

pytestmark = pytest.mark.anyio

CPB = PartyRef("NL", "CPB")


async def get_location(w: HubWorld, to: PartyRef = CPB) -> Any:
    return await w.request(
        "NL-EMX",
        "locations.sender.get_location",
        "2.3.0",
        "GET",
        {"location_id": "LOC1"},
        to=to,
    )


async def test_each_outcome_is_counted_on_both_connections() -> None:
    w = await hub_world()
    await get_location(w)  # delivered
    w.forwarder.answer = HubTimeout("slow")
    with pytest.raises(OcpiError):
        await get_location(w)
    w.forwarder.answer = HubConnectionProblem("gone")
    with pytest.raises(OcpiError):
        await get_location(w)

    async def unknown(call: Forward) -> Forwarded:
        return Forwarded(404, 2003, "Unknown location")

    w.forwarder.answer = unknown
    reply = await get_location(w)
    assert reply.status_code == 2003
    with pytest.raises(OcpiError) as caught:
        await get_location(w, PartyRef("DE", "NOBODY"))
    assert caught.value.status_code == 4001
    counts = await w.relay.counters.all()
    sent = forwarded_summary(counts["NL-EMX"])["sent"]
    assert sent == {"delivered": 1, "4001": 1, "4002": 1, "4003": 1, "receiver_error": 1}
    received = forwarded_summary(counts["NL-CPB"])["received"]
    assert received == {"delivered": 1, "4002": 1, "4003": 1, "receiver_error": 1}
    assert await w.storage.hub_counters.all() == {}  # nothing written in the request path
    await w.relay.counters.flush()
    rows = {r["party"]: r for r in await hub_parties(w.storage)}
    assert rows["NL-EMX"]["forwarded"]["sent"] == sent
    assert rows["NL-CPB"]["forwarded"]["received"]["delivered"] == 1


async def test_counters_are_written_in_one_batch_and_add_up_across_writers() -> None:
    storage = MemoryStorage()
    one, two = HubCounters(storage), HubCounters(storage)
    for _ in range(1000):
        one.forwarded("A", "B", "delivered")
    two.forwarded("A", None, "4001")
    await one.close()
    await two.close()
    assert (await storage.hub_counters.all())["A"] == {"sent.delivered": 1000, "sent.4001": 1}
    assert (await storage.hub_counters.all())["B"] == {"received.delivered": 1000}


async def test_a_failed_write_keeps_its_increments() -> None:
    storage = MemoryStorage()
    counters = HubCounters(storage)
    counters.count("A", "sent.delivered", 3)

    async def broken(increments: Any) -> None:
        raise RuntimeError("database gone")

    real = storage.hub_counters.add
    storage.hub_counters.add = broken  # type: ignore[method-assign]
    await counters.flush()
    storage.hub_counters.add = real  # type: ignore[method-assign]
    await counters.flush()
    assert await storage.hub_counters.all() == {"A": {"sent.delivered": 3}}


async def push_token(w: HubWorld) -> dict[str, Any]:
    token = demo_tokens("NL", "EMX", 1)[0]
    reply = await w.request(
        "NL-EMX",
        "tokens.receiver.put",
        "2.3.0",
        "PUT",
        {"country_code": "NL", "party_id": "EMX", "token_uid": token["uid"]},
        token,
    )
    assert reply.status_code == 1000
    return token


async def test_a_2_1_1_cdr_reports_and_counts_its_losses() -> None:
    """CPO-A's 2.1.1 CDR to eMSP-X (2.3.0): the sender hears what was lost and how the token
    was filled; the loss rules are counted on CPO-A's connection and listed by connection."""
    w = await hub_world()
    token = await push_token(w)
    _, cdrs = demo_sessions_and_cdrs("NL", "CPA", 1)
    cdr = {**cdrs[0], "cdr_token": {**cdrs[0]["cdr_token"], "contract_id": token["contract_id"]}}
    body = head_to_version(cdr, "2.1.1", "CDR")
    reply = await w.request("NL-CPA", "cdrs.receiver.post", "2.1.1", "POST", {}, body)
    assert reply.status_code == 1000
    message = reply.status_message or ""
    assert "cdr_token filled from token" in message and "lost 2.1.1 to 2.3.0" in message
    await w.relay.counters.flush()
    rows = loss_rows(await w.storage.hub_counters.all())
    mine = {(r["object"], r["from"], r["to"], r["field"]) for r in rows if r["partner"] == "NL-CPA"}
    assert ("CDR", "2.1.1", "2.2.1", "cdr_token") in mine
    assert all(r["count"] >= 1 for r in rows)


async def test_a_2_3_0_token_to_a_2_1_1_cpo_reports_the_losses_of_that_direction() -> None:
    w = await hub_world()
    token = {**demo_tokens("NL", "EMX", 1)[0], "group_id": "G1"}
    reply = await w.request(
        "NL-EMX",
        "tokens.receiver.put",
        "2.3.0",
        "PUT",
        {"country_code": "NL", "party_id": "EMX", "token_uid": token["uid"]},
        token,
    )
    assert "for 2.1.1 receivers" in (reply.status_message or ""), reply.status_message
    await w.relay.counters.flush()
    rows = loss_rows(await w.storage.hub_counters.all())
    assert {r["to"] for r in rows if r["partner"] == "NL-EMX"} >= {"2.1.1"}


async def test_a_forwarded_answer_reports_the_losses_of_its_conversion_back() -> None:
    """CPO-A (2.1.1) asks for a real-time authorization of eMSP-X's (2.3.0) token: the
    answer's conversion down drops what 2.1.1 cannot carry, named in the status_message and
    counted on eMSP-X's connection."""
    w = await hub_world()
    token = await push_token(w)

    async def answer(call: Forward) -> Forwarded:
        info = {"allowed": "ALLOWED", "token": token, "authorization_reference": "REF1"}
        return Forwarded(200, 1000, None, info)

    w.forwarder.answer = answer
    reply = await w.request(
        "NL-CPA", "tokens.sender.authorize", "2.1.1", "POST", {"token_uid": token["uid"]}, {}
    )
    assert reply.status_code == 1000
    assert "lost in conversion" in (reply.status_message or ""), reply.status_message
    assert "authorization_reference" in (reply.status_message or "")
    counts = await w.relay.counters.all()
    assert any(k.startswith("loss:2.2.1>2.1.1 AuthorizationInfo") for k in counts["NL-EMX"])
    assert counts["NL-CPA"]["sent.delivered"] == 1
