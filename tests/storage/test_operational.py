"""Partners, credentials tokens, exchange log, outbox and commands on every backend."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from ocpikit.protocol.ports import (
    BASE_URL_FACT,
    CommandDirection,
    CommandRecord,
    Endpoint,
    Exchange,
    ExchangeDirection,
    ObjectKey,
    OutboxOperation,
    OutboxState,
    Partner,
    PartnerStatus,
    PartyRole,
    PullResume,
    Storage,
    TokenKind,
)

if TYPE_CHECKING:  # the fixture's class, for readers (conftest is not importable at run time)
    from conftest import FakeClock

pytestmark = pytest.mark.anyio

TOKEN_A = "a-0b1c2d3e-registration-token-AAAA"
TOKEN_B = "b-4f5a6b7c-partner-gives-us-BBBB"
TOKEN_C = "c-8d9e0f1a-we-give-partner-CCCC"
LEASE = timedelta(seconds=30)


def partner(pid: str = "p1", **kwargs: object) -> Partner:
    fields: dict[str, object] = {
        "id": pid,
        "status": PartnerStatus.REGISTERED,
        "roles": (
            PartyRole("CPO", "DE", "XYZ", {"name": "XYZ Charging"}),
            PartyRole("EMSP", "de", "xyz"),
        ),
        "version": "2.2.1",
        "versions_url": "https://partner.example/ocpi/versions",
        "endpoints": (
            Endpoint("locations", "https://partner.example/ocpi/2.2.1/locations", "SENDER"),
            Endpoint("tokens", "https://partner.example/ocpi/2.2.1/tokens", "RECEIVER"),
        ),
        "outbound_token": TOKEN_B,
        "local_party": ("NL", "ABC"),
        "settings": {"auth": "raw", "push": {"cdrs": "store-and-forward"}},
    }
    fields.update(kwargs)
    return Partner(**fields)  # type: ignore[arg-type]


# --- partners and tokens ----------------------------------------------------------------------


async def test_partner_roundtrip_and_lookup_by_party(storage: Storage, clock: FakeClock) -> None:
    saved = await storage.partners.save(partner())
    assert saved.created_at == clock.now and saved.updated_at == clock.now
    got = await storage.partners.get("p1")
    assert got == saved
    assert got.roles[0].business_details == {"name": "XYZ Charging"}
    assert got.endpoints[1] == Endpoint(
        "tokens", "https://partner.example/ocpi/2.2.1/tokens", "RECEIVER"
    )

    clock.advance(minutes=5)
    updated = await storage.partners.save(
        partner(version="2.3.0", roles=(PartyRole("CPO", "DE", "XYZ"),))
    )
    assert updated.created_at == saved.created_at and updated.updated_at == clock.now
    assert updated.version == "2.3.0" and len(updated.roles) == 1

    await storage.partners.save(partner("p2", status=PartnerStatus.PENDING, roles=()))
    assert [p.id for p in await storage.partners.find_by_party("de", "XYZ")] == ["p1"]
    assert await storage.partners.find_by_party("NL", "ABC") == []
    assert [p.id for p in await storage.partners.all()] == ["p1", "p2"]
    assert [p.id for p in await storage.partners.all(status=PartnerStatus.PENDING)] == ["p2"]
    assert await storage.partners.get("nope") is None


async def test_registration_issues_and_revokes_tokens_atomically(storage: Storage) -> None:
    invite = await storage.tokens.issue(TOKEN_A, TokenKind.A, local_party=("NL", "ABC"))
    assert invite.digest != TOKEN_A and TOKEN_A not in repr(invite)
    assert invite.hint == "AAAA"
    found = await storage.tokens.lookup(TOKEN_A)
    assert found is not None and found.kind is TokenKind.A and found.local_party == ("NL", "ABC")

    # the partner registers: save it, issue token C, revoke token A in one step
    await storage.partners.save(partner(), issue=[(TOKEN_C, TokenKind.C)], revoke=[TOKEN_A])
    assert await storage.tokens.lookup(TOKEN_A) is None
    c = await storage.tokens.lookup(TOKEN_C)
    assert c is not None and c.kind is TokenKind.C and c.partner_id == "p1"
    assert await storage.tokens.lookup(TOKEN_C.upper()) is None  # tokens are case-sensitive
    # the partner's own token (B) is kept as given, because we send it
    got = await storage.partners.get("p1")
    assert got is not None and got.outbound_token == TOKEN_B

    assert await storage.tokens.revoke_partner("p1", TokenKind.A) == 0
    assert await storage.tokens.revoke_partner("p1") == 1
    assert await storage.tokens.lookup(TOKEN_C) is None
    assert not await storage.tokens.revoke(TOKEN_C)


async def test_deleting_a_partner_removes_its_tokens_outbox_and_marks(storage: Storage) -> None:
    await storage.partners.save(partner(), issue=[(TOKEN_C, TokenKind.C)])
    await storage.partners.set_sync_mark("p1", "locations", datetime(2024, 1, 1, tzinfo=UTC))
    resume = PullResume(
        "https://x/ocpi/locations?offset=5", None, 5, 1, datetime(2024, 1, 1, tzinfo=UTC)
    )
    await storage.partners.set_pull_resume("p1", "locations", resume)
    await storage.outbox.enqueue(
        "p1", ObjectKey("CDR", "NL", "ABC", "cdr1"), OutboxOperation.PUT, {"id": "cdr1"}
    )
    assert await storage.partners.delete("p1")
    assert not await storage.partners.delete("p1")
    assert await storage.partners.get("p1") is None
    assert await storage.tokens.lookup(TOKEN_C) is None
    assert await storage.outbox.entries() == []
    assert await storage.partners.get_sync_mark("p1", "locations") is None
    assert await storage.partners.get_pull_resume("p1", "locations") is None


async def test_sync_marks(storage: Storage) -> None:
    await storage.partners.save(partner())
    assert await storage.partners.get_sync_mark("p1", "sessions") is None
    t1 = datetime(2024, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)
    await storage.partners.set_sync_mark("p1", "sessions", t1)
    await storage.partners.set_sync_mark("p1", "cdrs", t1 - timedelta(days=1))
    assert await storage.partners.get_sync_mark("p1", "sessions") == t1
    await storage.partners.set_sync_mark("p1", "sessions", t1 + timedelta(hours=1))
    assert await storage.partners.get_sync_mark("p1", "sessions") == t1 + timedelta(hours=1)


async def test_pull_resume_points(storage: Storage) -> None:
    await storage.partners.save(partner())
    assert await storage.partners.get_pull_resume("p1", "locations") is None
    t1 = datetime(2024, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)
    first = PullResume("https://x/ocpi/locations?offset=50&limit=50", None, 50, 1, t1)
    await storage.partners.set_pull_resume("p1", "locations", first)
    assert await storage.partners.get_pull_resume("p1", "locations") == first
    later = PullResume(
        "https://x/ocpi/locations?offset=100&date_from=x", t1 - timedelta(days=1), 100, 2, t1
    )
    await storage.partners.set_pull_resume("p1", "locations", later)  # replaced
    await storage.partners.set_pull_resume("p1", "sessions", first)
    assert await storage.partners.get_pull_resume("p1", "locations") == later
    await storage.partners.set_pull_resume("p1", "locations", None)  # cleared
    assert await storage.partners.get_pull_resume("p1", "locations") is None
    assert await storage.partners.get_pull_resume("p1", "sessions") == first


# --- exchange log -----------------------------------------------------------------------------


def _credentials_exchange(clock: FakeClock) -> Exchange:
    b64 = base64.b64encode(TOKEN_A.encode()).decode()
    return Exchange(
        direction=ExchangeDirection.INBOUND,
        method="POST",
        url=f"https://us.example/ocpi/2.2.1/credentials?debug={TOKEN_C}",
        started_at=clock.now,
        partner_id=None,
        duration_ms=12.5,
        status=200,
        ocpi_status=1000,
        request_headers=(
            ("Authorization", f"Token {b64}"),
            ("X-Request-ID", "req-1"),
            ("X-Forwarded-Note", f"carried {TOKEN_C} along"),  # a listed secret
        ),
        request_body=(
            b'{"token": "' + TOKEN_B.encode() + b'", "url": "https://partner.example/versions",'
            b' "roles": [{"role": "CPO"}]}'
        ),
        response_headers=(("content-type", "application/json"),),
        response_body=(
            b'{"data":{"token":"' + TOKEN_C.encode() + b'","url":"https://us.example/versions"},'
            b'"status_code":1000}'
        ),
        request_id="req-1",
        correlation_id="corr-1",
        secrets=(TOKEN_C,),
    )


async def test_exchange_log_never_contains_a_token(storage: Storage, clock: FakeClock) -> None:
    await storage.exchanges.record([_credentials_exchange(clock)])
    [logged] = await storage.exchanges.recent()
    dumped = repr(logged).encode() + (logged.request_body or b"") + (logged.response_body or b"")
    for token in (TOKEN_A, TOKEN_B, TOKEN_C):
        assert token.encode() not in dumped
        assert base64.b64encode(token.encode()) not in dumped
    # still useful: scheme, ids, other fields, timings survive
    assert ("Authorization", "Token [REDACTED]") in logged.request_headers
    assert ("X-Request-ID", "req-1") in logged.request_headers
    assert b'"url": "https://partner.example/versions"' in (logged.request_body or b"")
    assert logged.status == 200 and logged.ocpi_status == 1000 and logged.duration_ms == 12.5
    assert logged.request_id == "req-1" and logged.correlation_id == "corr-1"
    assert logged.secrets == ()


async def test_exchange_log_scrubs_headers_without_an_authorization_header(
    storage: Storage, clock: FakeClock
) -> None:
    """Header lists with no Authorization header still lose every listed secret (in any
    header, in both forms), and a Proxy-Authorization in any case loses its credential."""
    b64 = base64.b64encode(TOKEN_C.encode()).decode()
    await storage.exchanges.record(
        [
            Exchange(
                direction=ExchangeDirection.OUTBOUND,
                method="GET",
                url="https://partner.example/ocpi/2.2.1/locations",
                started_at=clock.now,
                request_headers=(("X-Note", f"via {b64}"), ("Accept", "application/json")),
                response_headers=(
                    ("Location", f"https://partner.example/?t={TOKEN_C}"),
                    ("proxy-AUTHORIZATION", "Basic abc"),
                ),
                secrets=(TOKEN_C,),
            )
        ]
    )
    [logged] = await storage.exchanges.recent()
    assert TOKEN_C not in repr(logged) and b64 not in repr(logged)
    assert logged.request_headers == (
        ("X-Note", "via [REDACTED]"),
        ("Accept", "application/json"),
    )
    assert logged.response_headers == (
        ("Location", "https://partner.example/?t=[REDACTED]"),
        ("proxy-AUTHORIZATION", "Basic [REDACTED]"),
    )


async def test_exchange_log_raw_rows_hold_no_token(storage: Storage, clock: FakeClock) -> None:
    """Below the port: what is physically in the table (SQL backends)."""
    engines = getattr(storage, "engines", None)
    if engines is None:
        pytest.skip("memory backend has no rows")
    import sqlalchemy as sa

    from ocpikit.storage.sql.schema import exchange_log

    await storage.exchanges.record([_credentials_exchange(clock)])
    with engines.read.connect() as conn:
        rows = conn.execute(sa.select(exchange_log)).all()
    dumped = repr(rows).encode() + b"".join(
        (r.request_body or b"") + (r.response_body or b"") for r in rows
    )
    assert len(rows) == 1
    for token in (TOKEN_A, TOKEN_B, TOKEN_C):
        assert token.encode() not in dumped
        assert base64.b64encode(token.encode()) not in dumped


async def test_exchange_log_paging_truncation_and_prune(storage: Storage, clock: FakeClock) -> None:
    for i in range(5):
        await storage.exchanges.record(
            [
                Exchange(
                    direction=ExchangeDirection.OUTBOUND,
                    method="GET",
                    url=f"https://p/{i}",
                    started_at=clock.now,
                    partner_id="p1" if i % 2 else "p2",
                    response_body=b"x" * (300 * 1024) if i == 4 else None,
                )
            ]
        )
        clock.advance(minutes=1)
    newest = await storage.exchanges.recent(limit=2)
    assert [e.url for e in newest] == ["https://p/4", "https://p/3"]
    older = await storage.exchanges.recent(limit=10, before_id=newest[-1].id)
    assert [e.url for e in older] == ["https://p/2", "https://p/1", "https://p/0"]
    assert [e.url for e in await storage.exchanges.recent(partner_id="p1")] == [
        "https://p/3",
        "https://p/1",
    ]
    body = newest[0].response_body or b""
    assert len(body) < 300 * 1024 and body.endswith(b"bytes]")
    assert await storage.exchanges.prune(datetime(2024, 3, 1, 12, 2, tzinfo=UTC)) == 2
    assert len(await storage.exchanges.recent()) == 3


async def test_exchange_log_batch_keeps_every_row_in_order(
    storage: Storage, clock: FakeClock
) -> None:
    """A batch bigger than one INSERT of the SQLite fast path (256 rows) and not a multiple
    of it: every row, every column, in order."""
    batch = [
        Exchange(
            direction=ExchangeDirection.INBOUND if i % 2 else ExchangeDirection.OUTBOUND,
            method="PUT" if i % 3 else "GET",
            url=f"https://p/{i}",
            started_at=clock.now + timedelta(microseconds=i),
            partner_id=f"p{i % 7}" if i % 5 else None,
            duration_ms=i / 4,
            status=200 + i % 3,
            ocpi_status=1000 + i,
            request_headers=(("X-Request-ID", f"r{i}"),),
            request_body=b"q%d" % i if i % 4 else None,
            response_headers=(("X-Total-Count", str(i)),),
            response_body=b"a%d" % i,
            request_id=f"r{i}",
            correlation_id=f"c{i}",
            error=f"e{i}" if i % 11 == 0 else None,
        )
        for i in range(600)
    ]
    await storage.exchanges.record(batch)
    logged = list(reversed(await storage.exchanges.recent(limit=1000)))
    assert len(logged) == 600
    for i, (want, got) in enumerate(zip(batch, logged, strict=True)):
        assert got.id is not None
        assert replace(got, id=None) == want, i


# --- outbox -----------------------------------------------------------------------------------

KEY = ObjectKey("Session", "NL", "ABC", "s1")


async def test_outbox_coalesces_and_keeps_one_entry_per_object(storage: Storage) -> None:
    await storage.partners.save(partner())
    await storage.partners.save(partner("p2"))
    for n in range(3):
        await storage.objects.put(
            KEY,
            {"id": "s1", "kwh": n},
            last_updated=datetime(2024, 1, 1, tzinfo=UTC),
            owner=None,
            push_to=["p1", "p2"],
        )
    entries = await storage.outbox.entries()
    assert [(e.partner_id, e.revision) for e in entries] == [("p1", 3), ("p2", 3)]
    assert all(e.payload is not None and b'"kwh":2' in e.payload for e in entries)
    assert (await storage.outbox.counts())[OutboxState.PENDING] == 2


async def test_outbox_update_while_in_flight_is_sent_after_completion(
    storage: Storage,
) -> None:
    await storage.partners.save(partner())
    ts = datetime(2024, 1, 1, tzinfo=UTC)
    await storage.objects.put(KEY, {"v": 1}, last_updated=ts, owner=None, push_to=["p1"])
    [claimed] = await storage.outbox.claim("w1", limit=10, lease=LEASE)
    assert claimed.state is OutboxState.IN_FLIGHT and claimed.attempts == 1
    # a newer state arrives while revision 1 is being delivered
    await storage.objects.put(KEY, {"v": 2}, last_updated=ts, owner=None, push_to=["p1"])
    assert await storage.outbox.claim("w2", limit=10, lease=LEASE) == []  # per-object order
    assert await storage.outbox.complete(claimed)
    [again] = await storage.outbox.claim("w2", limit=10, lease=LEASE)
    assert again.revision == 2 and again.payload == b'{"v":2}' and again.attempts == 1
    assert await storage.outbox.complete(again)
    assert await storage.outbox.entries() == []


async def test_outbox_backoff_lease_expiry_dead_letters_and_replay(
    storage: Storage, clock: FakeClock
) -> None:
    await storage.partners.save(partner())
    await storage.outbox.enqueue("p1", KEY, OutboxOperation.DELETE, None, revision=7)
    [e] = await storage.outbox.claim("w1", limit=5, lease=LEASE)
    assert e.operation is OutboxOperation.DELETE and e.payload is None

    assert await storage.outbox.retry_later(e, at=clock.now + timedelta(minutes=1), error="503")
    assert await storage.outbox.claim("w1", limit=5, lease=LEASE) == []  # not due yet
    clock.advance(minutes=1)
    [e] = await storage.outbox.claim("w1", limit=5, lease=LEASE)
    assert e.attempts == 2 and e.last_error == "503"

    # worker w1 stalls past its lease; w2 takes over and w1 can no longer touch the entry
    clock.advance(seconds=31)
    [taken] = await storage.outbox.claim("w2", limit=5, lease=LEASE)
    assert taken.id == e.id and taken.lease_owner == "w2" and taken.attempts == 3
    assert not await storage.outbox.complete(e)
    assert not await storage.outbox.retry_later(e, at=clock.now, error="late")
    assert not await storage.outbox.bury(e, reason="late")

    assert await storage.outbox.bury(taken, reason="HTTP 400: unknown object")
    [dead] = await storage.outbox.entries(state=OutboxState.DEAD)
    assert dead.dead_reason == "HTTP 400: unknown object"
    assert await storage.outbox.claim("w2", limit=5, lease=LEASE) == []
    assert await storage.outbox.replay(partner_id="p2") == 0
    assert await storage.outbox.replay(entry_id=dead.id) == 1
    [back] = await storage.outbox.claim("w3", limit=5, lease=LEASE)
    assert back.attempts == 1 and back.dead_reason is None


async def test_outbox_drop_removes_dead_letters_only(storage: Storage) -> None:
    await storage.partners.save(partner())
    await storage.outbox.enqueue("p1", KEY, OutboxOperation.DELETE, None)
    other = ObjectKey("CDR", "NL", "ABC", "c-drop")
    await storage.outbox.enqueue("p1", other, OutboxOperation.PUT, {"id": "c-drop"})
    claimed = await storage.outbox.claim("w1", limit=5, lease=LEASE)
    dead = next(e for e in claimed if e.key == KEY)
    assert await storage.outbox.bury(dead, reason="rejected")
    live = next(e for e in claimed if e.key == other)
    assert await storage.outbox.drop(entry_id=live.id) == 0  # in flight: not a dead letter
    assert await storage.outbox.drop(partner_id="p2") == 0
    assert await storage.outbox.drop(entry_id=dead.id) == 1
    assert [e.key for e in await storage.outbox.entries()] == [other]
    assert await storage.outbox.drop() == 0


async def test_outbox_claim_limit_and_order(storage: Storage, clock: FakeClock) -> None:
    await storage.partners.save(partner())
    for i in range(5):
        await storage.outbox.enqueue(
            "p1", ObjectKey("CDR", "NL", "ABC", f"c{i}"), OutboxOperation.PUT, {"i": i}
        )
        clock.advance(seconds=1)
    first = await storage.outbox.claim("w1", limit=2, lease=LEASE)
    second = await storage.outbox.claim("w2", limit=10, lease=LEASE)
    assert [e.key.id for e in first] == ["c0", "c1"]
    assert [e.key.id for e in second] == ["c2", "c3", "c4"]
    counts = await storage.outbox.counts()
    assert counts == {OutboxState.PENDING: 0, OutboxState.IN_FLIGHT: 5, OutboxState.DEAD: 0}


async def test_outbox_complete_many_in_one_call(storage: Storage, clock: FakeClock) -> None:
    await storage.partners.save(partner())
    ts = datetime(2024, 1, 1, tzinfo=UTC)
    keys = [ObjectKey("Session", "NL", "ABC", f"s{i}") for i in range(4)]
    for k in keys:
        await storage.objects.put(k, {"v": 1}, last_updated=ts, owner=None, push_to=["p1"])
    claimed = await storage.outbox.claim("w1", limit=10, lease=LEASE)
    assert len(claimed) == 4
    # s1 changes while in flight (sent again after), s2's lease is lost to another worker
    await storage.objects.put(keys[1], {"v": 2}, last_updated=ts, owner=None, push_to=["p1"])
    clock.advance(seconds=31)
    [taken] = await storage.outbox.claim("w2", limit=1, lease=LEASE)
    assert taken.key.id == "s0"  # the oldest expired lease
    done = await storage.outbox.complete_many(claimed)
    assert done == [e.key.id != "s0" for e in claimed]
    assert await storage.outbox.complete_many([]) == []
    left = {e.key.id: e for e in await storage.outbox.entries()}
    assert set(left) == {"s0", "s1"}
    assert left["s0"].lease_owner == "w2" and left["s0"].state is OutboxState.IN_FLIGHT
    assert left["s1"].state is OutboxState.PENDING and left["s1"].revision == 2
    assert left["s1"].attempts == 0


async def test_outbox_claim_skips_paused_partners_and_gives_back_attempts(
    storage: Storage, clock: FakeClock
) -> None:
    await storage.partners.save(partner())
    await storage.partners.save(partner("p2"))
    await storage.outbox.enqueue("p1", KEY, OutboxOperation.PUT, {"v": 1})
    await storage.outbox.enqueue("p2", KEY, OutboxOperation.PUT, {"v": 1})
    [e] = await storage.outbox.claim("w1", limit=10, lease=LEASE, skip_partners=["p1"])
    assert e.partner_id == "p2" and e.attempts == 1
    # a paused partner's entry that was claimed anyway is deferred without an attempt
    assert await storage.outbox.retry_later(e, at=clock.now, error="paused", attempted=False)
    [again] = await storage.outbox.claim("w1", limit=10, lease=LEASE, skip_partners=["p1"])
    assert again.id == e.id and again.attempts == 1
    [p1] = await storage.outbox.claim("w1", limit=10, lease=LEASE)
    assert p1.partner_id == "p1"


# --- commands ---------------------------------------------------------------------------------


async def test_command_state_survives_and_times_out(storage: Storage, clock: FakeClock) -> None:
    sent = CommandRecord(
        id="cmd-1",
        direction=CommandDirection.SENT,
        command="START_SESSION",
        state="REQUESTED",
        partner_id="p1",
        request={"response_url": "https://us/ocpi/commands/START_SESSION/cmd-1"},
        response_url="https://us/ocpi/commands/START_SESSION/cmd-1",
        deadline=clock.now + timedelta(minutes=2),
    )
    saved = await storage.commands.save(sent)
    assert saved.created_at == clock.now
    # the same id in the other direction is another record
    await storage.commands.save(
        CommandRecord(
            id="cmd-1",
            direction=CommandDirection.RECEIVED,
            command="STOP_SESSION",
            state="ACCEPTED",
            deadline=clock.now + timedelta(minutes=5),
        )
    )
    assert await storage.commands.due(before=clock.now) == []
    clock.advance(minutes=3)
    [due] = await storage.commands.due(before=clock.now)
    assert due.id == "cmd-1" and due.direction is CommandDirection.SENT

    done = await storage.commands.save(
        CommandRecord(
            **{
                **{f: getattr(due, f) for f in ("id", "direction", "command", "partner_id")},
                "state": "RESULT",
                "response_url": due.response_url,
                "response": {"result": "ACCEPTED", "timeout": 120},
                "result": {"result": "ACCEPTED"},
                "final": True,
                "deadline": due.deadline,
            }
        )
    )
    assert done.created_at == saved.created_at and done.updated_at == clock.now
    got = await storage.commands.get(CommandDirection.SENT, "cmd-1")
    assert got is not None and got.result == {"result": "ACCEPTED"} and got.final
    assert await storage.commands.due(before=clock.now) == []
    assert await storage.commands.get(CommandDirection.SENT, "nope") is None


async def test_platform_facts_are_kept_and_replaced(storage: Storage) -> None:
    assert await storage.facts.get(BASE_URL_FACT) is None
    await storage.facts.set(BASE_URL_FACT, "http://127.0.0.1:9000")
    await storage.facts.set("other", "x")
    assert await storage.facts.get(BASE_URL_FACT) == "http://127.0.0.1:9000"
    await storage.facts.set(BASE_URL_FACT, "https://ocpi.example.com")
    assert await storage.facts.get(BASE_URL_FACT) == "https://ocpi.example.com"
    assert await storage.facts.get("other") == "x"
    await storage.facts.delete("other")
    await storage.facts.delete("never-set")
    assert await storage.facts.get("other") is None
    assert await storage.facts.get(BASE_URL_FACT) == "https://ocpi.example.com"
