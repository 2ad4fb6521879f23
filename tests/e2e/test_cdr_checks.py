"""Two real ``ocpikit serve`` processes over loopback: the CPO publishes a tariff and pushes
CDRs to the eMSP through its outbox, some right and some wrong; within seconds the eMSP's
``ocpikit cdr disputes --json`` lists exactly the wrong ones with their reasons (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.contract.server.test_cdr_checks import TARIFF, cdr

from ._nodes import Databases, Instance, until

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}


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


def test_pushed_cdrs_are_checked_and_the_wrong_ones_listed(
    nodes: tuple[Instance, Instance],
) -> None:
    cpo, emsp = nodes
    cpo.start()
    emsp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    reg = emsp.cli("register", "--versions-url", invite["versions_url"], "--token", invite["token"])
    assert reg.returncode == 0, reg.stderr
    with httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c:
        r = c.put("/admin/api/tariffs/NL/CPO/T1?version=2.2.1", json=TARIFF)
        assert r.status_code == 201, r.text

        def tariff_arrived() -> Any:
            with httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e:
                items = e.get("/admin/api/tariffs?owner=NL-CPO").json()["items"]
            return items or None

        until(tariff_arrived, "the tariff at the eMSP", 20.0, cpo, emsp)
        for body in (
            cdr("C-OK"),
            cdr("C-WRONG", excl=4.5, incl=4.95),
            cdr(
                "C-NOTARIFF",
                charging_periods=[{**cdr("x")["charging_periods"][0], "tariff_id": "T9"}],
            ),
            cdr("C-DUP1", session_id="S-DUP"),
        ):
            r = c.put(f"/admin/api/cdrs/NL/CPO/{body['id']}?version=2.2.1", json=body)
            assert r.status_code == 201, r.text

        def checked(n: int) -> Any:
            with httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e:
                rows = e.get("/admin/api/cdr-checks").json()
            done = [r for r in rows if r["state"] == "done"]
            return rows if len(done) == n else None

        # the outbox delivers different CDRs in parallel: the second CDR of the session goes
        # once the first arrived, so which one is the duplicate is known
        until(lambda: checked(4), "four checked CDRs at the eMSP", 30.0, cpo, emsp)
        body = cdr("C-DUP2", session_id="S-DUP")
        r = c.put(f"/admin/api/cdrs/NL/CPO/{body['id']}?version=2.2.1", json=body)
        assert r.status_code == 201, r.text
    until(lambda: checked(5), "five checked CDRs at the eMSP", 30.0, cpo, emsp)
    out = emsp.cli("cdr", "disputes", "--json")
    assert out.returncode == 0, out.stderr
    got = {r["cdr_id"]: (r["partner"], r["verdict"], r["reasons"]) for r in json.loads(out.stdout)}
    assert got == {
        "C-WRONG": ("NL-CPO", "disputed", ["cost"]),
        "C-NOTARIFF": ("NL-CPO", "unverifiable", ["tariff_missing"]),
        "C-DUP2": ("NL-CPO", "disputed", ["duplicate"]),
    }
