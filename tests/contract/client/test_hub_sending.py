"""Sending through hubs: a Session or CDR goes to the connection that reaches its token's eMSP
(direct before hub, then the configured hub order), addressed to that eMSP with the routing
headers; a session keeps its connection until its CDR is out; Locations go to a hub once
(OCPI 2.2.1 transport_and_format §Message Routing; ocpikit.protocol.parties)."""

from __future__ import annotations

import random
from dataclasses import replace

import httpx
import orjson
import pytest

from ocpikit.client.delivery import DeliveryWorker
from ocpikit.operations import put_own_object
from ocpikit.protocol.parties import RoutingRules, choose_route, directory
from ocpikit.protocol.party_records import Learned, Path, RemoteParty
from ocpikit.protocol.ports import ObjectKey, Partner, PartyRole
from ocpikit.storage.memory import MemoryStorage

from .helpers import FakeClock, locations, mock, ok, partner, sessions

pytestmark = pytest.mark.anyio


def hub(pid: str, cc: str = "EU", party: str = "HUB") -> Partner:
    """A 2.2.1 hub connection: the eMSP receivers, a HUB credentials role."""
    base = partner("2.2.1", role="EMSP", pid=pid)
    return replace(base, roles=(PartyRole("HUB", cc, party),))


def behind(hub_id: str, cc: str = "DE", pid: str = "MSP", status: str = "CONNECTED") -> RemoteParty:
    return RemoteParty(cc, pid, "EMSP", hub_id, Path.HUB, Learned.HUBCLIENTINFO, status=status)


class Cpo:
    """Our CPO with some connections; records what the worker sends."""

    def __init__(self, *partners: Partner) -> None:
        self.clock = FakeClock()
        self.storage = MemoryStorage(clock=self.clock)
        self.partners = partners
        self.sent: list[httpx.Request] = []

        def record(req: httpx.Request) -> httpx.Response:
            self.sent.append(req)
            return ok(None, 201)

        self.http = mock(record)

    async def setup(self, *learned: RemoteParty) -> None:
        for p in self.partners:
            await self.storage.partners.save(p)
        await self.storage.parties.learn(list(learned))

    async def deliver(self) -> None:
        worker = DeliveryWorker(
            self.storage, self.http, worker_id="w", clock=self.clock, rng=random.Random(1)
        )
        await worker.run_once()

    async def put(self, kind: str, doc: dict, rules: RoutingRules | None = None) -> None:
        key = ObjectKey(kind, doc["country_code"], doc["party_id"], doc["id"])
        await put_own_object(self.storage, key, doc, rules=rules)

    async def queued(self) -> list[str]:
        return sorted(e.partner_id for e in await self.storage.outbox.entries())


def emsp_direct() -> Partner:
    return partner("2.2.1", role="EMSP", pid="DE-MSP")


async def test_a_session_goes_through_the_hub_that_reaches_its_emsp() -> None:
    cpo = Cpo(hub("hub-1"))
    await cpo.setup(behind("hub-1"))
    await cpo.put("Session", sessions(1)[0])
    assert await cpo.queued() == ["hub-1"]
    await cpo.deliver()
    [req] = cpo.sent
    assert req.method == "PUT"
    assert req.headers["OCPI-to-country-code"] == "DE"
    assert req.headers["OCPI-to-party-id"] == "MSP"
    assert (req.headers["OCPI-from-country-code"], req.headers["OCPI-from-party-id"]) == (
        "NL",
        "CPO",
    )


async def test_no_route_to_the_emsp_means_no_delivery() -> None:
    cpo = Cpo(hub("hub-1"))
    await cpo.setup(behind("hub-1", pid="OTH"))
    await cpo.put("Session", sessions(1)[0])
    assert await cpo.queued() == []


