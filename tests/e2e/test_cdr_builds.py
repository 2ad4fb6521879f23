"""Two real ``ocpikit serve`` processes over loopback: a CPO with ``[cdrs] build = "auto"``
ends a session through its backend API; the platform builds the CDR from the session, the
connector's tariff and the location and pushes it; the eMSP receives it and its check verdict
is ``ok``. A correction (``ocpikit cdr credit``) sends a Credit CDR and a new CDR, both checked
``ok``; the CPO's Invoice Reconciliation record of the three reaches the eMSP, whose check of
it finds no difference (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.contract.server.test_cdr_builds import FINAL, location, session
from tests.contract.server.test_cdr_checks import TARIFF

from ._nodes import Databases, Instance, until

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}
V = "?version=2.2.1"


@pytest.fixture
def nodes(tmp_path: Path, databases: Databases) -> Iterator[tuple[Instance, Instance]]:
    cpo_dir, emsp_dir = tmp_path / "cpo", tmp_path / "emsp"
    cpo = Instance(cpo_dir, "NL-CPO:CPO", databases.new(cpo_dir), config='[cdrs]\nbuild = "auto"\n')
    emsp = Instance(emsp_dir, "DE-MSP:EMSP", databases.new(emsp_dir))  # 2.3.0 between them
    try:
        yield cpo, emsp
    finally:
        cpo.close()
        emsp.close()


def _checks(emsp: Instance) -> dict[str, Any]:
    with httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e:
        rows = e.get("/admin/api/cdr-checks").json()
    return {r["cdr_id"]: r for r in rows if r["state"] == "done"}


def _delivered(emsp: Instance, session_id: str) -> bool | None:
    """Whether the eMSP holds the CPO's tariff T1, location LOC00001 and session."""
    wanted = {"tariffs": "T1", "locations": "LOC00001", "sessions": session_id}
    with httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e:
        for module, object_id in wanted.items():
            items = e.get(f"/admin/api/{module}?owner=NL-CPO&version=2.2.1").json()["items"]
            if not any(i["object"]["id"] == object_id for i in items):
                return None
    return True


def test_a_session_ended_at_the_cpo_becomes_a_cdr_checked_ok_at_the_emsp(
    nodes: tuple[Instance, Instance],
) -> None:
    cpo, emsp = nodes
    cpo.start()
    emsp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    reg = emsp.cli("register", "--versions-url", invite["versions_url"], "--token", invite["token"])
    assert reg.returncode == 0, reg.stderr
    with httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c:
        for path, body in (
            (f"/admin/api/tariffs/NL/CPO/T1{V}", TARIFF),
            (f"/admin/api/locations/NL/CPO/LOC00001{V}", location(["T1"])),
            (f"/admin/api/sessions/NL/CPO/S1{V}", session("S1")),
        ):
            r = c.put(path, json=body)
            assert r.status_code == 201, r.text
        r = c.patch(f"/admin/api/sessions/NL/CPO/S1{V}", json=FINAL)
        assert r.status_code == 200, r.text

    got = until(
        lambda: _checks(emsp).get("S1"), "the built CDR checked at the eMSP", 30.0, cpo, emsp
    )
    assert (got["partner"], got["verdict"], got["reasons"]) == ("NL-CPO", "ok", []), got
    with httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e:
        items = e.get("/admin/api/cdrs?owner=NL-CPO&version=2.2.1").json()["items"]
    cdr = next(i["object"] for i in items if i["object"]["id"] == "S1")
    assert Decimal(str(cdr["total_cost"]["excl_vat"])) == Decimal("3.00")
    assert Decimal(str(cdr["total_cost"]["incl_vat"])) == Decimal("3.30")
    with httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c:
        builds = c.get("/admin/api/cdr-builds").json()
    assert [(b["session_id"], b["state"], b["cdr_id"]) for b in builds] == [("S1", "built", "S1")]

    out = cpo.cli("cdr", "credit", "S1", "--json")
    assert out.returncode == 0, out.stderr
    done = json.loads(out.stdout)
    assert (done["credit"]["id"], done["cdr"]["id"]) == ("S1-C", "S1-2")

    def corrected() -> Any:
        # the new CDR may be checked before its credit arrives and found a duplicate: the
        # credit's check queues it again, so its final verdict is awaited, not its first
        rows = _checks(emsp)
        if not {"S1-C", "S1-2"} <= set(rows) or rows["S1-2"]["verdict"] != "ok":
            return None
        return rows

    rows = until(corrected, "the credit CDR and the new CDR checked", 30.0, cpo, emsp)
    assert rows["S1-C"]["verdict"] == "ok", rows["S1-C"]
    # the new CDR bills the session S1 again, after its credit: not a duplicate
    assert rows["S1-2"]["verdict"] == "ok", rows["S1-2"]

    # the CPO invoices the three (Invoice Reconciliation, 2.3.0): the eMSP checks the record
    record = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "R1",
        "invoice_id": "INV-2026-01",
        "cdrs": ["S1", "S1-C", "S1-2"],
        "last_updated": "2026-02-01T00:00:00Z",
    }
    with httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c:
        r = c.put("/admin/api/invoicereconciliation/NL/CPO/R1", json=record)
        assert r.status_code == 201, r.text

    def reconciled() -> Any:
        with httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e:
            return e.get("/admin/api/invoice-checks?partner=NL-CPO").json() or None

    (row,) = until(reconciled, "the invoice record checked at the eMSP", 30.0, cpo, emsp)
    assert (row["record_id"], row["verdict"], row["declared_total"]["excl_vat"]) == (
        "R1",
        "ok",
        "3.00",
    ), row


def test_a_session_ended_just_before_a_crash_still_becomes_a_cdr(
    nodes: tuple[Instance, Instance],
) -> None:
    """The final PATCH is committed, the process dies before the build: the build was queued
    in the PATCH's transaction, and the restarted CPO builds and pushes the CDR."""
    cpo, emsp = nodes
    cpo.start()
    emsp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    reg = emsp.cli("register", "--versions-url", invite["versions_url"], "--token", invite["token"])
    assert reg.returncode == 0, reg.stderr
    with httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c:
        for path, body in (
            (f"/admin/api/tariffs/NL/CPO/T1{V}", TARIFF),
            (f"/admin/api/locations/NL/CPO/LOC00001{V}", location(["T1"])),
            (f"/admin/api/sessions/NL/CPO/S9{V}", session("S9")),
        ):
            r = c.put(path, json=body)
            assert r.status_code == 201, r.text
    # what the test is about is the crash between the final PATCH and the build: the three
    # pushes reach the eMSP before it (a push lost in the kill is sent again after the restart,
    # beside the CDR, and a CDR checked before its tariff or session arrive is disputed)
    until(lambda: _delivered(emsp, "S9"), "the tariff, location and session at the eMSP", 30.0)
    cpo.kill()

    async def final_patch(storage: Any) -> None:
        from ocpikit.operations import patch_own_object
        from ocpikit.protocol.ports import ObjectKey

        def merge(current: dict[str, Any]) -> dict[str, Any]:
            return {**current, **FINAL}

        stored = await patch_own_object(storage, ObjectKey("Session", "NL", "CPO", "S9"), merge)
        assert stored is not None
        builds = await storage.cdr_builds.listing()
        assert [(b.session_id, b.state.value) for b in builds] == [("S9", "pending")]

    cpo.run(final_patch)
    cpo.start()
    got = until(lambda: _checks(emsp).get("S9"), "the CDR built after the restart", 60.0, cpo, emsp)
    assert got["verdict"] == "ok", got
