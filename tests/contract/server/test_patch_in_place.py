"""PATCH merged in place: a head-version PATCH of plain values is merged into the stored
document without validating the whole object again (``objects._patch_in_place``). Whatever
path a PATCH takes, the stored object and every answer must be the same as with the whole
object validated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field, field_validator, model_validator

from ocpikit.core.versions import Role
from ocpikit.models.base import OcpiModel
from ocpikit.protocol.handlers import objects
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.app import platform_of
from ocpikit.storage import SqlStorage, upgrade

from .conftest import PERIOD, SESSION, Node, Router, make_node

pytestmark = pytest.mark.anyio

URL = "/ocpi/2.3.0/emsp/sessions/NL/CPO/S1"
KEY = ObjectKey("Session", "NL", "CPO", "S1")

#: accepted PATCHes: plain values (in place), appended lists (in place), an object and an
#: unknown field (the whole object validated), timestamps and numbers in other spellings
GOOD: list[dict[str, Any]] = [
    {"kwh": 3.50, "last_updated": "2026-01-01T11:05:00.123456+01:00"},
    {"charging_periods": [PERIOD], "kwh": 4, "last_updated": "2026-01-01T10:10:00Z"},
    {"charging_periods": [PERIOD], "status": "COMPLETED", "last_updated": "2026-01-01T10:15:00Z"},
    {"end_date_time": "2026-01-01T12:00:00+01:00", "last_updated": "2026-01-01T10:20:00Z"},
    {"total_cost": {"before_taxes": 2.5}, "last_updated": "2026-01-01T10:25:00Z"},
    {"x_vendor_note": "kept", "last_updated": "2026-01-01T10:30:00Z"},
]

#: refused PATCHes (2001 naming the field) and nothing stored
BAD: list[tuple[dict[str, Any], str]] = [
    ({"status": None, "last_updated": "2026-01-01T11:00:00Z"}, "status"),
    ({"kwh": "3", "last_updated": "2026-01-01T11:00:00Z"}, "kwh"),
    ({"status": "SOMETHING", "last_updated": "2026-01-01T11:00:00Z"}, "status"),
    ({"id": "S2", "last_updated": "2026-01-01T11:00:00Z"}, "id"),
    ({"kwh": 5}, "last_updated"),
    ({"cdr_token": {"uid": None}, "last_updated": "2026-01-01T11:00:00Z"}, "cdr_token"),
]


async def _token(cpo: Node, emsp: Node) -> str:
    await emsp.register(cpo)
    partner = await cpo.storage.partners.get("DE-MSP")
    assert partner and partner.outbound_token
    return partner.outbound_token


async def _run(emsp: Node, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    async with emsp.client(token) as http:
        await http.delete(URL)
        assert (await http.put(URL, json=SESSION)).status_code in (200, 201)
        for patch in GOOD:
            r = await http.patch(URL, json=patch)
            assert r.status_code == 200, (patch, r.text)
        stored = await emsp.storage.objects.get(KEY)
        assert stored is not None
        before = dict(stored.document)
        for patch, field in BAD:
            r = await http.patch(URL, json=patch)
            assert r.json()["status_code"] == 2001, (patch, r.text)
            assert field in r.json()["status_message"], (patch, r.text)
        stored = await emsp.storage.objects.get(KEY)
        assert stored is not None and dict(stored.document) == before
        served = (await http.get(URL)).json()["data"]
    return before, served


@pytest.fixture(params=["memory", "sqlite"])
async def receiver(
    request: pytest.FixtureRequest, router: Router, tmp_path: Path
) -> AsyncIterator[Node]:
    """The eMSP, on MemoryStorage (merges in Python) or SQLite (merges plain values in SQL)."""
    storage: Any = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'emsp.db'}"
        upgrade(url)
        storage = SqlStorage.from_url(url, pool_size=2)
    node = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), storage=storage)
    try:
        yield node
    finally:
        await platform_of(node.app).exchange_log.close()
        if storage is not None:
            await storage.aclose()


async def test_in_place_merge_stores_what_whole_validation_stores(
    cpo: Node, receiver: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    emsp = receiver
    token = await _token(cpo, emsp)
    validated: list[str] = []
    load_head = objects.load_head

    def counting(version: Any, name: str, body: Any, **kw: Any) -> dict[str, Any]:
        validated.append(f"{name} total_cost={body.get('total_cost')} status={body.get('status')}")
        return load_head(version, name, body, **kw)

    monkeypatch.setattr(objects, "load_head", counting)
    in_sql: list[Any] = []
    if isinstance(emsp.storage, SqlStorage):
        sql_objects = emsp.storage.objects
        patch_fields = sql_objects._sqlite_patch_fields

        def spy(*args: Any) -> Any:
            in_sql.append(args[1])
            return patch_fields(*args)

        monkeypatch.setattr(sql_objects, "_sqlite_patch_fields", spy)
    fast = await _run(emsp, token)
    if isinstance(emsp.storage, SqlStorage):
        # the plain PATCHes (not the appended lists, the object, the refused ones) in SQL
        assert len(in_sql) == 3, in_sql
    # the whole object is validated for the PUT, the PATCH of an object and the one with a
    # null (refused); not for the plain values, the appended lists and the unknown field
    assert validated == [
        "Session total_cost=None status=ACTIVE",
        "Session total_cost={'before_taxes': 2.5} status=COMPLETED",
        "Session total_cost={'before_taxes': 2.5} status=None",
    ], validated
    monkeypatch.setattr(objects, "_patch_in_place", lambda *a: False)
    validated.clear()
    slow = await _run(emsp, token)
    assert len(validated) == 1 + len(GOOD) + 2, validated  # + the null and the id PATCH
    assert fast == slow
    document, served = fast
    assert document["kwh"] == 4 and document["status"] == "COMPLETED"
    assert len(document["charging_periods"]) == 2
    assert document["last_updated"] == "2026-01-01T10:30:00Z"
    assert document["end_date_time"] == "2026-01-01T11:00:00Z"
    assert document["x_vendor_note"] == "kept" and served["x_vendor_note"] == "kept"


def test_patch_in_place_follows_the_models_rules() -> None:
    class Free(OcpiModel):
        a: int
        tags: list[str] = Field(default_factory=list, max_length=3)
        names: list[str] = []

    class Checked(OcpiModel):
        a: int
        b: int

        @field_validator("b")
        @classmethod
        def _b(cls, value: int) -> int:
            return value

    class Across(OcpiModel):
        a: int
        b: int

        @model_validator(mode="after")
        def _ab(self) -> Across:
            return self

    assert Free.patch_in_place("a") and Free.patch_in_place("tags")
    assert not Free.patch_in_place("tags", appended=True)  # a length limit on the whole
    assert Free.patch_in_place("names", appended=True)
    assert Free.patch_in_place("unknown")
    assert Checked.patch_in_place("a") and not Checked.patch_in_place("b")
    assert not Across.patch_in_place("a") and not Across.patch_in_place("unknown")
