"""No partner can become another: a connection owns the parties of its credentials roles, a
token A is single use, expires and may be bound to a party, and re-registering a connection
takes its token or the operator's explicit invitation. On memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from ocpikit.core.errors import OcpiError
from ocpikit.core.versions import Role
from ocpikit.operations import invites, revoke_invite
from ocpikit.protocol.ports import Storage
from ocpikit.server.registry import invite, register_with
from ocpikit.storage import MemoryStorage, SqlStorage

from .conftest import Node, Router, make_node

pytestmark = pytest.mark.anyio


@pytest.fixture
async def world(storage_url: str) -> AsyncIterator[tuple[Router, Node]]:
    storage: Storage = (
        MemoryStorage() if storage_url == "memory" else SqlStorage.from_url(storage_url)
    )
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,), storage=storage)
    try:
        yield router, cpo
    finally:
        await storage.aclose()


def _emsp(router: Router, host: str, party_id: str, cc: str = "DE") -> Node:
    return make_node(router, host, cc, party_id, (Role.EMSP,))


async def _register(node: Node, cpo: Node, token: str) -> None:
    await register_with(node.settings, node.storage, node.driver, cpo.versions_url, token)


async def _fails(node: Node, cpo: Node, token: str) -> OcpiError:
    with pytest.raises(OcpiError) as exc:
        await _register(node, cpo, token)
    return exc.value


async def test_a_registered_party_cannot_be_claimed_by_another_connection(
    world: tuple[Router, Node],
) -> None:
    router, cpo = world
    first = _emsp(router, "msp1.test", "MSP")
    await first.register(cpo)
    before = await cpo.storage.partners.get("DE-MSP")
    impostor = _emsp(router, "evil.test", "MSP")  # claims DE-MSP from another host
    error = await _fails(impostor, cpo, (await cpo.invite())["token"])
    assert error.status_code == 2001 and "registered by another connection" in error.message
    after = await cpo.storage.partners.get("DE-MSP")
    assert after == before  # nothing changed: same row, same URLs, same token
    partner = await first.storage.partners.get("NL-CPO")
    assert partner is not None and partner.outbound_token
    async with cpo.client(partner.outbound_token) as http:
        assert (await http.get("/ocpi/2.2.1/cpo/locations")).status_code == 200


async def test_our_own_party_cannot_be_claimed(world: tuple[Router, Node]) -> None:
    router, cpo = world
    mirror = make_node(router, "mirror.test", "NL", "CPO", (Role.EMSP,))
    error = await _fails(mirror, cpo, (await cpo.invite())["token"])
    assert error.status_code == 2001 and "own parties" in error.message
    assert await cpo.storage.partners.all() == []


async def test_a_token_a_registers_one_partner_however_many_try_at_once(
    world: tuple[Router, Node],
) -> None:
    router, cpo = world
    token = (await cpo.invite())["token"]
    nodes = [_emsp(router, f"m{i}.test", f"M{i:02d}") for i in range(5)]
    results = await asyncio.gather(
        *(_register(node, cpo, token) for node in nodes), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1, results
    assert len(await cpo.storage.partners.all()) == 1


async def test_a_token_a_expires_and_can_be_bound_listed_and_revoked(
    world: tuple[Router, Node],
) -> None:
    router, cpo = world
    expired = await invite(cpo.settings, cpo.storage, None, now=datetime(2020, 1, 1, tzinfo=UTC))
    assert (await _fails(_emsp(router, "a.test", "AAA"), cpo, expired["token"])).status_code in (
        3001,
        2000,
    )
    bound = await invite(cpo.settings, cpo.storage, None, expected_party="DE-BBB")
    error = await _fails(_emsp(router, "c.test", "CCC"), cpo, bound["token"])
    assert error.status_code == 2001 and "DE-BBB" in error.message
    await _register(_emsp(router, "b.test", "BBB"), cpo, bound["token"])  # works again, for BBB
    spare = await invite(cpo.settings, cpo.storage, None, ttl=timedelta(hours=1))
    listed = await invites(cpo.storage)
    assert [row["id"] for row in listed] == [spare["id"]]
    assert await revoke_invite(cpo.storage, spare["id"]) == 1
    assert await invites(cpo.storage) == []


async def test_re_registering_a_connection_needs_the_operators_invitation(
    world: tuple[Router, Node],
) -> None:
    router, cpo = world
    emsp = _emsp(router, "msp.test", "MSP")
    await emsp.register(cpo)
    again = _emsp(router, "msp-new.test", "MSP")
    error = await _fails(again, cpo, (await cpo.invite())["token"])
    assert error.status_code == 2001
    replacing = await invite(cpo.settings, cpo.storage, None, replace="DE-MSP")
    await _register(again, cpo, replacing["token"])
    partner = await cpo.storage.partners.get("DE-MSP")
    assert partner is not None and partner.versions_url == again.versions_url


async def test_an_invitation_for_something_that_is_no_party_is_refused(
    world: tuple[Router, Node],
) -> None:
    _router, cpo = world
    with pytest.raises(OcpiError) as exc:
        await invite(cpo.settings, cpo.storage, None, expected_party="x" * 500)
    assert exc.value.status_code == 2001 and exc.value.path == "for"
    assert await invites(cpo.storage) == []
