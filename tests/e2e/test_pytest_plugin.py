"""The test kit's pytest plugin from a user's point of view: in a fresh virtual environment with
only ocpikit installed (from the wheel), a project's own tests use ``ocpi_cpo``, ``ocpi_emsp``
and ``ocpi_hub`` without any configuration (the ``pytest11`` entry point), in sync and async
tests, with a fault mode from the ``ocpi`` marker and every test run once per version given to
``--ocpi-version``."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from ._package import FreshVenv, clean_env, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: every user test runs once per version
VERSIONS = ["--ocpi-version", "2.1.1,2.2.1"]

USER_TESTS = """
import httpx
import pytest


def test_my_cdr_flow(ocpi_cpo, ocpi_emsp, ocpi_version):
    # the emulated eMSP stands in for "my platform": it registers with token A
    registration = ocpi_emsp.register_with(ocpi_cpo.versions_url, ocpi_cpo.token_a)
    assert registration["version"] == ocpi_version
    assert ocpi_cpo.state()["registration"]["initiated_by"] == "platform"
    pushed = ocpi_cpo.push("cdrs", count=2)
    assert [r["status_code"] for r in pushed] == [1000, 1000]
    got = ocpi_emsp.wait_received(method="POST", module="cdrs", count=2)
    assert [r["body"]["id"] for r in got] == [r["id"] for r in pushed]
    assert {r["module"] for r in ocpi_cpo.received()} == {"versions", "credentials"}


@pytest.mark.ocpi(faults=["server-error:every=1,on=all,status=503"], seed=3)
def test_a_partner_that_fails(ocpi_cpo):
    answer = httpx.get(
        ocpi_cpo.versions_url,
        headers={"Authorization": "Token " + ocpi_cpo.token_a},
        trust_env=False,
    )
    assert answer.status_code == 503
    assert ocpi_cpo.state()["faults_injected"] == {"server-error": 1}


@pytest.mark.anyio
async def test_an_async_test_with_a_hub(ocpi_hub):
    state = await ocpi_hub.aio.state()
    assert [p["party"] for p in state["parties"]][:2] == ["DE-HUB", "DE-AAA"]
    assert ocpi_hub.received() == []
"""


def test_a_user_project_runs_its_tests_against_emulated_partners(
    dist: Path, installed: FreshVenv, tmp_path: Path
) -> None:
    (wheel,) = dist.glob("ocpikit-*.whl")
    with zipfile.ZipFile(wheel) as whl:
        (ep,) = [n for n in whl.namelist() if n.endswith(".dist-info/entry_points.txt")]
        entry_points = whl.read(ep).decode()
    assert "[pytest11]\nocpikit = ocpikit.testing.pytest_plugin" in entry_points

    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    (project / "test_with_partners.py").write_text(USER_TESTS)
    # nothing of this run's source tree or pytest settings reaches the user's run
    env = clean_env()
    result = subprocess.run(
        [installed.python, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-rs", *VERSIONS],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    # pytest's header names the plugins loaded by their entry points
    (plugins,) = [line for line in out.splitlines() if line.startswith("plugins:")]
    assert "ocpikit-0.1.0" in plugins, plugins
    plugin = "import ocpikit.testing.pytest_plugin as p; print(p.__file__)"
    where = run(installed.python, "-c", plugin, env=env)
    assert where.startswith(str(installed.site / "ocpikit")), where
    assert "5 passed, 1 skipped" in out, out
    assert "test_my_cdr_flow[ocpi2.1.1] PASSED" in out
    assert "OCPI 2.1.1 has no hubs" in out
