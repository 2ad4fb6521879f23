"""Who is calling (``server.auth``): the auth cache answers like the plain lookup, caches only
a token C of a registered partner, forgets at once whatever changes a token or a partner (in
this store, or in another store on the same database: another process), and is bounded."""

from __future__ import annotations

import base64

import pytest

from ocpikit.core.errors import Unauthorized
from ocpikit.protocol.ports import Partner, PartnerStatus, TokenKind
from ocpikit.server.auth import AuthCache, authenticate_plainly
from ocpikit.storage.memory import MemoryStorage

pytestmark = pytest.mark.anyio


async def _storage() -> MemoryStorage:
    storage = MemoryStorage()
    await storage.tokens.issue("token-a", TokenKind.A, local_party=("NL", "CPO"))
    await storage.partners.save(
        Partner(id="DE-MSP", status=PartnerStatus.REGISTERED), issue=[("token-c", TokenKind.C)]
    )
    await storage.partners.save(
        Partner(id="pending-1", status=PartnerStatus.PENDING), issue=[("token-b", TokenKind.C)]
    )
    return storage


async def test_the_cache_answers_like_the_plain_lookup() -> None:
    storage = await _storage()
    cache = AuthCache(storage)
    b64 = base64.b64encode(b"token-c").decode()
    for header in ("Token token-a", "Token token-c", f"Token {b64}", "Token token-b") * 2:
        cached, plain = (
            await cache.authenticate(header),
            await authenticate_plainly(storage, header),
        )
        assert (cached.token, cached.record, cached.partner) == (
            plain.token,
            plain.record,
            plain.partner,
        )
    for header in (None, "Token nope"):
        with pytest.raises(Unauthorized):
            await cache.authenticate(header)


async def test_only_a_registered_partners_token_c_is_remembered_until_a_change() -> None:
    storage = await _storage()
    cache = AuthCache(storage)
    first = await cache.authenticate("Token token-c")
    assert await cache.authenticate("Token token-c") is first
    assert await cache.authenticate("Token token-a") is not await cache.authenticate(
        "Token token-a"
    )
    assert await cache.authenticate("Token token-b") is not await cache.authenticate(
        "Token token-b"
    )
    await storage.partners.delete("DE-MSP")
    with pytest.raises(Unauthorized):
        await cache.authenticate("Token token-c")


async def test_forget_drops_the_answers_and_a_lookup_under_way() -> None:
    storage = await _storage()
    cache = AuthCache(storage)
    first = await cache.authenticate("Token token-c")
    cache.forget()
    second = await cache.authenticate("Token token-c")
    assert second is not first
    assert await cache.authenticate("Token token-c") is second


async def test_the_cache_is_bounded() -> None:
    storage = MemoryStorage()
    for i in range(10):
        await storage.partners.save(
            Partner(id=f"P{i}", status=PartnerStatus.REGISTERED), issue=[(f"tok-{i}", TokenKind.C)]
        )
    cache = AuthCache(storage, max_entries=4)
    for i in range(10):
        await cache.authenticate(f"Token tok-{i}")
        assert len(cache._answers) <= 4
    assert (await cache.authenticate("Token tok-9")).partner is not None
