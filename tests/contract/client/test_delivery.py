"""The outbox delivery worker with a fake clock against misbehaving partners."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import httpx
import orjson
import pytest

from ocpikit.client.delivery import DeliveryWorker, Outcome, push_targets
from ocpikit.models import model_for
from ocpikit.operations import put_own_object
from ocpikit.protocol.ports import ObjectKey, OutboxState
from ocpikit.storage.memory import MemoryStorage

from .helpers import FakeClock, cdrs, envelope, locations, mock, ok, partner, sessions

pytestmark = pytest.mark.anyio


class World:
    def __init__(
        self, handler: Callable[[httpx.Request], httpx.Response], **settings: object
    ) -> None:
        self.clock = FakeClock()
        self.storage = MemoryStorage(clock=self.clock)
        self.requests: list[httpx.Request] = []
        self.handler = handler
        self.settings = settings

        def record(req: httpx.Request) -> httpx.Response:
            self.requests.append(req)
            return self.handler(req)

        self.http = mock(record)

    async def setup(self, version: str = "2.2.1") -> None:
        await self.storage.partners.save(
            partner(version, role="EMSP", pid="DE-MSP", settings=dict(self.settings))
        )

    def worker(self, batch: int = 100) -> DeliveryWorker:
        return DeliveryWorker(
            self.storage,
            self.http,
            worker_id="w1",
            clock=self.clock,
            rng=random.Random(1),
            batch=batch,
        )

    async def put(self, kind: str, doc: dict) -> ObjectKey:
        key = ObjectKey(kind, doc["country_code"], doc["party_id"], doc["id"])
        await put_own_object(self.storage, key, doc)
        return key

    async def pending(self) -> list:
        return await self.storage.outbox.entries()


async def test_delivers_puts_and_cdr_posts_in_the_partners_version() -> None:
    w = World(lambda r: ok(None, 201, {"Location": "https://x/cdr"}))
    await w.setup("2.1.1")
    await w.put("Location", locations(1)[0])
    await w.put("CDR", cdrs(1)[0])
    out = await w.worker().run_once()
    assert [o.result for o in out] == ["sent", "sent"]
    methods = sorted((r.method, r.url.path) for r in w.requests)
    assert methods == [
        ("POST", "/ocpi/2.1.1/cdrs"),
        ("PUT", "/ocpi/2.1.1/locations/NL/CPO/LOC00001"),
    ]
    for r in w.requests:
        name = "CDR" if r.method == "POST" else "Location"
        model_for("2.1.1", name).model_validate(orjson.loads(r.content))
    assert await w.pending() == []


async def test_superseded_updates_are_coalesced_to_the_latest_state() -> None:
    w = World(lambda r: ok(None))
    await w.setup()
    doc = sessions(1)[0]
    for kwh in (1, 2, 3, 4):
        doc = {**doc, "kwh": kwh, "status": "ACTIVE"}
        await w.put("Session", doc)
    await w.worker().run_once()
    assert len(w.requests) == 1
    assert orjson.loads(w.requests[0].content)["kwh"] == 4


async def test_a_change_during_delivery_is_sent_after_it_in_order() -> None:
    w = World(lambda r: ok(None))
    await w.setup()
    doc = {**sessions(1)[0], "status": "ACTIVE", "kwh": 1}
    await w.put("Session", doc)
    sent: list[float] = []

    async def newer_while_in_flight() -> None:
        await w.put("Session", {**doc, "kwh": 2, "status": "COMPLETED"})

    def handler(req: httpx.Request) -> httpx.Response:
        sent.append(orjson.loads(req.content)["kwh"])
        return ok(None)

    w.handler = handler
    worker = w.worker()
    claimed = await w.storage.outbox.claim("w1", limit=10, lease=timedelta(minutes=1))
    await newer_while_in_flight()  # the entry is leased: coalesced, stays in flight
    client = worker._client(await w.storage.partners.get("DE-MSP"))
    results: dict[int, Outcome] = {}
    await worker._deliver(client, await w.storage.partners.get("DE-MSP"), claimed[0], results)
    assert results[claimed[0].id].result == "sent"
    [again] = await w.pending()
    assert again.state is OutboxState.PENDING and again.revision == 2
    await worker.run_once()
    assert sent == [1, 2]
    assert await w.pending() == []


async def test_exponential_backoff_with_jitter_then_dead_letter_and_replay() -> None:
    w = World(lambda r: httpx.Response(500, text="<h1>Internal Server Error</h1>"), max_attempts=5)
    await w.setup()
    await w.put("CDR", cdrs(1)[0])
    worker = w.worker()
    delays: list[float] = []
    for attempt in range(1, 5):
        [o] = await worker.run_once()
        assert o.result == "retry" and o.retry_at is not None
        delay = (o.retry_at - w.clock.t).total_seconds()
        delays.append(delay)
        nominal = 2.0 * 2 ** (attempt - 1)
        assert nominal / 2 <= delay < nominal
        assert await worker.run_once() == []  # not due yet: no spinning
        w.clock.advance(delay)
    [o] = await worker.run_once()
    assert o.result == "dead" and "gave up after 5 attempts" in o.detail and "HTTP 500" in o.detail
    [dead] = await w.storage.outbox.entries(state=OutboxState.DEAD)
    assert dead.dead_reason == o.detail
    assert len(w.requests) == 5
    w.handler = lambda r: ok(None)
    assert await w.storage.outbox.replay(entry_id=dead.id) == 1
    [o] = await worker.run_once()
    assert o.result == "sent" and await w.pending() == []


async def test_retry_after_is_honoured_and_pauses_the_partner() -> None:
    w = World(lambda r: httpx.Response(429, headers={"Retry-After": "30"}))
    await w.setup()
    for s in sessions(3):
        await w.put("CDR", {**cdrs(1)[0], "id": s["id"]})
    worker = w.worker(batch=1)
    [first] = await worker.run_once()
    wait = (first.retry_at - w.clock.t).total_seconds()
    assert first.result == "retry" and 30 <= wait <= 33
    # same partner, paused: not even claimed, so no request and no attempt counted
    assert await worker.run_once() == [] and len(w.requests) == 1
    w.clock.advance(10)
    assert await worker.run_once() == [] and len(w.requests) == 1
    assert sorted(e.attempts for e in await w.pending()) == [0, 0, 1]
    w.handler = lambda r: ok(None, 201)
    w.clock.advance(25)
    outs = [o for _ in range(3) for o in await worker.run_once()]
    assert sorted(o.result for o in outs) == ["sent", "sent", "sent"]
    assert await w.pending() == []


async def test_entries_of_a_batch_behind_a_429_are_deferred_without_an_attempt() -> None:
    w = World(lambda r: httpx.Response(429, headers={"Retry-After": "30"}))
    await w.setup()
    for s in sessions(3):
        await w.put("CDR", {**cdrs(1)[0], "id": s["id"]})
    worker = DeliveryWorker(
        w.storage, w.http, worker_id="w1", clock=w.clock, rng=random.Random(1), concurrency=1
    )
    outs = await worker.run_once()
    assert [o.result for o in outs] == ["retry", "deferred", "deferred"]
    assert len(w.requests) == 1
    assert {o.retry_at for o in outs[1:]} == {outs[0].retry_at}
    assert sorted(e.attempts for e in await w.pending()) == [0, 0, 1]


@pytest.mark.parametrize(
    "failure",
    ["timeout", "refused", "malformed", "not-json", "server-error-envelope", "unauthorized"],
)
async def test_transient_failures_never_lose_an_entry(failure: str) -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if failure == "timeout":
            raise httpx.ReadTimeout("slow", request=req)
        if failure == "refused":
            raise httpx.ConnectError("refused", request=req)
        if failure == "malformed":
            return httpx.Response(200, content=b'{"data": [1,2')
        if failure == "not-json":
            return httpx.Response(200, content=b"OK")
        if failure == "unauthorized":
            return httpx.Response(401, content=b"")
        return httpx.Response(200, content=envelope(None, 3000, with_data=False))

    w = World(handler)
    await w.setup()
    await w.put("Tariff", {**_tariff()})
    worker = w.worker()
    for _ in range(3):
        [o] = await worker.run_once()
        assert o.result == "retry", o
        assert await worker.run_once() == []
        w.clock.advance((o.retry_at - w.clock.t).total_seconds())
    [entry] = await w.pending()
    assert entry.state is OutboxState.PENDING and entry.last_error
    w.handler = lambda r: ok(None)
    assert [o.result for o in await worker.run_once()] == ["sent"]


async def test_a_rejected_object_is_a_dead_letter_at_once() -> None:
    w = World(lambda r: httpx.Response(400, content=envelope(None, 2001, with_data=False)))
    await w.setup()
    await w.put("Location", locations(1)[0])
    [o] = await w.worker().run_once()
    assert o.result == "dead" and "OCPI 2001" in o.detail


async def test_drop_and_resync_gives_up_early_with_a_visible_reason() -> None:
    w = World(lambda r: httpx.Response(503))
    await w.setup()
    await w.put("Location", locations(1)[0])  # Locations default to drop-and-resync
    worker = w.worker()
    results = []
    for _ in range(3):
        [o] = await worker.run_once()
        results.append(o.result)
        w.clock.advance(3600)
    assert results == ["retry", "retry", "dead"]
    [dead] = await w.storage.outbox.entries(state=OutboxState.DEAD)
    assert "drop-and-resync" in (dead.dead_reason or "")
    # a newer change re-queues the latest state
    await w.put("Location", {**locations(1)[0], "name": "renamed"})
    [entry] = await w.pending()
    assert entry.state is OutboxState.PENDING


def _tariff() -> dict:
    from ocpikit.server.demo import demo_tariffs

    return demo_tariffs("NL", "CPO")[0]


def test_push_targets_choose_receivers_of_the_party_and_the_tokens_emsp() -> None:
    emsp = partner("2.2.1", role="EMSP", pid="DE-MSP")
    other = partner("2.2.1", role="EMSP", pid="FR-XYZ")
    from dataclasses import replace

    from ocpikit.protocol.ports import PartyRole

    other = replace(other, roles=(PartyRole("EMSP", "FR", "XYZ"),))
    cpo = partner("2.2.1", role="CPO", pid="NL-OTH")
    s = sessions(1)[0]
    key = ObjectKey("Session", "NL", "CPO", s["id"])
    assert push_targets([emsp, other, cpo], key, s) == ["DE-MSP"]
    loc = locations(1)[0]
    lkey = ObjectKey("Location", "NL", "CPO", loc["id"])
    assert push_targets([emsp, other, cpo], lkey, loc) == ["DE-MSP", "FR-XYZ"]
    # a partner registered with another of our parties gets nothing of this one
    elsewhere = replace(emsp, local_party=("NL", "ZZZ"))
    assert push_targets([elsewhere], lkey, loc) == []