async def test_direct_before_hub_then_the_hub_order_then_the_preference() -> None:
    parties = [behind("hub-1"), behind("hub-2")]
    cpo = Cpo(hub("hub-1"), hub("hub-2", party="HB2"), emsp_direct())
    await cpo.setup(*parties)
    await cpo.put("Session", sessions(1)[0])
    assert await cpo.queued() == ["DE-MSP"]
    entries = directory(cpo.partners, parties)
    assert choose_route(entries, "DE", "MSP").partner_id == "DE-MSP"  # type: ignore[union-attr]
    hubs_only = [e for e in entries if e.partner_id != "DE-MSP"]
    rules = RoutingRules(hub_order=("hub-2", "hub-1"))
    assert choose_route(hubs_only, "DE", "MSP", rules=rules).partner_id == "hub-2"  # type: ignore[union-attr]
    assert choose_route(hubs_only, "DE", "MSP").partner_id == "hub-1"  # type: ignore[union-attr]
    rules = RoutingRules(prefer={"DE-MSP": "hub-2"})
    assert choose_route(entries, "de", "msp", rules=rules).partner_id == "hub-2"  # type: ignore[union-attr]


async def test_an_offline_party_is_reached_over_another_hub() -> None:
    entries = [behind("hub-1", status="OFFLINE"), behind("hub-2")]
    assert choose_route(entries, "DE", "MSP").partner_id == "hub-2"  # type: ignore[union-attr]


async def test_a_session_keeps_its_connection_until_its_cdr_is_out() -> None:
    from .helpers import cdrs

    cpo = Cpo(hub("hub-1"), hub("hub-2", party="HB2"))
    await cpo.setup(behind("hub-1"), behind("hub-2"))
    session = sessions(1)[0]
    await cpo.put("Session", session, RoutingRules(hub_order=("hub-1",)))
    assert await cpo.queued() == ["hub-1"]
    await cpo.deliver()
    # the operator now prefers hub-2: the running session and its CDR stay on hub-1
    later = RoutingRules(hub_order=("hub-2",))
    await cpo.put("Session", {**session, "kwh": 9.5}, later)
    cdr = {**cdrs(1)[0], "session_id": session["id"]}
    await cpo.put("CDR", cdr, later)
    assert await cpo.queued() == ["hub-1", "hub-1"]
    # a new session takes the new preference
    other = {**sessions(2)[1]}
    await cpo.put("Session", other, later)
    assert await cpo.queued() == ["hub-1", "hub-1", "hub-2"]


async def test_locations_go_to_a_hub_once_addressed_to_the_hub() -> None:
    cpo = Cpo(hub("hub-1"), emsp_direct())
    await cpo.setup(behind("hub-1", pid="AAA"), behind("hub-1", pid="BBB"))
    await cpo.put("Location", locations(1)[0])
    assert await cpo.queued() == ["DE-MSP", "hub-1"]
    await cpo.deliver()
    to_hub = [r for r in cpo.sent if r.headers.get("OCPI-to-party-id") == "HUB"]
    assert len(to_hub) == 1 and orjson.loads(to_hub[0].content)["id"] == locations(1)[0]["id"]


def gireve() -> Partner:
    """A 2.2.1 CPO connection with the gireve profile (we are the eMSP)."""
    return partner("2.2.1", role="CPO", pid="FR-GIR", settings={"profile": "gireve"})


async def test_rfid_uids_go_upper_case_to_gireve_and_bad_ones_not_at_all() -> None:
    from ocpikit.server.demo import demo_tokens

    emsp = Cpo(gireve())
    await emsp.setup()
    good, bad = demo_tokens("DE", "MSP", 2)
    await emsp.put("Token", {**good, "uid": "12ab34cd", "id": "12ab34cd#RFID"} | {"type": "RFID"})
    await emsp.put("Token", {**bad, "uid": "12ab3", "id": "12ab3#RFID"} | {"type": "RFID"})
    await emsp.deliver()
    [req] = emsp.sent
    assert "/DE/MSP/12AB34CD" in req.url.path
    assert orjson.loads(req.content)["uid"] == "12AB34CD"
    [dead] = [e for e in await emsp.storage.outbox.entries() if e.dead_reason]
    assert "rfid_uid_format" in dead.dead_reason  # type: ignore[operator]
    assert req.headers["OCPI-to-party-id"] == "CPO"


