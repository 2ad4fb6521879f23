"""What a new user does first, with real ``ocpikit serve`` processes: the URL partners get is the
URL that works (``--port``, ``--base-url``, a warning for ``--host 0.0.0.0``), and registration is
followed by a first pull, both ways, with no other command."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocpikit.core.auth import authorization_header
from ocpikit.protocol.ports import ANY_OWNER
from ocpikit.storage.sql import SqlStorage

from ._nodes import Instance, free_port, until

pytestmark = pytest.mark.e2e


def _node(tmp_path: Path, name: str, party: str) -> Instance:
    node = Instance(tmp_path / name, party, f"sqlite:///{tmp_path / name / 'p.db'}")
    del node.env["OCPIKIT_PORT"]  # only serve's --port says where it listens
    return node


def _versions_answer(invite: dict[str, Any]) -> list[dict[str, Any]]:
    auth = authorization_header(invite["token"], base64_encode=True)
    r = httpx.get(invite["versions_url"], headers={"Authorization": auth}, timeout=10)
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()["data"]
    return data


def test_invite_prints_the_url_serve_listens_on(tmp_path: Path) -> None:
    node = _node(tmp_path, "cpo", "NL-CPO:CPO")
    try:
        node.start("--port", str(node.port))
        result = node.cli("invite")
        assert result.returncode == 0, result.stderr
        invite = json.loads(result.stdout)
        assert invite["versions_url"] == f"http://127.0.0.1:{node.port}/ocpi/versions"
        assert {v["version"] for v in _versions_answer(invite)} >= {"2.2.1"}
        node.stop()

        node.start("--port", str(node.port), "--base-url", f"http://localhost:{node.port}/")
        # invitations are open: a restart prints no new token A (serve --invite would)
        assert "token A:      none printed" in node.log()
        invite = json.loads(node.cli("invite").stdout)
        assert invite["versions_url"] == f"http://localhost:{node.port}/ocpi/versions"
        assert _versions_answer(invite)
        assert "warning" not in node.log()
    finally:
        node.close()


def test_listening_on_every_address_without_a_base_url_warns(tmp_path: Path) -> None:
    node = _node(tmp_path, "cpo", "NL-CPO:CPO")
    try:
        node.start("--host", "0.0.0.0", "--port", str(node.port))
        log = node.log()
        assert "warning: listening on 0.0.0.0 without --base-url" in log
        assert f"http://127.0.0.1:{node.port}/ocpi/versions" in log
    finally:
        node.close()


def test_a_bad_base_url_is_refused(tmp_path: Path) -> None:
    node = _node(tmp_path, "cpo", "NL-CPO:CPO")
    result = node.cli("serve", "--port", str(free_port()), "--base-url", "ftp://x.example")
    assert result.returncode == 2
    assert "--base-url" in result.stderr and "http(s)" in result.stderr


def _count(node: Instance, kind: str, owner: str) -> int:
    async def read(storage: SqlStorage) -> int:
        page = await storage.objects.list_page(kind, limit=1, owner=owner)
        return page.total

    return node.run(read)


def _reaches(node: Instance, kind: str, owner: str, n: int) -> None:
    until(lambda: True if _count(node, kind, owner) == n else None, f"{n} {kind}", 30, node)


def test_registration_is_followed_by_a_first_pull_both_ways(tmp_path: Path) -> None:
    cpo = _node(tmp_path, "cpo", "NL-CPO:CPO")
    emsp = _node(tmp_path, "emsp", "DE-MSP:EMSP")
    try:
        cpo.start("--demo", "--port", str(cpo.port))
        emsp.start("--demo", "--port", str(emsp.port))
        invite = json.loads(cpo.cli("invite").stdout)
        result = emsp.cli(
            "register", "--versions-url", invite["versions_url"], "--token", invite["token"]
        )
        assert result.returncode == 0, result.stderr
        # we registered with the CPO: its locations arrive without `ocpikit pull`
        _reaches(emsp, "Location", "NL-CPO", 300)
        until(lambda: _count(emsp, "Tariff", "NL-CPO") or None, "tariffs", 30, emsp)
        # the eMSP registered with the CPO: the CPO pulls the eMSP's tokens
        _reaches(cpo, "Token", "DE-MSP", 50)

        partners = json.loads(emsp.cli("partners", "--json").stdout)
        sync = partners[0]["sync"]
        assert sync["locations"]["objects"] == 300 and sync["locations"]["last_sync"]
        table = emsp.cli("partners").stdout
        assert "LAST SYNC" in table and "locations" in table and "300" in table
    finally:
        cpo.close()
        emsp.close()


def test_first_pull_can_be_turned_off(tmp_path: Path) -> None:
    cpo = _node(tmp_path, "cpo", "NL-CPO:CPO")
    emsp = _node(tmp_path, "emsp", "DE-MSP:EMSP")
    (emsp.workdir / "ocpikit.toml").write_text("[outbox]\nfirst_pull = false\n")
    try:
        cpo.start("--demo", "--port", str(cpo.port))
        emsp.start("--port", str(emsp.port))
        invite = json.loads(cpo.cli("invite").stdout)
        registered = emsp.cli(
            "register", "--versions-url", invite["versions_url"], "--token", invite["token"]
        )
        assert registered.returncode == 0, registered.stderr
        assert "first-pull" not in emsp.log()

        async def everything(storage: SqlStorage) -> int:
            page = await storage.objects.list_page("Location", limit=1, owner=ANY_OWNER)
            return page.total

        time.sleep(3)
        assert emsp.run(everything) == 0
    finally:
        cpo.close()
        emsp.close()


def test_a_partner_on_a_private_address_is_refused_unless_allowed(tmp_path: Path) -> None:
    """The URL policy (docs/security.md) with real processes: a partner whose versions URL is
    on loopback is not called until ``[security] allowed_hosts`` names it."""
    cpo = _node(tmp_path, "cpo", "NL-CPO:CPO")
    emsp = _node(tmp_path, "emsp", "DE-MSP:EMSP")
    del emsp.env["OCPIKIT_ALLOWED_HOSTS"]
    try:
        cpo.start("--port", str(cpo.port))
        invite = json.loads(cpo.cli("invite").stdout)
        refused = emsp.cli(
            "register", "--versions-url", invite["versions_url"], "--token", invite["token"]
        )
        assert refused.returncode == 1
        error = json.loads(refused.stderr.strip().splitlines()[-1])
        assert error["status_code"] == 3001
        assert "loopback" in error["error"] and invite["versions_url"] in error["error"]
        assert json.loads(emsp.cli("partners", "--json").stdout) == []

        (emsp.workdir / "ocpikit.toml").write_text('[security]\nallowed_hosts = ["127.0.0.1"]\n')
        emsp.start("--port", str(emsp.port))
        allowed = emsp.cli(
            "register", "--versions-url", invite["versions_url"], "--token", invite["token"]
        )
        assert allowed.returncode == 0, allowed.stderr
    finally:
        cpo.close()
        emsp.close()


def test_a_credentials_url_on_loopback_is_never_called(tmp_path: Path) -> None:
    """A hostile partner hands us our own admin API as its versions URL: refused, not called."""
    cpo = _node(tmp_path, "cpo", "NL-CPO:CPO")
    del cpo.env["OCPIKIT_ALLOWED_HOSTS"]
    try:
        cpo.start("--port", str(cpo.port))
        invite = json.loads(cpo.cli("invite").stdout)
        auth = authorization_header(invite["token"], base64_encode=True)
        credentials = {
            "token": "their-token-b-0123456789",
            "url": f"http://127.0.0.1:{cpo.port}/admin/api/partners",
            "roles": [
                {
                    "role": "EMSP",
                    "party_id": "EVL",
                    "country_code": "DE",
                    "business_details": {"name": "Evil"},
                }
            ],
        }
        r = httpx.post(
            f"http://127.0.0.1:{cpo.port}/ocpi/2.2.1/credentials",
            json=credentials,
            headers={"Authorization": auth},
            timeout=10,
        )
        assert r.json()["status_code"] == 3001, r.text
        assert "loopback" in r.json()["status_message"]
        assert json.loads(cpo.cli("partners", "--json").stdout) == []
    finally:
        cpo.close()
