"""Roaming through hubs, end to end (real processes over loopback): an ocpikit eMSP connected
to two emulated hubs and one direct emulated CPO, and an ocpikit CPO behind an emulated hub
(OCPI 2.2.1 transport_and_format §Message Routing; docs/hubs.md).

The eMSP pulls the locations, sessions and CDRs of the parties behind each hub and of the
direct CPO, knows who reaches whom (``ocpikit parties``), pushes its tokens to each connection
once, answers a CPO's real-time authorization coming through a hub, and sends commands to a
CPO behind a hub and to the direct CPO, each over the right connection with the right headers;
the hub with the ``gireve`` profile is pulled in CDR pages of 20 and gets routing headers on
every module. The CPO authorizes a foreign eMSP's token in real time through its hub and
delivers that eMSP's session and CDR through it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ocpikit.server.demo import demo_sessions_and_cdrs, demo_tokens
from ocpikit.testing.partner import EmulatedPartner

from ._nodes import Instance
from .test_emulator import PLATFORM_CONFIG, emulated

pytestmark = pytest.mark.e2e


def admin(platform: Instance, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(
        method,
        f"{platform.url}/admin/api/{path}",
        json=body,
        headers={"Authorization": "Bearer e2e-admin"},
        timeout=30,
        trust_env=False,
    )


def register(platform: Instance, emu: EmulatedPartner, *extra: str) -> None:
    r = platform.cli(
        "register",
        "--versions-url",
        emu.info["versions_url"],
        "--token",
        emu.info["token_a"],
        *extra,
    )
    assert r.returncode == 0, r.stderr


def waited(what: Any, seconds: float = 20.0) -> Any:
    """``what()`` once it is truthy (the outbox worker delivers in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        found = what()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def owned(platform: Instance, kind: str, owner: str) -> set[tuple[str, str]]:
    r = admin(platform, "GET", f"{kind}?owner={owner}&limit=1000")
    assert r.status_code == 200, r.text
    return {(i["object"]["country_code"], i["object"]["party_id"]) for i in r.json()["items"]}


@pytest.fixture(scope="module")
def emsp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("emsp")
    platform = Instance(
        workdir, "NL-PLT:EMSP", f"sqlite:///{workdir / 'ocpikit.db'}", config=PLATFORM_CONFIG
    )
    platform.start()
    emus = {
        "hub": emulated("hub", "--objects", "cdrs=30"),
        "gireve": emulated(
            "hub", "--party", "FR-GIR", "--behind", "FR-BBB:CPO", "--objects", "cdrs=30"
        ),
        "cpo": emulated("cpo"),
    }
    try:
        register(platform, emus["hub"])
        register(platform, emus["gireve"], "--profile", "gireve")
        register(platform, emus["cpo"])
        for partner in ("DE-HUB", "FR-GIR", "NL-ECP"):
            for module in ("hubclientinfo", "locations", "sessions", "cdrs"):
                if module == "hubclientinfo" and partner == "NL-ECP":
                    continue
                r = platform.cli("pull", partner, module, "--json")
                assert r.returncode == 0, r.stdout + r.stderr
        yield {"platform": platform, **emus}
    finally:
        for emu in emus.values():
            emu.close(check=True)
        platform.close()


def test_the_emsp_holds_the_objects_of_every_party_over_its_connection(
    emsp: dict[str, Any],
) -> None:
    platform = emsp["platform"]
    for kind in ("locations", "sessions", "cdrs"):
        assert owned(platform, kind, "DE-HUB") == {("DE", "AAA"), ("DE", "AAB")}, kind
        assert owned(platform, kind, "FR-GIR") == {("FR", "BBB")}, kind
        assert owned(platform, kind, "NL-ECP") == {("NL", "ECP")}, kind
    for emu, owner in ((emsp["hub"], "DE-HUB"), (emsp["gireve"], "FR-GIR")):
        served = emu.control("GET", "/objects/cdrs")
        r = admin(platform, "GET", f"cdrs?owner={owner}&limit=1000")
        assert r.json()["total"] == len(served) == 30 * (2 if owner == "DE-HUB" else 1)


def test_the_directory_knows_who_reaches_whom(emsp: dict[str, Any]) -> None:
    r = emsp["platform"].cli("parties", "--json")
    rows = {(row["party"], row["role"]): row for row in json.loads(r.stdout) if row["chosen"]}
    assert (rows["DE-AAA", "CPO"]["partner"], rows["DE-AAA", "CPO"]["path"]) == ("DE-HUB", "hub")
    assert rows["DE-AAA", "CPO"]["status"] == "CONNECTED"
    assert (rows["FR-BBB", "CPO"]["partner"], rows["FR-BBB", "CPO"]["path"]) == ("FR-GIR", "hub")
    assert (rows["NL-ECP", "CPO"]["partner"], rows["NL-ECP", "CPO"]["path"]) == (
        "NL-ECP",
        "direct",
    )


def test_the_gireve_hub_is_pulled_in_cdr_pages_of_20_with_routing_headers_everywhere(
    emsp: dict[str, Any],
) -> None:
    received = emsp["gireve"].control("GET", "/received?method=GET")
    cdr_pages = [r for r in received if r["module"] == "cdrs"]
    assert len(cdr_pages) == 2
    assert all("limit=20" in r["query"] for r in cdr_pages), [r["query"] for r in cdr_pages]
    clientinfo = [r for r in received if r["module"] == "hubclientinfo"]
    assert clientinfo and clientinfo[0]["headers"].get("ocpi-to-party-id") == "GIR"
    # without the profile, the first page leaves the size to the hub (later pages follow Link)
    plain = emsp["hub"].control("GET", "/received?method=GET")
    assert "limit=" not in next(r for r in plain if r["module"] == "cdrs")["query"]


def test_tokens_go_to_each_connection_once_and_a_cpo_behind_a_hub_authorizes_them(
    emsp: dict[str, Any],
) -> None:
    platform, gireve = emsp["platform"], emsp["gireve"]
    token = {**demo_tokens("NL", "PLT", 1)[0], "uid": "0A1B2C3D", "whitelist": "NEVER"}
    r = admin(platform, "PUT", f"tokens/NL/PLT/{token['uid']}", token)
    assert r.status_code in (200, 201), r.text

    def pushed(emu: EmulatedPartner) -> list[dict[str, Any]]:
        return [
            r
            for r in emu.control("GET", "/received?method=PUT")
            if r["module"] == "tokens" and token["uid"] in r["path"]
        ]

    for name in ("hub", "gireve", "cpo"):
        assert len(waited(lambda e=emsp[name]: pushed(e))) == 1, name
    location = gireve.control("GET", "/objects/locations")[0]
    answer = gireve.control(
        "POST",
        "/authorize",
        {
            "token_uid": token["uid"],
            "type": "RFID",
            "party": "FR-BBB",
            "location_id": location["id"],
        },
    )
    assert answer["status_code"] == 1000 and answer["data"]["allowed"] == "ALLOWED", answer


def test_commands_reach_a_cpo_behind_a_hub_and_a_direct_cpo(emsp: dict[str, Any]) -> None:
    platform = emsp["platform"]
    token = demo_tokens("NL", "PLT", 1)[0]
    for party, emu, to in (("FR-BBB", "gireve", "BBB"), ("NL-ECP", "cpo", None)):
        location = emsp[emu].control("GET", "/objects/locations")[0]
        r = admin(
            platform,
            "POST",
            f"parties/{party}/commands/START_SESSION",
            {"token": token, "location_id": location["id"]},
        )
        assert r.status_code == 201, r.text
        got = [
            x
            for x in emsp[emu].control("GET", "/received?method=POST")
            if x["module"] == "commands"
        ]
        assert got and got[-1]["status_code"] == 1000, got
        assert got[-1]["headers"].get("ocpi-to-party-id") == to or to is None
    r = admin(
        platform,
        "POST",
        "parties/DE-ZZZ/commands/START_SESSION",
        {"token": token, "location_id": "X"},
    )
    assert r.status_code == 404, r.text


# --- a CPO behind a hub ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cpo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("cpo")
    platform = Instance(
        workdir, "NL-PLT:CPO", f"sqlite:///{workdir / 'ocpikit.db'}", config=PLATFORM_CONFIG
    )
    platform.start()
    hub = emulated("hub")
    try:
        register(platform, hub)
        # the hub PUTs the ClientInfo of the parties behind it after the registration
        waited(lambda: "NL-EMA" in platform.cli("parties", "--json").stdout)
        yield {"platform": platform, "hub": hub}
    finally:
        hub.close(check=True)
        platform.close()


def test_a_cpo_behind_a_hub_authorizes_a_foreign_token_and_delivers_its_session_and_cdr(
    cpo: dict[str, Any],
) -> None:
    platform, hub = cpo["platform"], cpo["hub"]
    foreign = hub.control("GET", "/objects/tokens")[0]
    assert (foreign["country_code"], foreign["party_id"]) == ("NL", "EMA")

    def ask() -> dict[str, Any] | None:
        r = admin(platform, "POST", "authorize", {"uid": foreign["uid"], "emsp": "NL-EMA"})
        assert r.status_code == 200, r.text
        info: dict[str, Any] = r.json()
        return info if info["source"] == "realtime" else None

    info = waited(ask)
    assert info is not None and info["allowed"] == "ALLOWED", info
    asked = [r for r in hub.control("GET", "/received?method=POST") if r["module"] == "tokens"]
    assert asked[-1]["headers"]["ocpi-to-party-id"] == "EMA"

    sessions, cdrs = demo_sessions_and_cdrs("NL", "PLT", 1)
    to_ema = {
        "country_code": "NL",
        "party_id": "EMA",
        "uid": foreign["uid"],
        "type": foreign["type"],
        "contract_id": foreign["contract_id"],
    }
    session = {**sessions[0], "cdr_token": to_ema}
    cdr = {**cdrs[0], "cdr_token": to_ema, "session_id": session["id"]}
    for kind, doc in (("sessions", session), ("cdrs", cdr)):
        r = admin(platform, "PUT", f"{kind}/NL/PLT/{doc['id']}", doc)
        assert r.status_code in (200, 201), r.text

    def delivered() -> list[dict[str, Any]]:
        got = hub.control("GET", "/received")
        return [
            r for r in got if r["module"] in ("sessions", "cdrs") and r["method"] in ("PUT", "POST")
        ]

    got = waited(lambda: len(delivered()) >= 2 and delivered())
    assert got, hub.control("GET", "/received")
    assert {(r["module"], r["headers"]["ocpi-to-party-id"], r["status_code"]) for r in got} == {
        ("sessions", "EMA", 1000),
        ("cdrs", "EMA", 1000),
    }
