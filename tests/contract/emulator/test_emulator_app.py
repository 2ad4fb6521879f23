"""The emulated partner's OCPI answers and faults, in process (httpx's ASGI transport): tokens,
envelopes and headers, a hub's addressing, and what each fault does to an answer."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest

from ocpikit.testing.emulator.app import build_app
from ocpikit.testing.emulator.config import EmulatorConfig
from ocpikit.testing.emulator.state import Emulator, Registration

BASE = "http://emu.test"


def _emulator(role: str = "hub", version: str = "2.2.1", *faults: str) -> Emulator:
    emu = Emulator(EmulatorConfig(role=role, version=version, faults=faults), BASE)
    emu.registration = Registration(
        versions_url="http://platform.test/ocpi/versions",
        version=version,
        endpoints=[],
        roles=[{"role": "EMSP", "country_code": "NL", "party_id": "PLT"}],
        inbound_token="secret-c",
        outbound_token="secret-b",
        initiated_by="platform",
    )
    return emu


def _auth(token: str = "secret-c", b64: bool = True) -> dict[str, str]:
    value = base64.b64encode(token.encode()).decode() if b64 else token
    return {
        "Authorization": f"Token {value}",
        "X-Request-ID": "req-1",
        "X-Correlation-ID": "cor-1",
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "PLT",
    }


def _get(
    emu: Emulator, path: str, headers: dict[str, str] | None = None, method: str = "GET", **kw: Any
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=build_app(emu))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            return await http.request(
                method, path, headers=headers if headers is not None else _auth(), **kw
            )

    return asyncio.run(go())


LIST = "/ocpi/2.2.1/sender/locations"


def test_tokens_raw_or_base64_and_token_a_only_before_registration() -> None:
    emu = _emulator()
    assert _get(emu, LIST).status_code == 200
    assert _get(emu, LIST, _auth(b64=False)).status_code == 200
    denied = _get(emu, LIST, _auth("wrong"))
    assert denied.status_code == 401 and denied.json()["status_code"] == 2000
    emu.registration = None
    assert _get(emu, "/ocpi/versions", _auth(emu.token_a)).status_code == 200
    assert _get(emu, LIST, _auth(emu.token_a)).status_code == 401


def test_a_page_with_envelope_ids_routing_and_paging_headers() -> None:
    r = _get(_emulator(), LIST + "?limit=5")
    body = r.json()
    assert body["status_code"] == 1000 and len(body["data"]) == 5
    assert body["timestamp"].endswith("Z")
    assert r.headers["X-Request-ID"] == "req-1" and r.headers["X-Correlation-ID"] == "cor-1"
    assert (r.headers["OCPI-to-country-code"], r.headers["OCPI-to-party-id"]) == ("NL", "PLT")
    assert (r.headers["OCPI-from-country-code"], r.headers["OCPI-from-party-id"]) == ("DE", "HUB")
    assert r.headers["X-Total-Count"] == "50" and r.headers["X-Limit"] == "5"
    assert 'rel="next"' in r.headers["Link"]


def test_a_hub_lists_one_party_when_addressed_and_refuses_unknown_receivers() -> None:
    emu = _emulator()
    to_aab = {**_auth(), "OCPI-to-country-code": "DE", "OCPI-to-party-id": "AAB"}
    r = _get(emu, LIST + "?limit=50", to_aab)
    assert {o["party_id"] for o in r.json()["data"]} == {"AAB"}
    assert r.headers["OCPI-from-party-id"] == "AAB"
    unknown = _get(emu, LIST, {**_auth(), "OCPI-to-country-code": "FR", "OCPI-to-party-id": "XXX"})
    assert unknown.json()["status_code"] == 4001


def test_hub_client_info_lists_the_parties_behind() -> None:
    data = _get(_emulator(), "/ocpi/2.2.1/sender/hubclientinfo").json()["data"]
    assert [(c["party_id"], c["role"], c["status"]) for c in data] == [
        ("AAA", "CPO", "CONNECTED"),
        ("AAB", "CPO", "CONNECTED"),
        ("EMA", "EMSP", "CONNECTED"),
    ]


def test_received_objects_are_checked_and_recorded() -> None:
    emu = _emulator()
    url = "/ocpi/2.2.1/receiver/tokens/NL/PLT/T1"
    token = {
        "country_code": "NL",
        "party_id": "PLT",
        "uid": "T1",
        "type": "RFID",
        "contract_id": "NL-PLT-C1",
        "issuer": "x",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2025-01-01T00:00:00Z",
    }
    assert _get(emu, url, method="PUT", json=token).status_code == 201
    bad = _get(emu, url, method="PUT", json={**token, "valid": "maybe"})
    assert bad.json()["status_code"] == 2001 and "valid" in bad.json()["status_message"]
    foreign = _get(emu, "/ocpi/2.2.1/receiver/tokens/BE/OTH/T1", method="PUT", json=token)
    assert foreign.status_code == 404
    recorded = [r for r in emu.received if r.method == "PUT"]
    assert [r.status for r in recorded] == [201, 200, 404]
    assert recorded[0].body == token and recorded[0].headers["ocpi-from-party-id"] == "PLT"


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        (
            "rate-limit:retry_after=7",
            lambda r: r.status_code == 429 and r.headers["Retry-After"] == "7",
        ),
        (
            "server-error:status=502",
            lambda r: r.status_code == 502 and "html" in r.headers["content-type"],
        ),
        ("auth", lambda r: r.status_code == 401),
        ("missing-headers", lambda r: "X-Request-ID" not in r.headers and "Link" not in r.headers),
        (
            "missing-headers:kind=paging",
            lambda r: "X-Request-ID" in r.headers and "X-Total-Count" not in r.headers,
        ),
        (
            "clock-skew:seconds=86400",
            lambda r: r.json()["data"][0]["last_updated"] > "2025-01-01T23",
        ),
        ("bad-objects", lambda r: any("last_updated" not in o for o in r.json()["data"])),
        ("pagination:kind=one-item", lambda r: len(r.json()["data"]) == 1),
    ],
)
def test_faults_change_the_answer(fault: str, check: Any) -> None:
    emu = _emulator("hub", "2.2.1", fault)
    r = _get(emu, LIST)
    assert check(r), (r.status_code, dict(r.headers), r.text[:300])
    assert emu.plan.counts == {fault.split(":", maxsplit=1)[0]: 1}


def test_truncated_body_is_not_json() -> None:
    r = _get(_emulator("cpo", "2.2.1", "truncated-body"), "/ocpi/2.2.1/sender/locations")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_raw_tokens_only_under_auth_raw() -> None:
    emu = _emulator("cpo", "2.2.1", "auth:kind=raw")
    assert _get(emu, "/ocpi/2.2.1/sender/locations").status_code == 401
    assert _get(emu, "/ocpi/2.2.1/sender/locations", _auth(b64=False)).status_code == 200


def test_version_2_1_1_cpo() -> None:
    emu = _emulator("cpo", "2.1.1")
    details = _get(emu, "/ocpi/2.1.1", _auth(b64=False)).json()["data"]
    assert all("role" not in e for e in details["endpoints"])
    r = _get(emu, "/ocpi/2.1.1/sender/locations", _auth(b64=False))
    assert "country_code" not in r.json()["data"][0]
    assert "OCPI-to-party-id" not in r.headers and "X-Request-ID" not in r.headers
