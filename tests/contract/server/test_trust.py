"""Who may reach what: a connection reaches only the party of ours it registered with."""

from __future__ import annotations

import pytest

from ocpikit.core.versions import SUPPORTED_VERSIONS, Role
from ocpikit.server.app import create_app
from ocpikit.server.demo import load_demo
from ocpikit.server.registry import invite, register_with
from ocpikit.server.settings import PartyConfig, Settings
from ocpikit.storage.memory import MemoryStorage

from .conftest import Node, Router, make_node

pytestmark = pytest.mark.anyio


def _two_party_cpo(router: Router) -> Node:
    """A CPO platform hosting two CPO parties, NL-CPO and NL-CP2."""
    settings = Settings(
        parties=(
            PartyConfig("NL", "CPO", (Role.CPO,), "first", versions=SUPPORTED_VERSIONS),
            PartyConfig("NL", "CP2", (Role.CPO,), "second", versions=SUPPORTED_VERSIONS),
        ),
        base_url="http://cpo.test",
        database_url="memory://",
        admin_token="admin-secret",
    )
    node = Node("cpo.test", settings, MemoryStorage(), None, router)
    node.app = create_app(settings, node.storage, driver=node.driver)
    router.add("cpo.test", node.app)
    return node


async def test_routing_headers_never_reach_another_of_our_parties() -> None:
    router = Router()
    cpo = _two_party_cpo(router)
    await load_demo(cpo.storage, [("NL", "CPO", ("CPO",)), ("NL", "CP2", ("CPO",))], locations=4)
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,))
    token_a = (await invite(cpo.settings, cpo.storage, "NL-CPO"))["token"]
    await register_with(emsp.settings, emsp.storage, emsp.driver, cpo.versions_url, token_a)
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None and partner.outbound_token

    def to(party_id: str) -> dict[str, str]:
        return {
            "OCPI-from-country-code": "DE",
            "OCPI-from-party-id": "MSP",
            "OCPI-to-country-code": "NL",
            "OCPI-to-party-id": party_id,
        }

    async with cpo.client(partner.outbound_token) as http:
        mine = await http.get("/ocpi/2.2.1/cpo/locations", headers=to("CPO"))
        other = await http.get("/ocpi/2.2.1/cpo/locations", headers=to("CP2"))
        start = await http.post(
            "/ocpi/2.2.1/cpo/commands/START_SESSION",
            headers=to("CP2"),
            json={"response_url": "http://emsp.test/r", "token": {}, "location_id": "x"},
        )
    assert mine.status_code == 200
    assert {loc["party_id"] for loc in mine.json()["data"]} == {"CPO"}
    for refused in (other, start):
        assert refused.status_code == 400
        assert refused.json()["status_code"] == 2001
        assert "not the party this connection is registered with" in refused.text


async def test_only_the_sessions_own_emsp_may_stop_it_or_set_its_preferences() -> None:
    import orjson

    from ocpikit.core.types import parse_datetime
    from ocpikit.protocol.ports import ObjectKey

    from .test_versions_matrix import head_session

    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,))
    owner = make_node(router, "msp.test", "DE", "MSP", (Role.EMSP,))
    other = make_node(router, "oth.test", "DE", "OTH", (Role.EMSP,))
    await owner.register(cpo)
    await other.register(cpo)
    session = head_session("S1", "2026-01-01T10:00:00Z")  # started with a DE-MSP token
    await cpo.storage.objects.put(
        ObjectKey("Session", "NL", "CPO", "S1"),
        orjson.dumps(session),
        last_updated=parse_datetime(session["last_updated"]),
        owner=None,
    )
    stop = {"response_url": "http://{host}/r/1", "session_id": "S1"}
    prefs = {"profile_type": "FAST"}
    answers = {}
    for node in (owner, other):
        partner = await node.storage.partners.get("NL-CPO")
        assert partner is not None and partner.outbound_token
        async with cpo.client(partner.outbound_token) as http:
            r = await http.post(
                "/ocpi/2.2.1/cpo/commands/STOP_SESSION",
                json={**stop, "response_url": stop["response_url"].format(host=node.host)},
            )
            p = await http.put("/ocpi/2.2.1/cpo/sessions/S1/charging_preferences", json=prefs)
        answers[node.host] = (r.json()["data"]["result"], p.status_code)
    assert answers == {"msp.test": ("ACCEPTED", 200), "oth.test": ("UNKNOWN_SESSION", 404)}
