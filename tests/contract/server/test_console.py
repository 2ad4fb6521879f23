"""The operator console in process (httpx over ASGI): sign-in with the admin token and with a
configured user, the session cookie's attributes and its forgery, CSRF and Origin refusals,
every page rendering (escaped) over a registered CPO/eMSP pair, and the page actions: invite,
switches, queue replay and drop, dispute resolution, a command, a pull."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ocpikit.client.partner import PartnerClient
from ocpikit.client.partner_calls import flow_ports
from ocpikit.client.sync import pull_into_storage
from ocpikit.core.versions import Role
from ocpikit.protocol.ports import ObjectKey, OutboxOperation, Storage
from ocpikit.server.app import create_app, platform_of
from ocpikit.server.console import ConsolePorts, console_routes
from ocpikit.server.console.passwords import hash_password, verify_password
from ocpikit.server.console.session import COOKIE, SessionKeys
from ocpikit.server.demo import load_demo

from .conftest import SESSION, Node, Router, make_node

pytestmark = pytest.mark.anyio

#: a fast hash for the tests (the default iterations cost ~0.3 s)
USERS = {"ops": hash_password("s3cret pass", iterations=1000)}


def _with_console(node: Node, *, extra: dict[str, Any] | None = None) -> Node:
    settings = replace(node.settings, extra={"console": {"users": USERS}, **(extra or {})})
    node.settings = settings

    async def pull(partner_id: str, module: str) -> list[dict[str, Any]]:
        partner = await node.storage.partners.get(partner_id)
        assert partner is not None
        async with httpx.AsyncClient(transport=node.router) as http:
            report = await pull_into_storage(PartnerClient(partner, http), node.storage, module)
        return [{**report.as_dict(), "module": module}]

    flows = flow_ports(
        node.storage, httpx.AsyncClient(transport=node.router), base_url=settings.base_url
    )
    routes = console_routes(ConsolePorts(flows=flows, pull=pull))
    node.app = create_app(settings, node.storage, driver=node.driver, extra_routes=routes)
    node.router.add(node.host, node.app)
    return node


@pytest.fixture
async def pair(router: Router) -> AsyncIterator[tuple[Node, Node]]:
    cpo = _with_console(make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,)))
    emsp = _with_console(make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,)))
    await load_demo(cpo.storage, [("NL", "CPO", ("CPO",))], locations=5)
    await emsp.register(cpo)
    yield cpo, emsp
    await platform_of(cpo.app).exchange_log.flush()
    await platform_of(emsp.app).exchange_log.flush()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


@contextlib.asynccontextmanager
async def _signed_in(
    node: Node, user: str = "", password: str = "admin-secret"
) -> AsyncIterator[httpx.AsyncClient]:
    async with node.client() as http:
        r = await http.post("/console/login", data={"user": user, "password": password})
        assert r.status_code == 303, r.text
        yield http


async def _post(
    http: httpx.AsyncClient, path: str, data: dict[str, str], page: str
) -> httpx.Response:
    csrf = _csrf((await http.get(page)).text)
    return await http.post(path, data={**data, "csrf": csrf})


# --- passwords and the cookie ------------------------------------------------------------------
def test_password_hashes_verify_and_malformed_ones_never_match() -> None:
    stored = hash_password("correct horse", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert hash_password("x", iterations=1000) != hash_password("x", iterations=1000)  # salted
    for bad in ("", "plain", "pbkdf2_sha256$x$y$z", "md5$1000$AAAA$BBBB", stored[:-4]):
        assert not verify_password("correct horse", bad)


def test_session_cookie_is_signed_and_expires() -> None:
    keys = SessionKeys(b"k" * 32)
    session, cookie = keys.issue("ops", 1000.0, ttl=timedelta(hours=1))
    assert keys.read(cookie, 1001.0) == session
    assert keys.read(cookie, 1000.0 + 3600) is None  # expired
    payload, signature = cookie.split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    assert keys.read(f"{forged}.{signature}", 1001.0) is None
    assert SessionKeys(b"other" * 8).read(cookie, 1001.0) is None
    for junk in ("", "a", "a.b.c", "!!!.???"):
        assert keys.read(junk, 1001.0) is None
    assert keys.csrf_ok(session, keys.csrf(session))
    assert not keys.csrf_ok(session, "nope") and not keys.csrf_ok(session, None)


# --- sign-in ----------------------------------------------------------------------------------
async def test_pages_need_a_session(pair: tuple[Node, Node]) -> None:
    cpo, _ = pair
    async with cpo.client() as http:
        r = await http.get("/console/partners")
        assert r.status_code == 303
        assert r.headers["location"] == "/console/login?next=%2Fconsole%2Fpartners"
        r = await http.get("/console/traffic/tail?after=0")
        assert r.status_code == 401
        r = await http.post("/console/queue/replay", data={"all": "yes"})
        assert r.status_code == 401
        r = await http.get("/console/login")
        assert r.status_code == 200 and 'name="password"' in r.text


async def test_sign_in_with_the_admin_token_sets_a_strict_cookie(pair: tuple[Node, Node]) -> None:
    cpo, _ = pair
    async with cpo.client() as http:
        r = await http.post(
            "/console/login",
            data={"user": "", "password": "admin-secret", "next": "/console/queue"},
        )
        assert r.status_code == 303 and r.headers["location"] == "/console/queue"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        for attribute in ("HttpOnly", "SameSite=strict", "Path=/console", "Max-Age=28800"):
            assert attribute.lower() in cookie.lower(), cookie
        assert "secure" not in cookie.lower()  # the public URL is http here
        r = await http.get("/console/partners")
        assert (r.status_code == 200 and "EMSP" not in r.text) or "DE-MSP" in r.text
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
        # sign out: the cookie is gone
        r = await _post(http, "/console/logout", {}, "/console/partners")
        assert r.status_code == 303
        assert (await http.get("/console/partners")).status_code == 303


async def test_sign_in_as_a_user_and_wrong_passwords(pair: tuple[Node, Node]) -> None:
    cpo, _ = pair
    async with cpo.client() as http:
        for user, password in (("ops", "wrong"), ("nobody", "s3cret pass"), ("", "nope")):
            r = await http.post("/console/login", data={"user": user, "password": password})
            assert r.status_code == 401 and "Wrong user name or password" in r.text
        r = await http.post(
            "/console/login",
            data={"user": "ops", "password": "s3cret pass", "next": "https://evil.test/"},
        )
        assert r.status_code == 303 and r.headers["location"] == "/console/partners"
        r = await http.get("/console/partners")
        assert r.status_code == 200 and ">ops<" in r.text


async def test_secure_cookie_when_the_public_url_is_https(router: Router) -> None:
    node = make_node(router, "tls.test", "NL", "CPO", (Role.CPO,))
    node.settings = replace(node.settings, base_url="https://tls.test")
    node.app = create_app(node.settings, node.storage, extra_routes=console_routes())
    router.add("tls.test", node.app)
    async with node.client() as http:
        r = await http.post("/console/login", data={"password": "admin-secret"})
        assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()


async def test_a_cookie_from_another_secret_is_no_session(pair: tuple[Node, Node]) -> None:
    cpo, _ = pair
    _, forged = SessionKeys(b"x" * 32).issue("admin", 10**10 - 10**9, timedelta(hours=1))
    async with cpo.client() as http:
        http.cookies.set(COOKIE, forged)
        assert (await http.get("/console/partners")).status_code == 303


async def test_sessions_are_bound_to_the_admin_token_and_the_configured_users(
    pair: tuple[Node, Node],
) -> None:
    """The platform's secret alone does not sign a session (a new admin token signs everyone
    out), and a user no longer in ``[console] users`` has no session."""
    import hashlib
    import hmac

    from ocpikit.server.console.session import session_secret

    cpo, _ = pair
    secret = await session_secret(cpo.storage)
    later = 10**10 - 10**9
    _, unbound = SessionKeys(secret).issue("admin", later, timedelta(hours=1))
    bound = SessionKeys(hmac.new(secret, b"admin-secret", hashlib.sha256).digest())
    _, ghost = bound.issue("ghost", later, timedelta(hours=1))
    _, admin = bound.issue("admin", later, timedelta(hours=1))
    async with cpo.client() as http:
        for cookie, expected in ((unbound, 303), (ghost, 303), (admin, 200)):
            http.cookies.set(COOKIE, cookie)
            assert (await http.get("/console/partners")).status_code == expected


# --- CSRF and Origin --------------------------------------------------------------------------
async def test_posts_without_the_session_csrf_token_are_refused(pair: tuple[Node, Node]) -> None:
    cpo, _ = pair
    async with _signed_in(cpo) as http:
        for data in ({}, {"csrf": "forged"}, {"csrf": ""}):
            r = await http.post("/console/partners/invite", data={"party": "NL-CPO", **data})
            assert r.status_code == 403 and "CSRF" in r.text
        assert len(await cpo.storage.tokens.invites()) == 0
        csrf = _csrf((await http.get("/console/partners")).text)
        r = await http.post(
            "/console/partners/invite",
            data={"party": "NL-CPO", "csrf": csrf},
            headers={"Origin": "https://evil.test"},
        )
        assert r.status_code == 403 and "Cross-site" in r.text
        # another session's token does not work either
        async with _signed_in(cpo) as other:
            r = await other.post("/console/partners/invite", data={"party": "NL-CPO", "csrf": csrf})
            assert r.status_code == 403
        r = await http.post(
            "/console/partners/invite",
            data={"party": "NL-CPO", "csrf": csrf},
            headers={"Origin": "http://cpo.test"},
        )
        assert r.status_code == 200, r.text
        token = re.search(r'id="invite-token">([^<]+)<', r.text)
        assert token and len(await cpo.storage.tokens.invites()) == 1
        # shown once: the listing shows its hint only
        listing = (await http.get("/console/partners")).text
        assert token.group(1) not in listing and token.group(1)[-4:] in listing


# --- pages ------------------------------------------------------------------------------------
PAGES = [
    "/console/partners",
    "/console/partners/{partner}",
    "/console/sync",
    "/console/queue",
    "/console/traffic",
    "/console/traffic?direction=in&module=locations&status=error",
    "/console/objects",
    "/console/objects?module=sessions&owner=own",
    "/console/objects?module=tokens&owner=any",
    "/console/objects?module=tariffs",
    "/console/objects?module=cdrs",
    "/console/commands",
    "/console/disputes",
    "/console/disputes?verdict=all",
]


async def test_every_page_renders(pair: tuple[Node, Node]) -> None:
    cpo, emsp = pair
    [partner] = await emsp.storage.partners.all()
    async with _signed_in(emsp) as http:
        for path in PAGES:
            r = await http.get(path.format(partner=partner.id))
            assert r.status_code == 200, (path, r.text[:300])
            assert "<h1>" in r.text and "/console/static/console.css" in r.text
        partners = (await http.get("/console/partners")).text
        assert '<table id="parties">' in partners and "NL-CPO" in partners
        traffic = (await http.get("/console/traffic")).text
        assert "/ocpi/" in traffic  # the registration's exchanges
        for name in ("console.css", "console.js"):
            r = await http.get(f"/console/static/{name}")
            assert r.status_code == 200 and len(r.content) > 500
        assert (await http.get("/console/static/../web.py")).status_code == 404
    async with _signed_in(cpo) as http:  # the CPO's own Locations, on the map
        objects = (await http.get("/console/objects?module=locations&owner=own")).text
        assert '<svg id="map"' in objects and objects.count("<circle") == 5


async def test_bad_inputs_are_clear_400s_not_500s(pair: tuple[Node, Node]) -> None:
    _, emsp = pair
    async with _signed_in(emsp) as http:
        for path, words in (
            ("/console/traffic?direction=sideways", "direction"),
            ("/console/traffic?since=yesterday", "since"),
            ("/console/traffic/tail?after=x", "after"),
            ("/console/objects?module=nope", "module"),
            ("/console/objects?offset=-1", "offset"),
            ("/console/disputes?verdict=maybe", "verdict"),
            ("/console/partners/nobody", "No partner"),
            ("/console/traffic/999999", "No exchange"),
            ("/console/commands/sideways/x", "direction"),
        ):
            r = await http.get(path)
            assert 400 <= r.status_code < 500, (path, r.status_code)
            assert words in r.text, (path, r.text[:400])
        page = "/console/partners"
        for path, data, words in (
            ("/console/partners/invite", {"ttl": "soon"}, "ttl"),
            ("/console/partners/invite", {"party": "XX-YYY"}, "party"),
            (
                "/console/partners/register",
                {"versions_url": "ftp://x", "token": "t"},
                "versions_url",
            ),
            ("/console/partners/register", {"token": "t"}, "versions_url: required"),
            ("/console/queue/replay", {"id": "x"}, "id"),
            ("/console/queue/drop", {"partner": "p"}, "confirm"),
            ("/console/queue/explode", {"all": "yes"}, "No queue action"),
            (
                "/console/commands",
                {"partner": "x", "command": "START_SESSION", "body": "{"},
                "not JSON",
            ),
            (
                "/console/commands",
                {"partner": "x", "command": "FLY", "body": "{}"},
                "Unknown command",
            ),
            ("/console/disputes/c1/resolution", {"resolution": "maybe"}, "accepted or contested"),
        ):
            r = await _post(http, path, data, page)
            assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:300])
            assert words in r.text, (path, r.text[:600])
        hostile = "<script>alert(1)</script>"
        r = await http.get(f"/console/traffic?object={hostile}")
        assert r.status_code == 200 and hostile not in r.text and "&lt;script&gt;" in r.text


# --- actions ----------------------------------------------------------------------------------
async def _dead_letter(storage: Storage, partner_id: str, ident: str) -> int:
    key = ObjectKey("Session", "NL", "CPO", ident)
    await storage.outbox.enqueue(partner_id, key, OutboxOperation.PUT, {**SESSION, "id": ident})
    [entry] = [
        e
        for e in await storage.outbox.claim("t", limit=50, lease=timedelta(seconds=30))
        if e.key == key
    ]
    assert await storage.outbox.bury(entry, reason="rejected by the partner: 2001 bad")
    return entry.id


async def test_queue_replay_and_drop(pair: tuple[Node, Node]) -> None:
    cpo, _ = pair
    [partner] = await cpo.storage.partners.all()
    first = await _dead_letter(cpo.storage, partner.id, "Q1")
    second = await _dead_letter(cpo.storage, partner.id, "Q2")
    async with _signed_in(cpo) as http:
        page = (await http.get("/console/queue")).text
        assert "rejected by the partner: 2001 bad" in page and f'data-entry="{first}"' in page
        r = await _post(http, "/console/queue/replay", {"id": str(first)}, "/console/queue")
        assert r.status_code == 200 and "Replayed 1 of dead letter" in r.text
        r = await _post(http, "/console/queue/drop", {"id": str(second)}, "/console/queue")
        assert "Dropped 1" in r.text
        states = {e.key.id: e.state.value for e in await cpo.storage.outbox.entries()}
        assert states.get("Q1") == "pending" and "Q2" not in states


async def test_switches_unregister_and_pull(pair: tuple[Node, Node]) -> None:
    _cpo, emsp = pair
    [partner] = await emsp.storage.partners.all()
    page = f"/console/partners/{partner.id}"
    async with _signed_in(emsp) as http:
        r = await _post(http, f"{page}/switches", {"name": "max_attempts", "value": "1"}, page)
        assert r.status_code == 200 and "Switches saved" in r.text
        assert (await emsp.storage.partners.get(partner.id)).settings["max_attempts"] == 1  # type: ignore[union-attr]
        r = await _post(http, f"{page}/switches", {"profile": "nonesuch"}, page)
        assert r.status_code == 400 and "profile" in r.text
        r = await _post(
            http, f"/console/sync/{partner.id}/pull", {"module": "locations"}, "/console/sync"
        )
        assert r.status_code == 200 and "5 seen" in r.text, r.text[-2000:]
        r = await _post(http, f"{page}/unregister", {}, page)
        assert r.status_code == 400 and "confirm" in r.text
        r = await _post(http, f"{page}/unregister", {"confirm": "yes"}, page)
        assert r.status_code == 200 and f"Unregistered {partner.id}" in r.text
        assert await emsp.storage.partners.get(partner.id) is None


async def test_send_a_command_and_see_its_record(pair: tuple[Node, Node]) -> None:
    _cpo, emsp = pair
    [partner] = await emsp.storage.partners.all()
    async with _signed_in(emsp) as http:
        form = (await http.get("/console/commands")).text
        assert "START_SESSION" in form and partner.id in form
        body = (
            '{"token": {"country_code": "DE", "party_id": "MSP", "uid": "T1", "type": "RFID",'
            ' "contract_id": "DE-MSP-T1", "issuer": "x", "valid": true, "whitelist": "ALLOWED",'
            ' "last_updated": "2026-01-01T00:00:00Z"}, "location_id": "LOC00001",'
            ' "evse_uid": "LOC00001-E1"}'
        )
        r = await _post(
            http,
            "/console/commands",
            {"partner": partner.id, "command": "START_SESSION", "body": body},
            "/console/commands",
        )
        assert r.status_code == 303, r.text[:800]
        record = await http.get(r.headers["location"])
        assert record.status_code == 200 and 'id="command-state"' in record.text
        assert "LOC00001" in record.text


async def test_disputes_page_resolves_a_check(pair: tuple[Node, Node]) -> None:
    from ocpikit.operations.cdr_checks import run_pending_checks

    _cpo, emsp = pair
    [partner] = await emsp.storage.partners.all()
    cdr = {"id": "C-D1", "country_code": "NL", "party_id": "CPO", "total_cost": {"excl_vat": 999}}
    await emsp.storage.objects.put(
        ObjectKey("CDR", "NL", "CPO", "C-D1"),
        cdr,
        last_updated=datetime(2026, 1, 1, tzinfo=UTC),
        owner=partner.id,
    )
    await run_pending_checks(emsp.storage, None)
    async with _signed_in(emsp) as http:
        page = (await http.get("/console/disputes?verdict=all")).text
        assert "C-D1" in page
        r = await _post(
            http,
            "/console/disputes/C-D1/resolution",
            {"resolution": "contested", "note": "<b>too dear</b>", "party": "NL-CPO"},
            "/console/disputes",
        )
        assert r.status_code == 200 and "CDR C-D1: contested" in r.text, r.text[-1500:]
        again = (await http.get("/console/disputes?verdict=all")).text
        assert "&lt;b&gt;too dear&lt;/b&gt;" in again


async def test_register_with_an_unreachable_partner_is_a_clear_error(
    pair: tuple[Node, Node],
) -> None:
    _, emsp = pair
    async with _signed_in(emsp) as http:
        r = await _post(
            http,
            "/console/partners/register",
            {"versions_url": "http://nowhere.test/ocpi/versions", "token": "abc"},
            "/console/partners",
        )
        assert 400 <= r.status_code < 600 and r.status_code != 500, r.status_code
        assert "nowhere.test" in r.text or "reach" in r.text.lower(), r.text[-800:]
        assert len(await emsp.storage.partners.all()) == 1


async def test_on_its_own_admin_listener_the_console_leaves_the_partners_listener(
    router: Router,
) -> None:
    from ocpikit.server.app import admin_app

    node = make_node(router, "split.test", "NL", "CPO", (Role.CPO,))
    app = create_app(node.settings, node.storage, extra_routes=console_routes(), admin_here=False)
    router.add("split.test", app)
    router.add("admin.split.test", admin_app(app))
    async with node.client() as http:
        r = await http.get("/console/login")
        assert r.status_code == 404
    async with httpx.AsyncClient(transport=router, base_url="http://admin.split.test") as http:
        r = await http.get("/console/login")
        assert r.status_code == 200 and 'name="password"' in r.text


async def test_traffic_filters_tail_and_sync_failures(pair: tuple[Node, Node]) -> None:
    from ocpikit.protocol.ports import Exchange, ExchangeDirection

    _, emsp = pair
    [partner] = await emsp.storage.partners.all()
    await platform_of(emsp.app).exchange_log.flush()
    before = await emsp.storage.exchanges.recent(limit=1)
    newest = before[0].id or 0
    at = datetime(2020, 3, 1, 12, tzinfo=UTC)  # before the registration's exchanges
    await emsp.storage.exchanges.record(
        [
            Exchange(
                ExchangeDirection.OUTBOUND,
                "GET",
                "http://cpo.test/ocpi/2.2.1/cpo/tariffs?offset=0",
                at,
                partner_id=partner.id,
                status=503,
                error="HTTP 503 after 3 tries",
                request_id="req-failed-pull",
            ),
            Exchange(
                ExchangeDirection.INBOUND,
                "PUT",
                "http://emsp.test/ocpi/2.2.1/emsp/sessions/NL/CPO/S-TRACE",
                at,
                partner_id=partner.id,
                status=200,
                ocpi_status=1000,
                correlation_id="corr-trace",
            ),
        ]
    )
    async with _signed_in(emsp) as http:
        sync = (await http.get("/console/sync")).text
        assert "HTTP 503 after 3 tries" in sync  # the tariffs row's last failure
        for query, present, absent in (
            ("status=error", "req-failed-pull", "corr-trace"),
            ("direction=in&module=sessions", "corr-trace", "req-failed-pull"),
            ("object=S-TRACE", "corr-trace", "req-failed-pull"),
            ("status=503", "req-failed-pull", "corr-trace"),
            ("since=2021-01-01T00:00:00Z", "/ocpi/versions", "corr-trace"),
            ("since=2999-01-01T00:00:00Z", "No exchanges match", "corr-trace"),
        ):
            page = (await http.get(f"/console/traffic?{query}")).text
            assert present in page and absent not in page, query
        r = await http.get(f"/console/traffic/tail?after={newest}")
        assert "corr-trace" in r.text and "req-failed-pull" in r.text
        latest = int(r.headers["x-newest-exchange"])
        assert latest > newest
        r = await http.get(f"/console/traffic/tail?after={latest}")
        assert r.text.strip() == "" and r.headers["x-newest-exchange"] == str(latest)
        r = await http.get(f"/console/traffic/tail?after={newest}&direction=out")
        assert "req-failed-pull" in r.text and "corr-trace" not in r.text
