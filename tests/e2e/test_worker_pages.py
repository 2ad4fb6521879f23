"""``ocpikit serve --workers 2``: two processes of one CPO on one database serve a partner's
location pages from their listing caches (docs/storage.md, "Listing cache"), and a write one
of them made is in the next page either serves, at once: no wait, no retry (SQLite and
PostgreSQL). Every request goes on a fresh connection, which the kernel hands to either
worker."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.contract.server.test_cdr_builds import location

from ._nodes import Databases, Instance
from .test_workers import _token_to_cpo

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}
#: pages asked after each write: each worker serves some of them (all on one: 2 ** -11)
ASKS = 12


@pytest.fixture
def nodes(tmp_path: Path, databases: Databases) -> Iterator[tuple[Instance, Instance]]:
    cpo_dir, emsp_dir = tmp_path / "cpo", tmp_path / "emsp"
    cpo = Instance(cpo_dir, "NL-CPO:CPO", databases.new(cpo_dir), versions="2.2.1")
    emsp = Instance(emsp_dir, "DE-MSP:EMSP", databases.new(emsp_dir), versions="2.2.1")
    try:
        yield cpo, emsp
    finally:
        cpo.close()
        emsp.close()


def _page(cpo: Instance, token: str, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """A page of 100 of the CPO's locations as the eMSP pulls it, on a fresh connection:
    ``X-Total-Count`` and the items."""
    header = f"Token {base64.b64encode(token.encode()).decode()}"
    with httpx.Client(timeout=10) as http:
        r = http.get(
            f"{cpo.url}/ocpi/2.2.1/cpo/locations",
            params={"offset": offset, "limit": 100},
            headers={"Authorization": header},
        )
    assert r.status_code == 200, r.text
    return int(r.headers["X-Total-Count"]), r.json()["data"]


def test_a_write_in_one_worker_is_in_the_next_page_of_either(
    nodes: tuple[Instance, Instance],
) -> None:
    cpo, emsp = nodes
    cpo.start("--demo", "--workers", "2", timeout=120)
    emsp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    reg = emsp.cli("register", "--versions-url", invite["versions_url"], "--token", invite["token"])
    assert reg.returncode == 0, reg.stderr
    token = emsp.run(_token_to_cpo)
    total, first = _page(cpo, token, 0)
    assert total > 100
    for _ in range(ASKS):  # both workers hold the listing now
        assert _page(cpo, token, 0) == (total, first)
        assert _page(cpo, token, total - 10)[0] == total

    with httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c:
        r = c.patch("/admin/api/locations/NL/CPO/LOC00007", json={"name": "Renamed"})
        assert r.status_code == 200, r.text
    for _ in range(ASKS):
        _total, items = _page(cpo, token, 0)
        assert next(i for i in items if i["id"] == "LOC00007")["name"] == "Renamed"

    new = {**location(["AC-STD"]), "id": "LOC99999", "name": "New"}
    with httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c:
        r = c.put("/admin/api/locations/NL/CPO/LOC99999?version=2.2.1", json=new)
        assert r.status_code == 201, r.text
    for _ in range(ASKS):
        count, items = _page(cpo, token, total - 10)
        assert count == total + 1 and items[-1]["id"] == "LOC99999"

    with httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c:
        r = c.delete("/admin/api/locations/NL/CPO/LOC00002")
        assert r.status_code in (200, 204), r.text
    for _ in range(ASKS):
        count, items = _page(cpo, token, 0)
        assert count == total and "LOC00002" not in [i["id"] for i in items]
        assert items[0]["id"] == "LOC00001" and items[1]["id"] == "LOC00003"
