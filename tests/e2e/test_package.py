"""The package stands on its own: ``python -m build`` gives a wheel and an sdist, and the wheel,
installed into a fresh virtual environment, serves the demo platform from an empty folder
(migrations and every data file the package needs are inside the wheel)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from ._nodes import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]} {result.stderr[-2000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build backend comes from the dev environment (no download)
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


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


def test_the_wheel_serves_the_demo_in_a_fresh_venv(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("ocpikit-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    # the dependencies come from this environment's site-packages (appended after the fresh
    # venv's own, so the wheel's ocpikit wins); ocpikit itself only from the wheel
    fresh_site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    )
    (fresh_site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel)
    where = _run(python, "-c", "import ocpikit; print(ocpikit.__file__)").strip()
    assert where.startswith(str(fresh_site)), where

    empty = tmp_path / "empty"
    empty.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCPIKIT_")}
    with (tmp_path / "serve.log").open("w") as log:
        proc = subprocess.Popen(
            [venv / "bin" / "ocpikit", "serve", "--demo", "--port", str(port)],
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
