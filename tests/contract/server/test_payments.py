"""The Payments Sender of a Payment Terminal Provider (2.3.0 mod_payments; DIGEST §3.9) against
hostile and confused CPOs: each CPO sees and changes only the terminals kept for its own party;
broken bodies get a 2001 naming the field; an activation never overwrites a terminal."""

from __future__ import annotations

from typing import Any

import pytest

from ocpikit.core.versions import V2_3_0, Role
from ocpikit.operations.payments import put_own_terminal
from ocpikit.server.app import platform_of

from .conftest import Node, Router, make_node

pytestmark = pytest.mark.anyio

URL = "/ocpi/2.3.0/ptp/payments/terminals"


@pytest.fixture
async def ptp(router: Router) -> Node:
    return make_node(router, "ptp.test", "DE", "PTP", (Role.PTP,), versions=(V2_3_0,))


async def _cpo_token(router: Router, ptp: Node, host: str, cc: str, pid: str) -> str:
    """A CPO registered with the PTP; the token it calls the PTP with."""
    cpo = make_node(router, host, cc, pid, (Role.CPO,), versions=(V2_3_0,))
    partner = await cpo.register(ptp)
    assert partner.outbound_token is not None
    return partner.outbound_token


async def _terminal(ptp: Node, cc: str, pid: str, ident: str) -> None:
    await put_own_terminal(
        ptp.storage, cc, pid, {"terminal_id": ident, "city": "X"}, now="2026-01-01T00:00:00Z"
    )


async def test_each_cpo_sees_and_changes_only_its_own_terminals(router: Router, ptp: Node) -> None:
    a = await _cpo_token(router, ptp, "cpo-a.test", "NL", "CPA")
    b = await _cpo_token(router, ptp, "cpo-b.test", "BE", "CPB")
    await _terminal(ptp, "NL", "CPA", "T-A")
    await _terminal(ptp, "BE", "CPB", "T-B")
    async with ptp.client(a) as http:
        r = await http.get(URL)
        assert [t["terminal_id"] for t in r.json()["data"]] == ["T-A"], r.text
        assert r.headers["X-Total-Count"] == "1"
        assert (await http.get(f"{URL}/T-A")).status_code == 200
        for call in (
            http.get(f"{URL}/T-B"),
            http.patch(f"{URL}/T-B", json={"location_ids": ["L1"]}),
            http.put(f"{URL}/T-B", json={"customer_reference": "mine now"}),
            http.post(f"{URL}/T-B/deactivate"),
        ):
            r = await call
            assert r.status_code == 404 and "Unknown Terminal 'T-B'" in r.text, r.text
    async with ptp.client(b) as http:
        r = await http.get(f"{URL}/T-B")
        assert r.json()["data"]["city"] == "X" and "location_ids" not in r.json()["data"]


async def test_a_cpo_cannot_move_a_terminal_or_break_it(router: Router, ptp: Node) -> None:
    a = await _cpo_token(router, ptp, "cpo-a.test", "NL", "CPA")
    await _terminal(ptp, "NL", "CPA", "T-A")
    async with ptp.client(a) as http:
        # owner fields are the PTP's: a PUT naming another party changes nothing of that
        r = await http.put(f"{URL}/T-A", json={"country_code": "BE", "party_id": "CPB"})
        assert r.status_code == 200, r.text
        assert (r.json()["data"]["country_code"], r.json()["data"]["party_id"]) == ("NL", "CPA")
        bad: list[tuple[Any, str]] = [
            ({"location_ids": "L1"}, "location_ids"),
            ({"terminal_id": "T-OTHER"}, "terminal_id"),
            ({"invoice_creator": "NOBODY"}, "invoice_creator"),
            ({"city": "x" * 46}, "city"),
        ]
        for body, field in bad:
            r = await http.patch(f"{URL}/T-A", json=body)
            assert r.status_code == 400 and r.json()["status_code"] == 2001, (body, r.text)
            assert field in r.json()["status_message"], (body, r.text)
        r = await http.post(f"{URL}/activate", content=b"[1, 2]")
        assert r.status_code == 400 and r.json()["status_code"] == 2001, r.text
        # an activation naming a terminal that is already active is refused, not overwritten
        r = await http.post(f"{URL}/activate", json={"terminal_id": "T-A", "reference": "S"})
        assert r.status_code == 400 and "already active" in r.text, r.text
        r = await http.get(f"{URL}/T-A")
        assert "reference" not in r.json()["data"]


async def test_an_activated_terminal_is_queued_to_the_cpo(router: Router, ptp: Node) -> None:
    a = await _cpo_token(router, ptp, "cpo-a.test", "NL", "CPA")
    async with ptp.client(a) as http:
        r = await http.post(f"{URL}/activate", json={"reference": "SN-1"})
        assert r.status_code == 200, r.text
        made = r.json()["data"]
        assert made["reference"] == "SN-1" and (made["country_code"], made["party_id"]) == (
            "NL",
            "CPA",
        )
    [entry] = await ptp.storage.outbox.entries(limit=10)
    assert (entry.key.kind, entry.key.id) == ("Terminal", made["terminal_id"])
    await platform_of(ptp.app).exchange_log.flush()
