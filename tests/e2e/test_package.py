"""The package stands on its own: ``python -m build`` gives a wheel and an sdist, and the wheel,
installed into a fresh virtual environment, serves the demo platform from an empty folder
(migrations and every data file the package needs are inside the wheel)."""

from __future__ import annotations

import subprocess
import tarfile
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from ._nodes import free_port
from ._package import ROOT, FreshVenv, clean_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_build_gives_a_wheel_and_an_sdist_with_the_migrations(dist: Path) -> None:
    (wheel,) = dist.glob("ocpikit-*.whl")
    (sdist,) = dist.glob("ocpikit-*.tar.gz")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ocpikit/py.typed" in names
    migrations = {n for n in names if n.startswith("ocpikit/storage/migrations/versions/0")}
    assert len(migrations) >= 4
    assert any(n.endswith("/licenses/LICENSE") for n in names)
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert any(m.endswith("/LICENSE") for m in members)
    assert any(m.endswith("/src/ocpikit/storage/migrations/script.py.mako") for m in members)


def test_the_wheel_serves_the_demo_in_a_fresh_venv(installed: FreshVenv, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    port = free_port()
    env = clean_env()
    with (tmp_path / "serve.log").open("w") as log:
        proc = subprocess.Popen(
            [installed.bin("ocpikit"), "serve", "--demo", "--port", str(port)],
            cwd=empty,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/ocpi/versions", timeout=1).status_code
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        output = (tmp_path / "serve.log").read_text()
        assert status == 401, output  # up, and asking for a token
        assert "demo data: 300 locations" in output
        assert f"http://127.0.0.1:{port}/ocpi/versions" in output
        assert (empty / "ocpikit.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    # everything serve leaves behind is covered by the repository's .gitignore
    left = sorted(p.name for p in empty.iterdir())
    assert {"ocpikit.db", ".ocpikit-admin-token"} <= set(left), left
    for name in left:
        ignored = subprocess.run(
            ["git", "-C", ROOT, "check-ignore", "-q", "--no-index", name], check=False
        )
        assert ignored.returncode == 0, f"{name} is not in .gitignore"
