"""Real processes over loopback: an eMSP and a CPO instance of ``ocpikit serve`` register with
each other for every version pair, then the eMSP pulls every location through the pagination
links (issue 3 acceptance)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

VERSIONS = ("2.1.1", "2.2.1", "2.3.0")
OCPIKIT = [sys.executable, "-m", "ocpikit.cli.main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Instance:
    def __init__(self, workdir: Path, party: str, versions: str) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.env = {
            **os.environ,
            "OCPIKIT_PARTY": party,
            "OCPIKIT_VERSIONS": versions,
            "OCPIKIT_PORT": str(self.port),
            "OCPIKIT_ADMIN_TOKEN": "e2e-admin",
        }
        self.proc: subprocess.Popen[str] | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*OCPIKIT, *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def start(self, *extra: str) -> None:
        with (self.workdir / "serve.log").open("a") as log:
            self.proc = subprocess.Popen(
                [*OCPIKIT, "serve", *extra],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{self.port}/ocpi/versions", timeout=1)
                if r.status_code == 401:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    cpo_dir, emsp_dir = tmp_path / "cpo", tmp_path / "emsp"
    cpo_dir.mkdir()
    emsp_dir.mkdir()
    cpo = Instance(cpo_dir, "NL-CPO:CPO", ",".join(VERSIONS))
    emsp = Instance(emsp_dir, "DE-MSP:EMSP", ",".join(VERSIONS))
    yield cpo, emsp
    cpo.stop()
    emsp.stop()


def _outbound_token(workdir: Path, partner_id: str) -> str:
    from ocpikit.storage.sql import SqlStorage

    async def read() -> str:
        storage = SqlStorage.from_url(f"sqlite:///{workdir / 'ocpikit.db'}")
        try:
            partner = await storage.partners.get(partner_id)
            assert partner is not None and partner.outbound_token
            return partner.outbound_token
        finally:
            await storage.aclose()

    return asyncio.run(read())


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
            items = _pull_all(url, _outbound_token(emsp.workdir, "NL-CPO"), cpo_v)
            ids = [str(i["id"]) for i in items]
            assert len(ids) == 300 and len(set(ids)) == 300
            model = model_for(cpo_v, "Location")
            for item in items[::37]:
                model.model_validate(item)
            assert cpo.cli("unregister", "DE-MSP").returncode == 0
            assert emsp.cli("unregister", "NL-CPO").returncode == 0
