"""A hostile or broken partner's input is answered, never crashes and is never stored: each
attack gets 2001 naming the field (or parameter), on memory, SQLite and PostgreSQL storage."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ocpikit.core.json_bounds import MAX_DEPTH
from ocpikit.core.versions import Role
from ocpikit.protocol.ports import ObjectKey, Storage
from ocpikit.server.demo import load_demo
from ocpikit.storage import MemoryStorage, SqlStorage

from .conftest import Node, Router, make_node
from .test_modules import _location

pytestmark = pytest.mark.anyio

BASE = "/ocpi/2.2.1/emsp/locations/NL/CPO/"


@pytest.fixture
async def emsp_and_token(storage_url: str) -> AsyncIterator[tuple[Node, str]]:
    storage: Storage = (
        MemoryStorage() if storage_url == "memory" else SqlStorage.from_url(storage_url)
    )
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,))
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), storage=storage)
    await load_demo(storage, [("DE", "MSP", ("EMSP",))])  # tokens to list
    await emsp.register(cpo)
    partner = await cpo.storage.partners.get("DE-MSP")
    assert partner is not None and partner.outbound_token
    try:
        yield emsp, partner.outbound_token
    finally:
        await storage.aclose()


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def _with(loc_id: str, **changes: Any) -> dict[str, Any]:
    return {**_location(loc_id=loc_id), **changes}


def _connector(**changes: Any) -> dict[str, Any]:
    connector = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        "last_updated": "2026-01-01T10:00:00Z",
    }
    return {**connector, **changes}


def _evse(**connector: Any) -> list[dict[str, Any]]:
    return [
        {
            "uid": "E1",
            "status": "AVAILABLE",
            "last_updated": "2026-01-01T10:00:00Z",
            "connectors": [_connector(**connector)],
        }
    ]


ATTACKS: dict[str, tuple[str, dict[str, Any], str]] = {
    # name: (location id in the URL, body, the field the answer must name)
    "integer of 2^64": ("BIG", _with("BIG", evses=_evse(max_voltage=2**64)), "max_voltage"),
    "unknown field of 2^64": ("BIG2", _with("BIG2", ext={"n": 2**64}), "ext.n"),
    "unknown field nested 300 deep": ("DEEP", _with("DEEP", ext=_deep(300)), "ext.a.a"),
    "U+0000 in a string": ("NUL", _with("NUL", name="a\x00b"), "name"),
    "year 1 with a positive offset": (
        "Y1",
        _with("Y1", last_updated="0001-01-01T00:30:00+01:00"),
        "last_updated",
    ),
    "control character in an id": ("C%01", _with("C\x01"), "id"),
    "non-ASCII id": ("%C3%9C", _with("\u00dc"), "id"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_hostile_bodies_are_refused_naming_the_field(
    emsp_and_token: tuple[Node, str], attack: str
) -> None:
    emsp, token = emsp_and_token
    url_id, body, field = ATTACKS[attack]
    async with emsp.client(token) as http:
        r = await http.put(
            BASE + url_id,
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["status_code"] == 2001
    assert field in answer["status_message"]
    stored = await emsp.storage.objects.list_page("Location", limit=10, owner="NL-CPO")
    assert stored.total == 0


async def test_bodies_at_the_bounds_are_kept(emsp_and_token: tuple[Node, str]) -> None:
    emsp, token = emsp_and_token
    body = _with("EDGE", ext={"n": 2**63 - 1, "deep": _deep(MAX_DEPTH - 3)})
    async with emsp.client(token) as http:
        r = await http.put(BASE + "EDGE", json=body)
        assert r.status_code in (200, 201), r.text
    stored = await emsp.storage.objects.get(ObjectKey("Location", "NL", "CPO", "EDGE"))
    assert stored is not None and stored.document["ext"]["n"] == 2**63 - 1


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("offset=9223372036854775808", "offset"),
        ("offset=99999999999999999999", "offset"),
        ("limit=99999999999999999999", "limit"),
        ("date_from=0001-01-01T00:00:00%2B01:00", "date_from"),
        ("offset=-1", "offset"),
    ],
)
async def test_hostile_list_parameters_are_refused(
    emsp_and_token: tuple[Node, str], query: str, parameter: str
) -> None:
    emsp, token = emsp_and_token
    async with emsp.client(token) as http:
        r = await http.get("/ocpi/2.2.1/emsp/tokens?" + query)
    assert r.status_code == 400, r.text
    assert r.json()["status_code"] == 2001
    assert r.json()["status_message"].startswith(parameter)
