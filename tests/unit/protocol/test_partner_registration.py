"""The partner-registration service on in-memory storage, its flows fed canned responses by a
fake driver (no sockets): both ways a partner gets registered keep the same books."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from ocpikit.core.errors import (
    InvalidOrMissingParameters,
    MethodNotAllowed,
    ServerError,
    UnsupportedVersion,
)
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, Role, Version
from ocpikit.protocol.partner_registration import (
    PartnerRegistration,
    check_credentials_call,
    partner_state,
)
from ocpikit.protocol.ports import (
    Exchange,
    ExchangeDirection,
    Partner,
    PartnerStatus,
    PartyRole,
    TokenKind,
)
from ocpikit.protocol.registration import (
    Handshake,
    HttpRequest,
    HttpResponse,
    PartnerState,
    build_credentials,
)
from ocpikit.storage.memory import MemoryStorage

from .test_registration import DETAILS, VERSIONS, ok, theirs

pytestmark = pytest.mark.anyio

OURS = "https://us.example/ocpi/versions"
THEIRS = "https://p.example/ocpi/versions"


@dataclass(frozen=True)
class Party:
    """One of our parties, as the settings describe it."""

    country_code: str = "NL"
    party_id: str = "ABC"
    roles: tuple[Role, ...] = (Role.EMSP,)
    versions: tuple[Version, ...] = (V2_1_1, V2_2_1, V2_3_0)

    def business_details(self) -> dict[str, Any]:
        return {"name": "Us"}


Driver = Callable[..., Awaitable[Handshake]]


def canned(answers: list[HttpResponse], sent: list[HttpRequest]) -> Driver:
    """A driver answering the flow's requests in order, recording one exchange per request."""

    async def driver(
        flow: Generator[HttpRequest, HttpResponse, Handshake],
        *,
        record: Callable[[Exchange], None],
    ) -> Handshake:
        try:
            request = next(flow)
            for answer in answers:
                sent.append(request)
                record(
                    Exchange(
                        direction=ExchangeDirection.OUTBOUND,
                        method=request.method,
                        url=request.url,
                        started_at=datetime(2026, 1, 1, tzinfo=UTC),
                    )
                )
                try:
                    request = flow.send(answer)
                except StopIteration as stop:
                    result: Handshake = stop.value
                    return result
            raise AssertionError("the flow wants more answers")
        finally:
            flow.close()

    return driver


async def test_register_with_stores_the_partner_with_our_token_b() -> None:
    storage = MemoryStorage()
    sent: list[HttpRequest] = []
    driver = canned([VERSIONS, DETAILS, ok(theirs(V2_2_1))], sent)
    partner = await PartnerRegistration(storage, OURS, driver).register_with(
        THEIRS, "TOKEN-A", Party()
    )
    assert partner.id == "DE-XYZ" and partner.status is PartnerStatus.REGISTERED
    assert partner.version == "2.2.1" and partner.outbound_token == "TOKEN-C"
    assert partner.local_party == ("NL", "ABC")
    assert [r.role for r in partner.roles] == ["CPO"]
    assert [e.identifier for e in partner.endpoints] == ["credentials", "locations"]
    assert [p.id for p in await storage.partners.all()] == ["DE-XYZ"]  # no pending left
    body = sent[2].body
    assert body is not None and body["url"] == OURS
    token_b = await storage.tokens.lookup(body["token"])
    assert token_b is not None and token_b.partner_id == "DE-XYZ"
    assert token_b.kind is TokenKind.C
    assert len(await storage.exchanges.recent(limit=10)) == 3


async def test_register_with_replaces_an_earlier_registration() -> None:
    storage = MemoryStorage()
    await storage.partners.save(
        Partner(id="DE-XYZ", status=PartnerStatus.REGISTERED), issue=[("OLD-C", TokenKind.C)]
    )
    driver = canned([VERSIONS, DETAILS, ok(theirs(V2_2_1))], [])
    await PartnerRegistration(storage, OURS, driver).register_with(THEIRS, "TOKEN-A", Party())
    assert await storage.tokens.lookup("OLD-C") is None
    assert [p.id for p in await storage.partners.all()] == ["DE-XYZ"]


