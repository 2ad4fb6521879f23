"""An ocpikit platform against emulated partners (``ocpikit emulate``), real processes over
loopback: it registers with an emulated hub and an emulated CPO, pulls their locations under
each fault mode of the emulator, and receives the hub's pushes of objects of parties behind
it; the hub registers with the platform through its control API, asks nothing it should not,
and answers authorizations and commands for its parties.

The platform here is an eMSP (``NL-PLT``) on SQLite; the emulators' data is deterministic
(``--seed``), so the test knows every object it must get.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocpikit.storage.sql import SqlStorage
from ocpikit.testing.partner import EmulatedPartner, start_partner

from ._nodes import Instance

pytestmark = pytest.mark.e2e

PLATFORM = "NL-PLT"
PLATFORM_CONFIG = """
[outbox]
first_pull = false
"""


def emulated(role: str, *extra: str) -> EmulatedPartner:
    """An ``ocpikit emulate ROLE --seed 7 EXTRA...`` for a module-scoped setup (a test of its
    own uses the plugin's ``ocpi_cpo``/``ocpi_emsp``/``ocpi_hub``)."""
    return start_partner(role, seed=7, extra=extra)


@dataclasses.dataclass
class Setup:
    platform: Instance
    hub: EmulatedPartner
    cpo: EmulatedPartner


def _set_timeout(platform: Instance, partner_id: str, seconds: float) -> None:
    async def change(storage: SqlStorage) -> None:
        p = await storage.partners.get(partner_id)
        assert p is not None
        await storage.partners.save(
            dataclasses.replace(p, settings={**p.settings, "timeout": seconds})
        )

    platform.run(change)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("platform")
    platform = Instance(
        workdir, f"{PLATFORM}:EMSP", f"sqlite:///{workdir / 'ocpikit.db'}", config=PLATFORM_CONFIG
    )
    platform.start()
    hub = emulated("hub", "--page-size", "10")
    cpo = emulated("cpo", "--page-size", "10")
    try:
        for emu in (hub, cpo):
            r = platform.cli(
                "register",
                "--versions-url",
                emu.info["versions_url"],
                "--token",
                emu.info["token_a"],
            )
            assert r.returncode == 0, r.stderr
        for partner in ("DE-HUB", "NL-ECP"):
            _set_timeout(platform, partner, 2)
        yield Setup(platform, hub, cpo)
    finally:
        hub.close(check=True)
        cpo.close(check=True)
        platform.close()


def test_registration_both_ends_agree(setup: Setup) -> None:
    hub_state = setup.hub.control("GET", "/state")
    assert hub_state["registered"] and hub_state["registration"]["initiated_by"] == "platform"
    assert hub_state["registration"]["roles"] == [
        {"role": "EMSP", "country_code": "NL", "party_id": "PLT"}
    ]
    partners = {p["id"]: p for p in json.loads(setup.platform.cli("partners", "--json").stdout)}
    assert set(partners) == {"DE-HUB", "NL-ECP"}
    # the hub's credentials list only the HUB role (2.2.1); its parties come by HubClientInfo
    assert [r["role"] for r in partners["DE-HUB"]["roles"]] == ["HUB"]
    # the platform called the hub's versions and credentials with token A, then nothing else
    received = setup.hub.control("GET", "/received")
    assert {r["module"] for r in received} <= {"versions", "credentials", "hubclientinfo"}


def _reset_locations(platform: Instance, partner_id: str) -> None:
    async def drop(storage: SqlStorage) -> None:
        while True:
            page = await storage.objects.list_page("Location", limit=500, owner=partner_id)
            if not page.items:
                return
            for item in page.items:
                await storage.objects.delete(item.key)

    platform.run(drop)


def _held_locations(platform: Instance, partner_id: str) -> set[tuple[str, str, str]]:
    async def read(storage: SqlStorage) -> set[tuple[str, str, str]]:
        page = await storage.objects.list_page("Location", limit=1000, owner=partner_id)
        return {(i.key.country_code, i.key.party_id, i.key.id) for i in page.items}

    return platform.run(read)


def _served(emu: EmulatedPartner) -> set[tuple[str, str, str]]:
    return {
        (o["country_code"], o["party_id"], o["id"])
        for o in emu.control("GET", "/objects/locations")
    }


#: faults a pull must survive (some only by its page retries)
FAULTS = [
    pytest.param("slow:seconds=0.3", id="slow"),
    pytest.param("rate-limit:every=2,retry_after=1", id="rate-limit"),
    pytest.param("server-error:every=3", id="server-error"),
    pytest.param("server-error:every=2,status=503", id="server-error-503"),
    pytest.param("truncated-body:every=3", id="truncated-body-json"),
    pytest.param("truncated-body:every=3,kind=connection", id="truncated-body-conn"),
    pytest.param("timeout:every=3,seconds=5", id="timeout"),
    pytest.param("pagination:kind=one-item", id="pagination-one-item"),
    pytest.param("pagination:kind=no-link", id="pagination-no-link"),
    pytest.param("pagination:kind=bad-link", id="pagination-bad-link"),
    pytest.param("pagination:kind=wrong-total", id="pagination-wrong-total"),
    pytest.param("pagination:kind=repeat", id="pagination-repeat"),
]


@pytest.mark.parametrize("partner", ["DE-HUB", "NL-ECP"])
@pytest.mark.parametrize("fault", FAULTS)
def test_pull_locations_under_fault(setup: Setup, fault: str, partner: str) -> None:
    emu = setup.hub if partner == "DE-HUB" else setup.cpo
    _reset_locations(setup.platform, partner)
    emu.control("POST", "/faults", {"faults": [fault]})
    try:
        result = setup.platform.cli("pull", partner, "locations", "--full", "--json")
    finally:
        state = emu.control("GET", "/state")
        emu.control("POST", "/faults", {"faults": []})
    mode = fault.split(":", maxsplit=1)[0]
    # the emulator did inject the fault
    assert state["faults_injected"].get(mode, 0) >= 1, state
    assert result.returncode == 0, result.stdout + result.stderr
    held = _held_locations(setup.platform, partner)
    assert held == _served(emu), result.stdout + result.stderr
    if partner == "DE-HUB":
        # the objects of the parties behind the hub, each with its own party
        assert {cc + "-" + pid for cc, pid, _ in held} == {"DE-AAA", "DE-AAB"}


# --- the hub registers with the platform, pushes, and answers for its parties -----------------


def _admin(platform: Instance, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(
        method,
        f"{platform.url}/admin/api/{path}",
        json=body,
        headers={"Authorization": "Bearer e2e-admin"},
        timeout=30,
    )


@pytest.fixture
def both_roles(tmp_path: Path) -> Iterator[Instance]:
    platform = Instance(
        tmp_path,
        f"{PLATFORM}:CPO+EMSP",
        f"sqlite:///{tmp_path / 'ocpikit.db'}",
        config=PLATFORM_CONFIG,
    )
    platform.start()
    try:
        yield platform
    finally:
        platform.close()


@pytest.mark.ocpi(version="2.2.1", seed=7)
def test_hub_registers_pushes_and_answers_for_its_parties(
    both_roles: Instance, ocpi_hub: EmulatedPartner
) -> None:
    platform, hub = both_roles, ocpi_hub
    invite = json.loads(platform.cli("invite").stdout)
    reg = hub.register_with(invite["versions_url"], invite["token"])
    assert reg["initiated_by"] == "emulator"
    assert {(r["role"], r["party_id"]) for r in reg["roles"]} == {("CPO", "PLT"), ("EMSP", "PLT")}
    out: dict[str, Any] = {"push": hub.push("locations", 3, "DE-AAA")}
    out["cdr_push"] = hub.push("cdrs", 1, "DE-AAB")
    tokens = hub.objects("tokens")
    locations = hub.objects("locations")
    out["token"] = tokens[1]
    out["authorize"] = _hub_calls(platform, hub.versions_url, tokens[1])
    out["command"] = _admin(
        platform,
        "POST",
        "partners/DE-HUB/commands/START_SESSION",
        {"token": tokens[1], "location_id": locations[0]["id"]},
    )
    time.sleep(1.0)  # the hub posts the CommandResult after --command-delay
    out["sent"] = hub.sent()
    out["received"] = hub.received()
    out["state"] = hub.state()
    partners = {p["id"]: p for p in json.loads(platform.cli("partners", "--json").stdout)}
    assert [r["role"] for r in partners["DE-HUB"]["roles"]] == ["HUB"]
    # every push came from the party behind the hub to the platform's eMSP party
    for row in out["push"] + out["cdr_push"]:
        headers = row["sent_headers"]
        assert (headers["OCPI-from-country-code"], headers["OCPI-from-party-id"]) == (
            "DE",
            row["party"].split("-")[1],
        )
        assert (headers["OCPI-to-country-code"], headers["OCPI-to-party-id"]) == ("NL", "PLT")
        assert headers["X-Request-ID"] and headers["X-Correlation-ID"]
    assert [r["method"] for r in out["push"]] == ["PUT"] * 3
    assert [r["url"].rsplit("/", 3)[1:3] for r in out["push"]] == [["DE", "AAA"]] * 3
    assert out["cdr_push"][0]["method"] == "POST"
    # the hub answers real-time authorization for the tokens of its eMSP party, 404/2004 for
    # others, and 4001 for a receiver not behind it
    allowed, unknown, nobody = out["authorize"]
    assert allowed["status_code"] == 1000 and allowed["data"]["allowed"] == "ALLOWED"
    assert allowed["data"]["token"]["uid"] == out["token"]["uid"]
    assert unknown == 2004 and nobody == 4001
    asked = [r for r in out["received"] if r["module"] == "tokens"]
    assert asked[0]["headers"]["ocpi-to-party-id"] == "EMA"
    # the platform's command reached the hub, which answered for the CPO behind it and posted
    # the CommandResult from that party
    commands = [r for r in out["received"] if r["module"] == "commands"]
    assert out["command"].status_code == 201, out["command"].text
    assert commands and commands[0]["status_code"] == 1000, commands
    results = [r for r in out["sent"] if r["module"] == "commands"]
    assert results and results[0]["sent_headers"]["OCPI-from-party-id"] == "AAA"
    # last, the platform accepted the objects of the parties behind the hub
    answers = [(r["status"], r["status_code"]) for r in out["push"] + out["cdr_push"]]
    assert all(code == 1000 for _, code in answers), answers


def _hub_calls(
    platform: Instance, versions_url: str, token: dict[str, Any]
) -> tuple[Any, int, int]:
    """As the platform (its token for the hub): authorize a token of NL-EMA, an unknown
    token, and one addressed to a party that is not behind the hub."""
    from ocpikit.core.auth import authorization_header

    async def read(storage: SqlStorage) -> str:
        partner = await storage.partners.get("DE-HUB")
        assert partner is not None and partner.outbound_token
        return partner.outbound_token

    secret = platform.run(read)
    base = versions_url.rsplit("/", 1)[0] + "/2.2.1/sender/tokens"
    headers = {
        "Authorization": authorization_header(secret, base64_encode=True),
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "PLT",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "EMA",
        "X-Request-ID": "r1",
        "X-Correlation-ID": "c1",
    }
    with httpx.Client(timeout=10, trust_env=False) as http:
        ok = http.post(f"{base}/{token['uid']}/authorize", headers=headers)
        assert ok.headers["X-Request-ID"] == "r1" and ok.headers["OCPI-to-party-id"] == "PLT"
        missing = http.post(f"{base}/NLEMA99999999/authorize", headers=headers)
        assert missing.status_code == 404
        elsewhere = http.post(
            f"{base}/{token['uid']}/authorize", headers={**headers, "OCPI-to-party-id": "ZZZ"}
        )
    return ok.json(), missing.json()["status_code"], elsewhere.json()["status_code"]
