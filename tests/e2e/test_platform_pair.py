"""Real processes over loopback: an eMSP and a CPO instance of ``ocpikit serve`` register with
each other for every version pair, then the eMSP pulls every location through the pagination
links (issue 3 acceptance), on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ocpikit.storage.sql import SqlStorage

from ._nodes import Databases, Instance

pytestmark = pytest.mark.e2e

VERSIONS = ("2.1.1", "2.2.1", "2.3.0")


@pytest.fixture
def pair(tmp_path: Path, databases: Databases) -> Iterator[tuple[Instance, Instance]]:
    cpo_dir, emsp_dir = tmp_path / "cpo", tmp_path / "emsp"
    cpo = Instance(cpo_dir, "NL-CPO:CPO", databases.new(cpo_dir), versions=",".join(VERSIONS))
    emsp = Instance(emsp_dir, "DE-MSP:EMSP", databases.new(emsp_dir), versions=",".join(VERSIONS))
    try:
        yield cpo, emsp
    finally:
        cpo.close()
        emsp.close()


def _outbound_token(node: Instance, partner_id: str) -> str:
    async def read(storage: SqlStorage) -> str:
        partner = await storage.partners.get(partner_id)
        assert partner is not None and partner.outbound_token
        return partner.outbound_token

    return node.run(read)


def _pull_all(url: str, token: str, version: str) -> list[dict[str, object]]:
    from ocpikit.core.auth import authorization_header, encode_by_default

    headers = {
        "Authorization": authorization_header(token, base64_encode=encode_by_default(version))
    }
    items: list[dict[str, object]] = []
    next_url: str | None = url + "?limit=50"
    with httpx.Client(timeout=30, headers=headers) as http:
        while next_url:
            r = http.get(next_url)
            assert r.status_code == 200, r.text
            items.extend(r.json()["data"])
            total = int(r.headers["X-Total-Count"])
            link = r.headers.get("Link")
            next_url = link[1 : link.index(">")] if link else None
    assert len(items) == total
    return items


def test_register_every_version_pair_and_pull_all_locations(
    pair: tuple[Instance, Instance],
) -> None:
    from ocpikit.models import model_for

    cpo, emsp = pair
    cpo.start("--demo")
    emsp.start()
    for cpo_v in VERSIONS:
        for emsp_v in VERSIONS:
            # reconfigure which versions each side offers: restart with the new setting
            cpo.env["OCPIKIT_VERSIONS"] = cpo_v
            emsp.env["OCPIKIT_VERSIONS"] = emsp_v
            cpo.stop()
            emsp.stop()
            cpo.start()
            emsp.start()
            invite = json.loads(cpo.cli("invite").stdout)
            result = emsp.cli(
                "register", "--versions-url", invite["versions_url"], "--token", invite["token"]
            )
            if cpo_v != emsp_v:
                assert result.returncode == 1, result.stdout
                assert json.loads(result.stderr.strip().splitlines()[-1])["status_code"] == 3002
                continue
            assert result.returncode == 0, result.stderr
            summary = json.loads(result.stdout)
            assert summary["version"] == cpo_v
            partners = json.loads(cpo.cli("partners", "--json").stdout)
            assert [p["id"] for p in partners] == ["DE-MSP"]
            assert partners[0]["version"] == cpo_v
            url = next(e["url"] for e in summary["endpoints"] if e["identifier"] == "locations")
            items = _pull_all(url, _outbound_token(emsp, "NL-CPO"), cpo_v)
            ids = [str(i["id"]) for i in items]
            assert len(ids) == 300 and len(set(ids)) == 300
            model = model_for(cpo_v, "Location")
            for item in items[::37]:
                model.model_validate(item)
            assert cpo.cli("unregister", "DE-MSP").returncode == 0
            assert emsp.cli("unregister", "NL-CPO").returncode == 0