async def test_a_failed_register_with_leaves_nothing_but_the_log() -> None:
    storage = MemoryStorage()
    driver = canned([VERSIONS], [])
    registration = PartnerRegistration(storage, OURS, driver)
    with pytest.raises(UnsupportedVersion):
        await registration.register_with(THEIRS, "TOKEN-A", Party(versions=(V2_3_0,)))
    assert await storage.partners.all() == []
    assert len(await storage.exchanges.recent(limit=10)) == 1


async def test_accept_post_registers_the_caller_and_retires_token_a() -> None:
    storage = MemoryStorage()
    registration = PartnerRegistration(storage, OURS, None)
    token_a = await registration.invite(Party())
    record = await storage.tokens.lookup(token_a)
    assert record is not None and record.kind is TokenKind.A
    assert record.local_party == ("NL", "ABC")
    sent: list[HttpRequest] = []
    logged: list[Exchange] = []
    registration.driver = canned([VERSIONS, DETAILS], sent)
    token_c = await registration.accept(
        "POST", theirs(V2_2_1), V2_2_1, Party(), token=token_a, caller=None, record=logged.append
    )
    assert [r.token for r in sent] == ["TOKEN-C", "TOKEN-C"]  # their token, to call them
    assert len(logged) == 2
    assert await storage.tokens.lookup(token_a) is None
    issued = await storage.tokens.lookup(token_c)
    assert issued is not None and issued.partner_id == "DE-XYZ"
    partner = await storage.partners.get("DE-XYZ")
    assert partner is not None and partner.status is PartnerStatus.REGISTERED
    assert partner.outbound_token == "TOKEN-C" and partner.local_party == ("NL", "ABC")


async def test_accept_put_keeps_the_partner_id_and_settings() -> None:
    storage = MemoryStorage()
    caller = await storage.partners.save(
        Partner(id="mine", status=PartnerStatus.REGISTERED, settings={"quirk": True}),
        issue=[("OLD-C", TokenKind.C)],
    )
    registration = PartnerRegistration(storage, OURS, canned([VERSIONS, DETAILS], []))
    token_c = await registration.accept(
        "PUT", theirs(V2_2_1), V2_2_1, Party(), token="OLD-C", caller=caller, record=print
    )
    partner = await storage.partners.get("mine")
    assert partner is not None and partner.settings == {"quirk": True}
    assert partner.version == "2.2.1"
    assert await storage.tokens.lookup("OLD-C") is None
    assert await storage.tokens.lookup(token_c) is not None
    assert await storage.partners.get("DE-XYZ") is None


async def test_accept_reads_the_credentials_before_it_needs_a_driver() -> None:
    registration = PartnerRegistration(MemoryStorage(), OURS, None)
    with pytest.raises(InvalidOrMissingParameters):
        await registration.accept(
            "POST", {"token": "x"}, V2_2_1, Party(), token="A", caller=None, record=print
        )
    with pytest.raises(ServerError):
        await registration.accept(
            "POST", theirs(V2_2_1), V2_2_1, Party(), token="A", caller=None, record=print
        )


def test_our_credentials_carry_every_role_of_the_party() -> None:
    registration = PartnerRegistration(MemoryStorage(), OURS, None)
    party = Party(roles=(Role.CPO, Role.EMSP))
    assert registration.our_credentials(V2_2_1, "T", party) == build_credentials(
        V2_2_1,
        "T",
        OURS,
        [
            PartyRole("CPO", "NL", "ABC", {"name": "Us"}),
            PartyRole("EMSP", "NL", "ABC", {"name": "Us"}),
        ],
    )


def test_partner_state_and_allowed_credentials_calls() -> None:
    registered = Partner(id="p", status=PartnerStatus.REGISTERED)
    pending = Partner(id="p", status=PartnerStatus.PENDING)
    assert partner_state(TokenKind.A, None) is PartnerState.INVITED
    assert partner_state(TokenKind.A, registered) is PartnerState.INVITED
    assert partner_state(TokenKind.C, registered) is PartnerState.REGISTERED
    check_credentials_call("POST", TokenKind.A, None)
    check_credentials_call("GET", TokenKind.C, pending)
    with pytest.raises(MethodNotAllowed, match="Registration in progress"):
        check_credentials_call("PUT", TokenKind.C, pending)
    with pytest.raises(MethodNotAllowed, match="use PUT"):
        check_credentials_call("POST", TokenKind.C, registered)
