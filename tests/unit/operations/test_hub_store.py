"""Where a hub's relayed objects go (ocpikit.operations.hub_broadcast, hub_open_routing through
HubRelay): with a store, a broadcast object is stored and queued for every receiver in one write;
with ``[hub] store = false`` it is only queued, partial writes are relayed live and an
open-routing list is merged live from the sender parties."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from ocpikit.core.errors import HubTimeout
from ocpikit.core.headers import PartyRef
from ocpikit.protocol.handlers.base import head_to_version
from ocpikit.protocol.hub_routing import Forward, Forwarded
from ocpikit.protocol.ports import ObjectKey, OutboxOperation
from ocpikit.server.demo import demo_locations

from .hub_world import HubWorld, hub_world

pytestmark = pytest.mark.anyio


def location(pid: str, ident: str) -> dict[str, Any]:
    return {**next(iter(demo_locations("NL", pid, 1))), "id": ident}


async def put_location(w: HubWorld, caller: str = "NL-CPB", ident: str = "LOC1") -> Any:
    pid = caller.split("-")[1]
    return await w.request(
        caller,
        "locations.receiver.put_location",
        "2.2.1",
        "PUT",
        {"country_code": "NL", "party_id": pid, "location_id": ident},
        head_to_version(location(pid, ident), "2.2.1", "Location"),
    )


async def queued(w: HubWorld) -> dict[str, Any]:
    return {e.partner_id: e for e in await w.storage.outbox.entries()}


async def test_a_broadcast_is_stored_and_queued_in_one_write() -> None:
    w = await hub_world()
    writes: list[tuple[ObjectKey, tuple[str, ...]]] = []
    real_put = w.storage.objects.put

    async def put(key: ObjectKey, document: Any, **kw: Any) -> Any:
        writes.append((key, tuple(kw.get("push_to", ()))))
        return await real_put(key, document, **kw)

    async def no_separate_enqueue(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("queued apart from the object's write")

    w.storage.objects.put = put  # type: ignore[method-assign]
    w.storage.outbox.enqueue = no_separate_enqueue  # type: ignore[method-assign]
    reply = await put_location(w)
    assert reply.status_code == 1000
    assert writes == [(ObjectKey("Location", "NL", "CPB", "LOC1"), ("NL-EMX", "NL-EMY"))]
    stored = await w.storage.objects.get(writes[0][0])
    assert stored is not None
    entries = await queued(w)
    assert set(entries) == {"NL-EMX", "NL-EMY"}
    assert {e.revision for e in entries.values()} == {stored.revision}


async def test_a_2_1_1_cdr_is_completed_before_its_one_write() -> None:
    """The token filled into a 2.1.1 CDR is in the stored and the queued object alike."""
    from ocpikit.server.demo import demo_sessions_and_cdrs, demo_tokens

    w = await hub_world()
    token = demo_tokens("NL", "EMX", 1)[0]
    await w.request(
        "NL-EMX",
        "tokens.receiver.put",
        "2.3.0",
        "PUT",
        {"country_code": "NL", "party_id": "EMX", "token_uid": token["uid"]},
        token,
    )
    _, cdrs = demo_sessions_and_cdrs("NL", "CPA", 1)
    cdr = {**cdrs[0], "cdr_token": {**cdrs[0]["cdr_token"], "contract_id": token["contract_id"]}}
    reply = await w.request(
        "NL-CPA", "cdrs.receiver.post", "2.1.1", "POST", {}, head_to_version(cdr, "2.1.1", "CDR")
    )
    assert reply.status_code == 1000
    [entry] = [e for e in await w.storage.outbox.entries() if e.key.kind == "CDR"]
    assert entry.partner_id == "NL-EMX"
    stored = await w.storage.objects.get(entry.key)
    assert stored is not None and stored.revision == entry.revision == 1
    assert orjson.loads(entry.payload or b"{}")["cdr_token"]["party_id"] == "EMX"


async def test_without_a_store_a_broadcast_is_only_queued() -> None:
    w = await hub_world(store=False)
    reply = await put_location(w)
    assert reply.status_code == 1000
    assert await w.storage.objects.get(ObjectKey("Location", "NL", "CPB", "LOC1")) is None
    entries = await queued(w)
    assert set(entries) == {"NL-EMX", "NL-EMY"}
    payload = orjson.loads(entries["NL-EMX"].payload or b"{}")
    assert payload["id"] == "LOC1" and entries["NL-EMX"].operation is OutboxOperation.PUT
    again = await put_location(w)  # the same state again: the same revision
    assert again.status_code == 1000
    assert (await queued(w))["NL-EMX"].revision == entries["NL-EMX"].revision


async def test_without_a_store_a_patch_is_relayed_live_to_every_receiver() -> None:
    w = await hub_world(store=False)

    async def answer(call: Forward) -> Forwarded:
        if call.partner.id == "NL-EMY":
            raise HubTimeout("slow")
        return Forwarded(200, 1000)

    w.forwarder.answer = answer
    reply = await w.request(
        "NL-CPB",
        "locations.receiver.patch_location",
        "2.2.1",
        "PATCH",
        {"country_code": "NL", "party_id": "CPB", "location_id": "LOC1"},
        {"name": "New name", "last_updated": "2026-03-01T12:00:00Z"},
    )
    sent = {c.partner.id: c for c in w.forwarder.sent}
    assert set(sent) == {"NL-EMX", "NL-EMY"}
    assert sent["NL-EMX"].path == ("NL", "CPB", "LOC1") and sent["NL-EMX"].method == "PATCH"
    assert orjson.loads(sent["NL-EMX"].body or b"{}")["name"] == "New name"
    assert "NL-EMY: 4002" in (reply.status_message or ""), reply.status_message
    counts = await w.relay.counters.all()
    assert counts["NL-CPB"] == {"sent.delivered": 1, "sent.4002": 1}


# --- the merged list, live --------------------------------------------------------------------
def lists(cpa: int, cpb: int, *, page_cap: int = 1000, fail: str | None = None) -> Any:
    """A forwarder answering each CPO's Sender list from ``n`` locations (its version), at most
    ``page_cap`` per answer; ``fail``: that connection times out."""
    held = {
        "NL-CPA": [
            head_to_version(location("CPA", f"A{i:03}"), "2.1.1", "Location") for i in range(cpa)
        ],
        "NL-CPB": [
            head_to_version(location("CPB", f"B{i:03}"), "2.2.1", "Location") for i in range(cpb)
        ],
    }

    async def answer(call: Forward) -> Forwarded:
        if call.partner.id == fail:
            raise HubTimeout("slow")
        items = held[call.partner.id]
        query = call.query or {}
        offset, limit = int(query["offset"]), min(int(query["limit"]), page_cap)
        return Forwarded(200, 1000, None, items[offset : offset + limit], len(items), page_cap)

    return answer


async def list_page(w: HubWorld, query: dict[str, str], caller: str = "NL-EMY") -> Any:
    return await w.request(caller, "locations.sender.list", "2.2.1", "GET", {}, None, query)


def ids(reply: Any) -> list[str]:
    return [orjson.loads(item)["id"] for item in reply.raw_items]


async def test_a_merged_list_is_every_cpos_list_in_a_stable_order() -> None:
    w = await hub_world(store=False)
    w.forwarder.answer = lists(3, 4)
    reply = await list_page(w, {"offset": "0", "limit": "10"})
    assert ids(reply) == ["A000", "A001", "A002", "B000", "B001", "B002", "B003"]
    assert reply.headers["X-Total-Count"] == "7" and "Link" not in reply.headers
    assert {c.to_party for c in w.forwarder.sent} == {PartyRef("NL", "CPA"), PartyRef("NL", "CPB")}


async def test_a_first_page_the_first_cpo_fills_reads_only_the_others_counts() -> None:
    w = await hub_world(store=False)
    w.forwarder.answer = lists(12, 4)
    reply = await list_page(w, {"offset": "0", "limit": "10"})
    assert ids(reply) == [f"A{i:03}" for i in range(10)]
    assert reply.headers["X-Total-Count"] == "16" and "offset=10" in reply.headers["Link"]
    asked = {c.partner.id: (c.query or {})["limit"] for c in w.forwarder.sent}
    assert asked == {"NL-CPA": "10", "NL-CPB": "1"}


async def test_a_walk_over_the_links_sees_every_item_once() -> None:
    w = await hub_world(store=False)
    w.forwarder.answer = lists(5, 6, page_cap=2)  # the CPOs page by 2 themselves
    seen: list[str] = []
    query = {"offset": "0", "limit": "4"}
    for _ in range(10):
        reply = await list_page(w, query)
        assert reply.headers["X-Total-Count"] == "11"
        seen.extend(ids(reply))
        link = reply.headers.get("Link")
        if link is None:
            break
        url = link[link.index("<") + 1 : link.index(">")]
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert seen == [f"A{i:03}" for i in range(5)] + [f"B{i:03}" for i in range(6)]


async def test_date_filters_go_to_every_cpo_and_a_silent_one_is_named() -> None:
    w = await hub_world(store=False)
    w.forwarder.answer = lists(3, 4, fail="NL-CPA")
    reply = await list_page(w, {"offset": "0", "limit": "10", "date_from": "2025-01-01T00:00:00Z"})
    assert ids(reply) == ["B000", "B001", "B002", "B003"]
    assert reply.headers["X-Total-Count"] == "4"
    assert "NL-CPA" in (reply.status_message or "") and "4002" in (reply.status_message or "")
    assert all((c.query or {}).get("date_from") == "2025-01-01T00:00:00Z" for c in w.forwarder.sent)


async def test_with_a_store_the_list_comes_from_the_store() -> None:
    w = await hub_world(store=True)
    await put_location(w, "NL-CPB", "LOC1")
    reply = await list_page(w, {"offset": "0", "limit": "10"})
    assert ids(reply) == ["LOC1"] and w.forwarder.sent == []
