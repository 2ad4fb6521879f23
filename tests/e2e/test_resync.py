"""The eMSP catches up after its own restart (issue 4): when ``ocpikit serve`` starts, it pulls
from every registered partner what changed since its last successful sync
(``outbox.resync_on_return``, on by default; ``ocpikit.client.background``).

The CPO runs without its delivery worker, so nothing is pushed: whatever the eMSP has, it pulled.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from ocpikit.core.types import format_datetime, parse_datetime
from ocpikit.protocol.paging import DELTA_OVERLAP
from ocpikit.protocol.ports import ExchangeDirection, OutboxState
from ocpikit.storage.sql import SqlStorage
from tests.contract.server.test_versions_matrix import head_cdr, head_session

from ._nodes import Databases, Instance, until

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}


@pytest.fixture
def nodes(tmp_path: Path, databases: Databases) -> Iterator[tuple[Instance, Instance]]:
    cpo_dir, emsp_dir = tmp_path / "cpo", tmp_path / "emsp"
    cpo = Instance(
        cpo_dir,
        "NL-CPO:CPO",
        databases.new(cpo_dir),
        # the test reads the pages the CPO answered from its exchange log
        config='[outbox]\nworker = false\n\n[exchange_log]\nbodies = "all"\n',
    )
    # no first pull after registration: these tests start from partners never synced
    emsp = Instance(
        emsp_dir, "DE-MSP:EMSP", databases.new(emsp_dir), config="[outbox]\nfirst_pull = false\n"
    )
    try:
        yield cpo, emsp
    finally:
        cpo.close()
        emsp.close()


def _admin(node: Instance) -> httpx.Client:
    return httpx.Client(base_url=node.url, headers=ADMIN, timeout=10)


def _at_emsp(emsp: Instance, module: str) -> dict[str, Any]:
    with _admin(emsp) as e:
        items = e.get(f"/admin/api/{module}?owner=NL-CPO&limit=100").json()["items"]
    return {i["object"]["id"]: i["object"] for i in items}


def _at_cpo(cpo: Instance, module: str, ident: str) -> Any:
    with _admin(cpo) as c:
        return c.get(f"/admin/api/{module}/NL/CPO/{ident}").json()


def test_the_emsp_pulls_what_changed_while_it_was_down(nodes: tuple[Instance, Instance]) -> None:
    cpo, emsp = nodes
    cpo.start()
    emsp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    reg = emsp.cli("register", "--versions-url", invite["versions_url"], "--token", invite["token"])
    assert reg.returncode == 0, reg.stderr

    with _admin(cpo) as c:
        for sid in ("S1", "S2"):
            r = c.put(
                f"/admin/api/sessions/NL/CPO/{sid}", json=head_session(sid, "2026-01-01T10:00:00Z")
            )
            assert r.status_code == 201, r.text
        assert c.put("/admin/api/cdrs/NL/CPO/C1", json=head_cdr("C1")).status_code == 201

    # 1. the eMSP restarts and pulls everything it has never synced (no mark yet: a full pull)
    emsp.stop()
    emsp.start()
    until(
        lambda: _at_emsp(emsp, "sessions").keys() == {"S1", "S2"} or None, "first resync", 30, emsp
    )
    until(lambda: _at_emsp(emsp, "cdrs").keys() == {"C1"} or None, "first resync (CDRs)", 30, emsp)

    async def marks(s: SqlStorage) -> tuple[datetime | None, datetime | None]:
        return (
            await s.partners.get_sync_mark("NL-CPO", "sessions"),
            await s.partners.get_sync_mark("NL-CPO", "cdrs"),
        )

    def both_marks() -> tuple[datetime | None, datetime | None] | None:
        got = emsp.run(marks)
        return got if None not in got else None

    session_mark, cdr_mark = until(both_marks, "the sync marks", 30, emsp)
    assert session_mark is not None and cdr_mark is not None

    # 2. the eMSP is down while the CPO completes S1, starts S3 and writes C2
    emsp.stop()
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    with _admin(cpo) as c:
        done = {"status": "COMPLETED", "kwh": 9.5, "last_updated": format_datetime(now)}
        assert c.patch("/admin/api/sessions/NL/CPO/S1", json=done).status_code == 200
        s3 = head_session("S3", format_datetime(now))
        assert c.put("/admin/api/sessions/NL/CPO/S3", json=s3).status_code == 201
        c2 = {**head_cdr("C2"), "last_updated": format_datetime(now)}
        assert c.put("/admin/api/cdrs/NL/CPO/C2", json=c2).status_code == 201

    # 3. started again, it pulls the changes: S1 final, S3 and C2 new, equal to the CPO's
    emsp.start()

    def caught_up() -> bool | None:
        got = _at_emsp(emsp, "sessions")
        return (
            got.keys() == {"S1", "S2", "S3"}
            and got["S1"] == _at_cpo(cpo, "sessions", "S1")
            and got["S3"] == _at_cpo(cpo, "sessions", "S3")
            and _at_emsp(emsp, "cdrs").keys() == {"C1", "C2"}
        ) or None

    until(caught_up, "the eMSP to catch up after its restart", 30, emsp)
    assert _at_emsp(emsp, "sessions")["S1"]["status"] == "COMPLETED"
    assert _at_emsp(emsp, "cdrs")["C2"] == _at_cpo(cpo, "cdrs", "C2")

    # nothing was pushed: the CPO's outbox still holds what it would have sent
    counts = cpo.run(lambda s: s.outbox.counts())
    assert counts.get(OutboxState.PENDING, 0) > 0, counts

    # 4. the second pull asked only for what changed since the first one started
    cpo.stop()  # flushes the CPO's exchange log
    emsp.stop()

    async def inbound(s: SqlStorage) -> list[Any]:
        return [
            x
            for x in await s.exchanges.recent(limit=1000, partner_id="DE-MSP")
            if x.direction is ExchangeDirection.INBOUND and x.method == "GET"
        ]

    gets = cpo.run(inbound)
    for module, mark, expected in (
        ("sessions", session_mark, {"S1", "S3"}),
        ("cdrs", cdr_mark, {"C2"}),
    ):
        pulls = [x for x in gets if urlsplit(x.url).path.endswith(f"/{module}")]
        assert len(pulls) >= 2, [x.url for x in gets]
        last = max(pulls, key=lambda x: x.id or 0)
        [date_from] = parse_qs(urlsplit(last.url).query)["date_from"]
        # the window opens DELTA_OVERLAP before the mark (an update in the same second)
        opened = mark - DELTA_OVERLAP
        assert abs(parse_datetime(date_from) - opened) < timedelta(seconds=1), (date_from, mark)
        body = orjson.loads(last.response_body or b"{}")
        assert {d["id"] for d in body["data"]} == expected, body
