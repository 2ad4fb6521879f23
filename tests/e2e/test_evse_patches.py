"""Real processes over loopback: an EVSE status change posted to the CPO's backend API reaches
the registered eMSP as an EVSE-level PATCH within a second (the eMSP's exchange log shows the
PATCH at the EVSE's URL, and no PUT of the Location after the first), per version, on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocpikit.storage.sql import SqlStorage

from ._nodes import Databases, Instance, until

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}


@pytest.fixture
def nodes(tmp_path: Path, databases: Databases) -> Iterator[tuple[Instance, Instance]]:
    cpo_dir, emsp_dir = tmp_path / "cpo", tmp_path / "emsp"
    cpo = Instance(cpo_dir, "NL-CPO:CPO", databases.new(cpo_dir))
    # the test reads the PATCH bodies the eMSP received from its exchange log
    emsp = Instance(
        emsp_dir, "DE-MSP:EMSP", databases.new(emsp_dir), config='[exchange_log]\nbodies = "all"\n'
    )
    try:
        yield cpo, emsp
    finally:
        cpo.close()
        emsp.close()


def _evse_status(e: httpx.Client, location_id: str, uid: str) -> str | None:
    items = e.get("/admin/api/locations?owner=NL-CPO&limit=1000").json()["items"]
    for item in items:
        if item["object"]["id"] == location_id:
            for evse in item["object"].get("evses") or []:
                if evse["uid"] == uid:
                    return str(evse["status"])
    return None


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1"])
def test_evse_status_change_reaches_the_emsp_as_an_evse_patch_within_a_second(
    nodes: tuple[Instance, Instance], version: str
) -> None:
    cpo, emsp = nodes
    cpo.env["OCPIKIT_VERSIONS"] = version
    cpo.start("--demo")
    emsp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    reg = emsp.cli("register", "--versions-url", invite["versions_url"], "--token", invite["token"])
    assert reg.returncode == 0, reg.stderr
    location, uid = "LOC00001", "LOC00001-E2"
    with (
        httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c,
        httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e,
    ):
        # the eMSP holds the Location first (its first pull after registering)
        until(lambda: _evse_status(e, location, uid), "first pull", 30, cpo, emsp)
        delays = []
        for status in ("CHARGING", "AVAILABLE", "BLOCKED"):
            t0 = time.monotonic()
            r = c.patch(f"/admin/api/locations/{location}/evses/{uid}", json={"status": status})
            assert r.status_code == 200, r.text
            while _evse_status(e, location, uid) != status:
                assert time.monotonic() - t0 < 5, f"{status} did not arrive\n{emsp.log()}"
                time.sleep(0.01)
            delays.append(time.monotonic() - t0)
        assert max(delays) < 1.0, delays
    emsp.stop()  # flushes the eMSP's exchange log

    async def requests(s: SqlStorage) -> list[tuple[str, str, Any]]:
        page = await s.exchanges.recent(limit=1000)
        return [(x.method, x.url, x.request_body) for x in page if "/locations/" in x.url]

    seen = emsp.run(requests)
    patches = [(m, u, b) for m, u, b in seen if m == "PATCH"]
    assert len(patches) == 3, seen
    for _m, url, body in patches:
        assert url.endswith(f"/locations/NL/CPO/{location}/{uid}"), url
        assert set(json.loads(body)) == {"status", "last_updated"}
    assert not [u for m, u, _b in seen if m == "PUT"], "the Location was PUT again"
