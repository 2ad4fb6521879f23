"""``ocpikit serve --workers 4``: four processes of one CPO platform on one database and one
port, under load (docs/server.md, "Several processes"). Every Session pushed through the
backend API (spread over the four processes by the kernel) reaches the eMSP exactly once, and
a partner unregistered in another process is refused at once by all four."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ocpikit.storage.sql import SqlStorage
from tests.contract.server.test_versions_matrix import head_session

from ._nodes import Databases, Instance, until

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer e2e-admin"}
SESSIONS = 120


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


def _push(cpo: Instance, index: int) -> int:
    sid = f"W-{index:04d}"
    body = head_session(sid, f"2026-01-01T10:{index % 60:02d}:00Z")
    r = httpx.put(f"{cpo.url}/admin/api/sessions/NL/CPO/{sid}", json=body, headers=ADMIN)
    return r.status_code


def _versions(cpo: Instance, token: str) -> int:
    header = f"Token {base64.b64encode(token.encode()).decode()}"
    # a fresh connection each time: the kernel hands it to any of the four workers
    with httpx.Client(timeout=10) as http:
        return http.get(f"{cpo.url}/ocpi/versions", headers={"Authorization": header}).status_code


def test_four_workers_push_once_and_refuse_a_revoked_token_at_once(
    nodes: tuple[Instance, Instance],
) -> None:
    cpo, emsp = nodes
    cpo.start("--demo", "--workers", "4", timeout=120)  # four processes start on 2 cores
    emsp.start()
    invite = json.loads(cpo.cli("invite").stdout)
    reg = emsp.cli("register", "--versions-url", invite["versions_url"], "--token", invite["token"])
    assert reg.returncode == 0, reg.stderr
    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(lambda i: _push(cpo, i), range(SESSIONS))) == {201}

    def arrived() -> int | None:
        r = httpx.get(
            f"{emsp.url}/admin/api/sessions?owner=NL-CPO&limit=1000", headers=ADMIN, timeout=10
        )
        ids = {i["object"]["id"] for i in r.json()["items"]}
        n = len({s for s in ids if s.startswith("W-")})
        return n if n == SESSIONS else None

    until(arrived, "every session at the eMSP", 60, cpo, emsp)
    # a partner's token, refused by every worker at once after `ocpikit unregister`
    token = emsp.run(_token_to_cpo)
    assert {_versions(cpo, token) for _ in range(24)} == {200}
    assert cpo.cli("unregister", "DE-MSP").returncode == 0
    assert {_versions(cpo, token) for _ in range(24)} == {401}
    # exactly once: the eMSP logged one PUT per session (its log is flushed at stop)
    emsp.stop()
    puts = Counter(emsp.run(_session_puts))
    assert len(puts) == SESSIONS and set(puts.values()) == {1}, puts.most_common(3)
    log = (cpo.workdir / "serve.log").read_text()  # the whole of it: cpo.log() is its tail
    workers = {line for line in log.splitlines() if line.startswith("ocpikit worker ")}
    assert len(workers) == 4, log[-4000:]


async def _token_to_cpo(storage: SqlStorage) -> str:
    partner = await storage.partners.get("NL-CPO")
    assert partner is not None and partner.outbound_token
    return partner.outbound_token


async def _session_puts(storage: SqlStorage) -> list[str]:
    found: list[str] = []
    before: int | None = None
    while True:
        batch = await storage.exchanges.recent(limit=500, before_id=before)
        if not batch:
            return found
        for x in batch:
            if x.method == "PUT" and "/sessions/NL/CPO/W-" in x.url:
                found.append(x.url.rsplit("/", 1)[-1])
        before = batch[-1].id
