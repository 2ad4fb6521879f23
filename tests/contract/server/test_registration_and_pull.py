"""Credentials handshake between two in-process platforms, and pulls in every version."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, Role, Version
from ocpikit.models import model_for
from ocpikit.protocol.ports import PartnerStatus

from .conftest import Node, Router, make_node

pytestmark = pytest.mark.anyio

VERSIONS = (V2_1_1, V2_2_1, V2_3_0)


async def _pull(node: Node, token: str, url: str, version: Version) -> list[dict]:
    items: list[dict] = []
    async with node.client(token) as http:
        next_url: str | None = url + "?limit=7"
        while next_url:
            resp = await http.get(next_url)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            assert body["status_code"] == 1000
            assert int(resp.headers["X-Limit"]) == 7
            total = int(resp.headers["X-Total-Count"])
            items.extend(body["data"])
            link = resp.headers.get("Link")
            next_url = link[1 : link.index(">")] if link else None
    assert len(items) == total
    return items


@pytest.mark.parametrize("emsp_version", VERSIONS, ids=str)
@pytest.mark.parametrize("cpo_version", VERSIONS, ids=str)
async def test_register_and_pull_every_version_pair(
    router: Router, cpo_version: Version, emsp_version: Version
) -> None:
    from ocpikit.server.demo import load_demo

    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,), (cpo_version,))
    await load_demo(cpo.storage, [("NL", "CPO", ("CPO",))], locations=20)
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), (emsp_version,))
    if cpo_version != emsp_version:
        with pytest.raises(Exception) as info:
            await emsp.register(cpo)
        assert getattr(info.value, "status_code", None) == 3002
        assert await emsp.storage.partners.all() == []
        return
    partner = await emsp.register(cpo)
    assert partner.status is PartnerStatus.REGISTERED
    assert partner.version == cpo_version.text
    assert partner.id == "NL-CPO"
    # the CPO side knows the eMSP too, and can call it with token B
    theirs = await cpo.storage.partners.get("DE-MSP")
    assert theirs is not None and theirs.version == cpo_version.text
    loc_url = next(e.url for e in partner.endpoints if e.identifier == "locations")
    assert partner.outbound_token is not None
    items = await _pull(emsp, partner.outbound_token, loc_url, cpo_version)
    ids = [i["id"] for i in items]
    assert len(ids) == 20 and len(set(ids)) == 20
    model = model_for(cpo_version, "Location")
    for item in items:
        model.model_validate(item)
    if cpo_version == V2_1_1:
        assert "type" in items[0] and "country_code" not in items[0]
    else:
        assert items[0]["country_code"] == "NL"


async def test_register_picks_the_highest_mutual_version(cpo: Node, emsp: Node) -> None:
    partner = await emsp.register(cpo)
    assert partner.version == "2.3.0"
    assert {e.identifier for e in partner.endpoints} >= {"credentials", "locations", "tariffs"}


async def test_token_a_is_single_use_and_post_twice_is_405(cpo: Node, emsp: Node) -> None:
    invite = await cpo.invite()
    await emsp.register(cpo)
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None and partner.outbound_token
    async with cpo.client(partner.outbound_token) as http:
        resp = await http.post("/ocpi/2.3.0/credentials", json={"token": "x", "url": "y"})
    assert resp.status_code == 405
    assert resp.json()["status_code"] >= 2000
    # unused invite token A may not open module endpoints (401)
    async with cpo.client(invite["token"]) as http:
        resp = await http.get("/ocpi/2.3.0/cpo/locations")
    assert resp.status_code == 401
    assert "status_code" in resp.json()


async def test_put_and_delete_without_registration_are_405(cpo: Node) -> None:
    token = (await cpo.invite())["token"]
    async with cpo.client(token) as http:
        assert (await http.put("/ocpi/2.2.1/credentials", json={})).status_code == 405
        assert (await http.delete("/ocpi/2.2.1/credentials")).status_code == 405


async def test_post_credentials_with_unreachable_callback_is_3001(cpo: Node) -> None:
    token = (await cpo.invite())["token"]
    body = {
        "token": "tok-b",
        "url": "http://nowhere.test/ocpi/versions",
        "roles": [
            {
                "role": "EMSP",
                "country_code": "BE",
                "party_id": "XYZ",
                "business_details": {"name": "x"},
            }
        ],
    }
    async with cpo.client(token) as http:
        resp = await http.post("/ocpi/2.2.1/credentials", json=body)
    assert resp.json()["status_code"] == 3001
    assert await cpo.storage.partners.all() == []


async def test_bad_tokens_are_401_with_an_envelope(cpo: Node) -> None:
    async with cpo.client("nope") as http:
        resp = await http.get("/ocpi/versions")
    assert resp.status_code == 401
    assert resp.json()["status_code"] == 2000
    async with cpo.client() as http:
        resp = await http.get("/ocpi/versions")
    assert resp.status_code == 401


async def test_base64_and_raw_tokens_both_work(cpo: Node) -> None:
    token = (await cpo.invite())["token"]
    encoded = base64.b64encode(token.encode()).decode()
    for value in (token, encoded):
        async with cpo.client(value) as http:
            resp = await http.get("/ocpi/versions")
        assert resp.status_code == 200
        assert [v["version"] for v in resp.json()["data"]] == ["2.1.1", "2.2.1", "2.3.0"]


async def test_unknown_path_and_method_get_envelopes(cpo: Node) -> None:
    async with cpo.client() as http:
        resp = await http.get("/nothing/here", headers={"X-Request-ID": "r1"})
        assert resp.status_code == 404
        assert resp.json()["status_code"] == 2000
        assert resp.headers["X-Request-ID"] == "r1"
        resp = await http.delete("/ocpi/versions")
        assert resp.status_code == 405
        assert "timestamp" in resp.json()


async def test_ids_are_echoed(cpo: Node) -> None:
    token = (await cpo.invite())["token"]
    async with cpo.client(token) as http:
        resp = await http.get(
            "/ocpi/versions", headers={"X-Request-ID": "abc", "X-Correlation-ID": "def"}
        )
    assert resp.headers["X-Request-ID"] == "abc"
    assert resp.headers["X-Correlation-ID"] == "def"


async def test_exchange_log_never_contains_a_token(cpo: Node, emsp: Node) -> None:
    from ocpikit.server.app import platform_of

    await emsp.register(cpo)
    await platform_of(cpo.app).exchange_log.flush()
    await platform_of(emsp.app).exchange_log.flush()
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None and partner.outbound_token
    async with emsp.client() as http:
        pass
    async with cpo.client(partner.outbound_token) as http:
        await http.get("/ocpi/2.3.0/cpo/locations?limit=1")
    await platform_of(cpo.app).exchange_log.flush()
    logged = await cpo.storage.exchanges.recent(limit=100)
    assert logged
    text = repr(logged)
    assert partner.outbound_token not in text
    assert base64.b64encode(partner.outbound_token.encode()).decode() not in text
    # the eMSP logged its outbound registration calls (and the CPO its callbacks), redacted
    from ocpikit.protocol.ports import ExchangeDirection

    theirs = await cpo.storage.partners.get("DE-MSP")
    assert theirs is not None and theirs.outbound_token
    for node, secret in ((emsp, partner.outbound_token), (cpo, theirs.outbound_token)):
        await platform_of(node.app).exchange_log.flush()
        log = await node.storage.exchanges.recent(limit=100)
        assert any(x.direction is ExchangeDirection.OUTBOUND for x in log)
        assert secret not in repr(log)
        assert base64.b64encode(secret.encode()).decode() not in repr(log)


async def test_exchange_log_keeps_an_excerpt_of_a_large_page(router: Router) -> None:
    """With ``[exchange_log] bodies = "all"``, a page larger than 8 KiB is logged as its first
    and last 256 bytes (the envelope's status), with the number of bytes left out between
    them; a small body whole."""
    from ocpikit.operations.exchange_log import LogPolicy
    from ocpikit.server.app import platform_of
    from ocpikit.server.demo import load_demo

    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,), (V2_3_0,))
    platform_of(cpo.app).exchange_log.policy = LogPolicy(bodies="all")
    await load_demo(cpo.storage, [("NL", "CPO", ("CPO",))], locations=20)
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), (V2_3_0,))
    partner = await emsp.register(cpo)
    async with cpo.client(partner.outbound_token) as http:
        big = await http.get("/ocpi/2.3.0/cpo/locations?limit=20")
        small = await http.get("/ocpi/2.3.0/cpo/locations?limit=1&offset=100")
    assert len(big.content) > 8192
    await platform_of(cpo.app).exchange_log.flush()
    logged = {x.url: x for x in await cpo.storage.exchanges.recent(limit=100)}
    big_log = next(x for url, x in logged.items() if url.endswith("limit=20"))
    small_log = next(x for url, x in logged.items() if url.endswith("offset=100"))
    left_out = len(big.content) - 256 - 256
    assert big_log.response_body == (
        big.content[:256] + b"...[%d bytes left out]..." % left_out + big.content[-256:]
    )
    assert b'"status_code":1000' in big_log.response_body
    assert small_log.response_body == small.content


async def test_get_put_and_delete_credentials(cpo: Node, emsp: Node) -> None:
    from ocpikit.protocol.ports import PartyRole, TokenKind
    from ocpikit.protocol.registration import build_credentials
    from ocpikit.server.app import platform_of

    await emsp.register(cpo)
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None and partner.outbound_token
    token_c = partner.outbound_token
    async with cpo.client(token_c) as http:
        r = await http.get("/ocpi/2.2.1/credentials")
        assert r.status_code == 200
        assert r.json()["data"]["token"] == token_c
        assert r.json()["data"]["roles"][0]["party_id"] == "CPO"
        # PUT: switch to 2.2.1 with a rotated token B'; the eMSP's versions are called again
        new_b = "rotated-token-b"
        await emsp.storage.tokens.issue(new_b, TokenKind.C, partner_id="NL-CPO")
        body = build_credentials(
            V2_2_1,
            new_b,
            emsp.versions_url,
            [PartyRole("EMSP", "DE", "MSP", {"name": "eMSP"})],
        )
        r = await http.put("/ocpi/2.2.1/credentials", json=body)
        assert r.status_code == 200, r.text
        new_c = r.json()["data"]["token"]
        assert new_c != token_c
    platform_of(cpo.app).auth.forget()
    theirs = await cpo.storage.partners.get("DE-MSP")
    assert theirs is not None and theirs.version == "2.2.1"
    assert theirs.outbound_token == new_b
    async with cpo.client(token_c) as http:
        assert (await http.get("/ocpi/2.2.1/credentials")).status_code == 401
    async with cpo.client(new_c) as http:
        r = await http.delete("/ocpi/2.2.1/credentials")
        assert r.status_code == 200
        platform_of(cpo.app).auth.forget()
        assert (await http.get("/ocpi/2.2.1/cpo/tariffs")).status_code == 401
    assert await cpo.storage.partners.get("DE-MSP") is None


@pytest.mark.parametrize(
    ("version", "body", "paths"),
    [
        (
            "2.2.1",
            {
                "token": "t" * 65,
                "url": "http://partner/versions",
                "roles": [
                    {
                        "role": "CPO",
                        "party_id": "TOOLONG",
                        "country_code": "NL",
                        "business_details": {"name": "x"},
                    }
                ],
            },
            ("token", "roles[0].party_id"),
        ),
        ("2.3.0", {"token": "abc", "url": "http://partner/versions", "roles": []}, ("roles",)),
        ("2.1.1", {"token": "abc", "url": "http://partner/versions"}, ("business_details",)),
    ],
)
async def test_bad_credentials_are_2001_naming_each_field_and_register_nothing(
    cpo: Node, version: str, body: dict, paths: tuple[str, ...]
) -> None:
    token = (await cpo.invite())["token"]
    async with cpo.client(token) as http:
        resp = await http.post(f"/ocpi/{version}/credentials", json=body)
    assert resp.status_code == 400
    answer = resp.json()
    assert answer["status_code"] == 2001
    for path in paths:
        assert f"{path}:" in answer["status_message"]
    assert await cpo.storage.partners.all() == []


async def test_exchange_log_batches_once_per_interval_under_load(
    router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While requests keep coming the log is written one batch per interval (not a batch
    after each write returns); a full queue is written by the request that fills it; a clean
    shutdown writes what is queued without waiting for the next interval. Nothing is lost."""
    import asyncio
    import time

    from ocpikit.operations import exchange_log
    from ocpikit.server import app as server_app

    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,), (V2_3_0,))
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), (V2_3_0,))
    partner = await emsp.register(cpo)
    platform = server_app.platform_of(cpo.app)
    await platform.exchange_log.close()
    batches: list[int] = []
    record = cpo.storage.exchanges.record

    async def counting(exchanges: Any) -> None:
        batches.append(len(exchanges))
        await asyncio.sleep(0.01)  # a write that takes a while: more requests arrive
        await record(exchanges)

    monkeypatch.setattr(cpo.storage.exchanges, "record", counting)
    monkeypatch.setattr(exchange_log, "LOG_INTERVAL", 0.1)
    sent = 0
    async with cpo.client(partner.outbound_token) as http:
        until = time.monotonic() + 0.55
        while time.monotonic() < until:
            assert (await http.get("/ocpi/2.3.0/cpo/locations?limit=1")).status_code == 200
            sent += 1
            await asyncio.sleep(0.002)  # in-process requests never wait: let the loop turn
        # five intervals of load: at most about five batches (fewer on a loaded machine, where
        # fewer requests fit), each of many requests, never one per write
        assert 2 <= len(batches) <= 7, batches
        assert min(batches[:-1]) > 1, batches
        await platform.exchange_log.close()
        assert sum(batches) == sent
        # backpressure: the request that fills the queue writes it before it answers
        monkeypatch.setattr(exchange_log, "LOG_QUEUE_MAX", 3)
        before = len(batches)
        for _ in range(3):
            await http.get("/ocpi/2.3.0/cpo/locations?limit=1")
        assert batches[before:] == [3]
        # a clean shutdown does not wait for the next interval
        monkeypatch.setattr(exchange_log, "LOG_INTERVAL", 30.0)
        monkeypatch.setattr(exchange_log, "LOG_QUEUE_MAX", 10_000)
        await http.get("/ocpi/2.3.0/cpo/locations?limit=1")
        started = time.monotonic()
        await platform.exchange_log.close()
        assert time.monotonic() - started < 5
        assert sum(batches) == sent + 4