async def test_a_gireve_cdr_pull_asks_for_pages_of_20() -> None:
    from ocpikit.client import PartnerClient
    from ocpikit.client.sync import pull_into_storage

    asked: list[httpx.Request] = []

    def answer(req: httpx.Request) -> httpx.Response:
        asked.append(req)
        return ok([], headers={"X-Total-Count": "0"})

    storage = MemoryStorage()
    client = PartnerClient(gireve(), mock(answer))
    await pull_into_storage(client, storage, "cdrs")
    await pull_into_storage(client, storage, "sessions")
    assert asked[0].url.params["limit"] == "20"
    assert "limit" not in asked[1].url.params


async def test_a_pull_from_a_hub_fills_the_directory() -> None:
    from ocpikit.client import PartnerClient
    from ocpikit.client.sync import pullable_modules, resync

    info = {
        "country_code": "DE",
        "party_id": "AAA",
        "role": "CPO",
        "status": "CONNECTED",
        "last_updated": "2024-03-01T10:00:00Z",
    }
    behind = locations(1, "DE", "AAB")[0]
    ours = locations(1, "NL", "CPO")[0]

    def answer(req: httpx.Request) -> httpx.Response:
        path = req.url.path
        if path.endswith("/hubclientinfo"):
            return ok([info], headers={"X-Total-Count": "1"})
        if path.endswith("/locations"):
            return ok([behind, ours], headers={"X-Total-Count": "2"})
        return ok([], headers={"X-Total-Count": "0"})

    # we are the eMSP NL-CPO here (the helper's local party), the hub lists two CPOs' data
    base = partner("2.2.1", role="CPO", pid="hub-1")
    from ocpikit.protocol.ports import Endpoint

    hub_partner = replace(
        base,
        roles=(PartyRole("HUB", "EU", "HUB"),),
        endpoints=(
            *base.endpoints,
            Endpoint("hubclientinfo", "https://partner.example/2.2.1/hubclientinfo", "SENDER"),
        ),
        local_party=("NL", "CPO"),
    )
    storage = MemoryStorage()
    await storage.partners.save(hub_partner)
    client = PartnerClient(hub_partner, mock(answer))
    assert pullable_modules(client)[0] == "hubclientinfo"
    await resync(client, storage)
    rows = {(e.key, e.learned.value, e.status) for e in await storage.parties.learned()}
    assert rows == {("DE-AAA", "hubclientinfo", "CONNECTED"), ("DE-AAB", "traffic", None)}
    assert await storage.objects.get(ObjectKey("Location", "DE", "AAB", behind["id"]))
    # a hub never lists objects of the party we registered with it as
    assert await storage.objects.get(ObjectKey("Location", "NL", "CPO", ours["id"])) is None


async def test_a_published_tariff_never_changes_at_a_hub_that_takes_tariffs_as_immutable() -> None:
    from ocpikit.operations import patch_own_object
    from ocpikit.operations.own_objects import ImmutableTariff
    from ocpikit.protocol.ports import SetFields
    from ocpikit.server.demo import demo_tariffs

    gir = replace(hub("FR-GIR"), settings={"profile": "gireve"})
    cpo = Cpo(gir)
    await cpo.setup()
    tariff = demo_tariffs("NL", "CPO")[0]
    key = ObjectKey("Tariff", "NL", "CPO", tariff["id"])
    await cpo.put("Tariff", tariff)
    # the same content again (a new last_updated) is fine; another price is not
    await cpo.put("Tariff", {**tariff, "last_updated": "2030-01-01T00:00:00Z"})
    with pytest.raises(ImmutableTariff, match="new tariff id"):
        await cpo.put("Tariff", {**tariff, "currency": "USD"})
    with pytest.raises(ImmutableTariff):
        await patch_own_object(
            cpo.storage,
            key,
            SetFields({"currency": "USD", "last_updated": "2030-01-02T00:00:00Z"}),
        )
    stored = await cpo.storage.objects.get(key)
    assert stored is not None and stored.document["currency"] == tariff["currency"]
    # without such a hub, a tariff may change
    free = Cpo(hub("hub-1"))
    await free.setup()
    await free.put("Tariff", tariff)
    await free.put("Tariff", {**tariff, "currency": "USD"})
