"""The operator console in a real browser: headless Chromium (the Debian ``chromium`` package)
driven by Playwright against two real ``ocpikit serve`` processes (a CPO and an eMSP) over
loopback. It signs in (as a configured user at the CPO, with the admin token at the eMSP),
registers the eMSP with the CPO through the invite page and the register form, watches a
session pushed by the CPO arrive in the eMSP's live traffic tail (and reaches it again from the
session on the Objects page), makes a push fail into a dead letter (a switch set on the
partner page, the eMSP stopped), replays it from the Queue page once the eMSP is back and sees
it delivered, and sends START_SESSION from the Commands page and sees its result. A screenshot
of each page goes to ``$OCPIKIT_SCREENSHOTS`` (default: the test's tmp dir).

Skipped, with the reason, only when chromium is not installed (``.ci/run`` installs it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocpikit.server.console.passwords import hash_password
from tests.contract.server.test_versions_matrix import head_session

from ._nodes import Databases, Instance, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADMIN = {"Authorization": "Bearer e2e-admin"}
CHROMIUM = shutil.which("chromium")
PASSWORD = "console e2e password"
TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "CONSOLE-1",
    "type": "RFID",
    "contract_id": "DE-MSP-CONSOLE1",
    "issuer": "e2e",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": "2026-01-01T00:00:00Z",
}


@pytest.fixture
def nodes(tmp_path: Path, databases: Databases) -> Iterator[tuple[Instance, Instance]]:
    users = f'[console.users]\nops = "{hash_password(PASSWORD, iterations=20_000)}"\n'
    cpo_dir, emsp_dir = tmp_path / "cpo", tmp_path / "emsp"
    cpo = Instance(cpo_dir, "NL-CPO:CPO", databases.new(cpo_dir), config=users)
    # a restarted eMSP does not pull: what reaches it after the replay is the push itself
    emsp = Instance(
        emsp_dir,
        "DE-MSP:EMSP",
        databases.new(emsp_dir),
        config="[outbox]\nresync_on_return = false\n",
    )
    try:
        yield cpo, emsp
    finally:
        cpo.close()
        emsp.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("OCPIKIT_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sign_in(page: Any, node: Instance, user: str, password: str, shots: Path) -> None:
    page.goto(f"{node.url}/console")
    page.wait_for_selector("form#login")
    page.screenshot(path=str(shots / "login.png"), full_page=True)
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    page.click("form#login button[type=submit]")
    page.wait_for_selector("h1:has-text('Partners and parties')")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_console_in_chromium(nodes: tuple[Instance, Instance], shots: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    cpo, emsp = nodes
    cpo.start("--demo")
    emsp.start()
    with (
        sync_playwright() as pw,
        httpx.Client(base_url=cpo.url, headers=ADMIN, timeout=10) as c,
        httpx.Client(base_url=emsp.url, headers=ADMIN, timeout=10) as e,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # one context per platform: cookies do not tell ports apart
        at_cpo = browser.new_context().new_page()
        at_emsp = browser.new_context().new_page()
        at_cpo.set_default_timeout(20_000)
        at_emsp.set_default_timeout(20_000)

        # 1. sign in; the CPO invites through its console, the eMSP registers through its own
        _sign_in(at_cpo, cpo, "ops", PASSWORD, shots)
        at_cpo.click("form#invite button[type=submit]")
        token = at_cpo.inner_text("#invite-token").strip()
        versions_url = at_cpo.inner_text("#invite-url").strip()
        assert versions_url == f"{cpo.url}/ocpi/versions" and len(token) > 20
        at_cpo.screenshot(path=str(shots / "invite.png"), full_page=True)
        _sign_in(at_emsp, emsp, "", "e2e-admin", shots)
        at_emsp.fill("form#register input[name=versions_url]", versions_url)
        at_emsp.fill("form#register input[name=token]", token)
        at_emsp.click("form#register button[type=submit]")
        at_emsp.wait_for_selector(".message:has-text('Registered with NL-CPO')")
        assert "REGISTERED" in at_emsp.inner_text("#partners tr[data-partner='NL-CPO']")
        at_emsp.screenshot(path=str(shots / "partners.png"), full_page=True)
        at_cpo.goto(f"{cpo.url}/console/partners")
        at_cpo.wait_for_selector("#partners tr[data-partner='DE-MSP']:has-text('REGISTERED')")

        # 2. a pushed session appears in the eMSP's live tail (no reload)
        at_emsp.goto(f"{emsp.url}/console/traffic")
        at_emsp.wait_for_selector("#traffic-rows")
        at_emsp.evaluate("window.__notReloaded = true")
        session = head_session("CONSOLE-S1", "2026-01-01T10:00:00Z")
        assert c.put("/admin/api/sessions/NL/CPO/CONSOLE-S1", json=session).status_code == 201
        row = "#traffic-rows tr:has-text('/sessions/NL/CPO/CONSOLE-S1')"
        at_emsp.wait_for_selector(row)
        assert "PUT" in at_emsp.inner_text(row)
        assert at_emsp.evaluate("window.__notReloaded") is True
        at_emsp.screenshot(path=str(shots / "traffic.png"), full_page=True)
        at_emsp.click(f"{row} a")
        at_emsp.wait_for_selector("h1:has-text('Exchange')")
        at_emsp.screenshot(path=str(shots / "exchange.png"), full_page=True)
        # from the session to the exchanges that touched it
        at_emsp.goto(f"{emsp.url}/console/objects?module=sessions")
        at_emsp.click("tr[id='obj-CONSOLE-S1'] a.trace")
        at_emsp.wait_for_selector(row)
        at_emsp.goto(f"{emsp.url}/console/objects?module=locations")
        at_emsp.wait_for_selector("svg#map circle")
        at_emsp.screenshot(path=str(shots / "objects.png"), full_page=True)

        # 3. a dead letter: one attempt per delivery to the eMSP, and the eMSP is down
        at_cpo.goto(f"{cpo.url}/console/partners/DE-MSP")
        at_cpo.fill("#switch-form input[name=name]", "max_attempts")
        at_cpo.fill("#switch-form input[name=value]", "1")
        at_cpo.click("#switch-form button[type=submit]")
        at_cpo.wait_for_selector(".message:has-text('Switches saved')")
        at_cpo.screenshot(path=str(shots / "partner.png"), full_page=True)
        emsp.stop()
        late = head_session("CONSOLE-S2", "2026-01-01T11:00:00Z")
        assert c.put("/admin/api/sessions/NL/CPO/CONSOLE-S2", json=late).status_code == 201

        def dead_letter() -> bool | None:
            at_cpo.goto(f"{cpo.url}/console/queue")
            return True if at_cpo.locator("#dead tr[data-entry]").count() else None

        until(dead_letter, "a dead letter on the Queue page", 30, cpo)
        assert "CONSOLE-S2" in at_cpo.inner_text("#dead")
        at_cpo.screenshot(path=str(shots / "queue.png"), full_page=True)
        emsp.start()
        at_cpo.click("#dead tr[data-entry] button[value=replay]")
        at_cpo.wait_for_selector(".message:has-text('Replayed 1')")

        def delivered() -> bool | None:
            at_cpo.goto(f"{cpo.url}/console/queue")
            empty = at_cpo.locator("#dead tr[data-entry]").count() == 0
            idle = "Nothing waiting" in at_cpo.inner_text("#waiting")
            return True if empty and idle else None

        until(delivered, "the replayed letter delivered", 30, cpo, emsp)
        # the eMSP received the push itself (it does not pull on restart here); the session
        # survived the restart (its secret is a platform fact in the database)
        at_emsp.goto(f"{emsp.url}/console/traffic?object=CONSOLE-S2")
        at_emsp.wait_for_selector("#traffic-rows tr:has-text('PUT')")
        assert e.get("/admin/api/sessions?owner=NL-CPO").json()["total"] >= 2

        # 4. START_SESSION from the console; the CPO's operator reports ACCEPTED
        assert e.put("/admin/api/tokens/DE/MSP/CONSOLE-1", json=TOKEN).status_code == 201
        at_emsp.goto(f"{emsp.url}/console/commands")
        at_emsp.wait_for_selector("#send-command")
        at_emsp.select_option("#send-command select[name=partner]", "NL-CPO")
        at_emsp.select_option("#command-name", "START_SESSION")
        assert "CONSOLE-1" in at_emsp.input_value("#command-body")
        at_emsp.screenshot(path=str(shots / "commands.png"), full_page=True)
        at_emsp.click("#send-command button[type=submit]")
        at_emsp.wait_for_selector("#command-state")

        def received() -> Any:
            rows = c.get("/admin/api/commands?direction=received").json()
            return rows or None

        [command] = until(received, "the command at the CPO", 20, cpo)
        r = c.post(f"/admin/api/commands/{command['id']}/result", json={"result": "ACCEPTED"})
        assert r.status_code == 200, r.text
        at_emsp.wait_for_selector("#command-state.final:has-text('ACCEPTED')")
        at_emsp.screenshot(path=str(shots / "command.png"), full_page=True)

        # the remaining pages
        for name in ("sync", "disputes"):
            at_emsp.goto(f"{emsp.url}/console/{name}")
            at_emsp.wait_for_selector("h1")
            at_emsp.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        browser.close()
    taken = sorted(p.name for p in shots.glob("*.png"))
    for name in ("login", "invite", "partners", "partner", "traffic", "exchange", "objects"):
        assert f"{name}.png" in taken
    assert all((shots / n).stat().st_size > 2000 for n in taken)
