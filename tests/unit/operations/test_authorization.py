"""Real-time authorization as a use case (``ocpikit.operations.authorization``) over a fake
partner-calls port: which connection reaches the token's eMSP, when it is asked, what is
answered when it cannot be, and the cache refreshed from its answer (DIGEST §3.5, §6.7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest

from ocpikit.core.errors import TransportError, Unauthorized, UnknownToken
from ocpikit.core.types import parse_datetime
from ocpikit.operations.authorization import authorize, emsp_connection
from ocpikit.protocol.ports import ObjectKey
from ocpikit.protocol.webhooks import KIND

from .fakes import World, partner, world

pytestmark = pytest.mark.anyio

CPO = ("NL", "CPO")
LOCATION = {"location_id": "LOC1"}


def token(
    uid: str, whitelist: str, *, valid: bool = True, stamp: str = "2026-03-01T10:00:00Z"
) -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": uid,
        "type": "RFID",
        "contract_id": f"DE-MSP-{uid}",
        "issuer": "MSP",
        "valid": valid,
        "whitelist": whitelist,
        "last_updated": stamp,
    }


async def _cache(w: World, doc: dict[str, Any], owner: str = "DE-MSP") -> ObjectKey:
    key = ObjectKey("Token", doc["country_code"], doc["party_id"], doc["uid"])
    stamp = parse_datetime(doc["last_updated"])
    await w.storage.objects.put(key, orjson.dumps(doc), last_updated=stamp, owner=owner)
    return key


async def _msp(w: World, pid: str = "DE-MSP", party: tuple[str, str] = ("DE", "MSP")) -> None:
    await w.storage.partners.save(partner(pid, party=party, role="EMSP", local_party=CPO))


async def test_the_connection_is_the_partner_that_pushed_the_token() -> None:
    w = world()
    await _msp(w, "DE-OTHER", ("DE", "OTH"))
    await _msp(w)
    key = await _cache(w, token("T1", "ALWAYS"))
    found = await emsp_connection(w.storage, CPO, "T1")
    assert found.partner is not None and found.partner.id == "DE-MSP"
    assert found.key == key and found.token is not None and found.token["uid"] == "T1"
    # a partner of another of our parties does not reach it
    assert (await emsp_connection(w.storage, ("NL", "XYZ"), "T1")).partner is None
    # a token under DE-MSP's party but pushed by someone else is not taken
    await _cache(w, token("T2", "ALWAYS"), owner="DE-OTHER")
    assert await emsp_connection(w.storage, CPO, "T2") == type(found)()


async def test_a_named_emsp_is_reached_even_without_a_cached_token() -> None:
    w = world()
    await _msp(w, "DE-OTHER", ("DE", "OTH"))
    await _msp(w)
    found = await emsp_connection(w.storage, CPO, "T9", emsp=("de", "msp"))
    assert found.partner is not None and found.partner.id == "DE-MSP"
    assert found.key == ObjectKey("Token", "DE", "MSP", "T9") and found.token is None
    assert (await emsp_connection(w.storage, CPO, "T9")).partner is None


async def test_a_whitelisted_token_is_answered_from_the_cache() -> None:
    w = world()
    await _msp(w)
    await _cache(w, token("T1", "ALWAYS"))
    info = await authorize(w.ports, CPO, "T1", location=LOCATION)
    assert info["allowed"] == "ALLOWED" and info["source"] == "cache"
    assert w.calls.calls == []


async def test_an_unknown_token_of_no_known_emsp_is_not_allowed() -> None:
    w = world()
    info = await authorize(w.ports, CPO, "T1")
    assert (info["allowed"], info["source"]) == ("NOT_ALLOWED", "none")
    assert info["reason"] == "no eMSP known for the token"


async def test_the_emsp_is_asked_and_its_newer_token_refreshes_the_cache() -> None:
    w = world()
    await _msp(w)
    key = await _cache(w, token("T1", "NEVER"))
    newer = token("T1", "NEVER", valid=False, stamp="2026-03-01T11:00:00Z")

    async def answer(uid: str, **kwargs: Any) -> dict[str, Any]:
        return {"allowed": "BLOCKED", "token": newer}

    w.calls.answers["authorize"] = answer
    info = await authorize(w.ports, CPO, "T1", location=LOCATION)
    assert (info["allowed"], info["source"]) == ("BLOCKED", "realtime")
    [(pid, method, args, kwargs)] = w.calls.calls
    assert (pid, method, args) == ("DE-MSP", "authorize", ("T1",))
    assert kwargs == {"token_type": None, "location": LOCATION}
    stored = await w.storage.objects.get(key)
    assert stored is not None and stored.document["valid"] is False
    assert stored.owner == "DE-MSP"
    [event] = [
        r
        for r in await w.storage.commands.due(before=w.clock.now() + timedelta(1), limit=10)
        if r.command == KIND
    ]
    assert event.partner_id == "DE-MSP" and event.request is not None
    assert event.request["type"] == "authorization.requested"
    assert event.request["data"]["answer"]["allowed"] == "BLOCKED"


@pytest.mark.parametrize(
    ("error", "whitelist", "allowed", "source"),
    [
        (UnknownToken("who?"), "NEVER", "NOT_ALLOWED", "realtime"),
        (Unauthorized("token?"), "ALLOWED_OFFLINE", "ALLOWED", "offline"),
        (TransportError("down"), "ALLOWED_OFFLINE", "ALLOWED", "offline"),
        (TransportError("down"), "NEVER", "NOT_ALLOWED", "offline"),
    ],
)
async def test_what_is_answered_when_the_emsp_cannot_answer(
    error: Exception, whitelist: str, allowed: str, source: str
) -> None:
    w = world(events=False)
    await _msp(w)
    await _cache(w, token("T1", whitelist))
    w.calls.answers["authorize"] = error
    info = await authorize(w.ports, CPO, "T1")
    assert (info["allowed"], info["source"]) == (allowed, source)
    if isinstance(error, TransportError):
        assert info["reason"].startswith("eMSP unreachable (TransportError)")
