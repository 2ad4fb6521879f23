"""The package as a user gets it: the wheel built from this tree, installed into a fresh virtual
environment (shared by the tests of ``test_package.py`` and ``test_pytest_plugin.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def clean_env() -> dict[str, str]:
    """This process's environment without what would let a fresh venv see this source tree or
    this run's settings (``PYTHONPATH``, ``PYTEST_*``, ``OCPIKIT_*``)."""
    return {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONPATH" and not k.startswith(("PYTEST_", "OCPIKIT_"))
    }


def run(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> str:
    """The command's stdout; with ``check``, an assertion error with its output if it fails."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"{args}: {result.stdout[-2000:]} {result.stderr[-2000:]}"
    return result.stdout


def build(out: Path) -> Path:
    """``python -m build`` of this tree into ``out`` (a wheel and an sdist)."""
    # --no-isolation: the build backend comes from the dev environment (no download)
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


@dataclass
class FreshVenv:
    root: Path
    site: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.root / "bin" / name


def fresh_venv(wheel: Path, root: Path) -> FreshVenv:
    """A new virtual environment with ocpikit installed from ``wheel`` only. Its dependencies
    (and pytest) come from this environment's site-packages, appended after the fresh venv's
    own, so the wheel's ocpikit and its metadata (entry points) win; nothing is downloaded."""
    env = clean_env()
    run(sys.executable, "-m", "venv", root, env=env)
    python = root / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(run(python, "-c", purelib, env=env).strip())
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, env=env)
    where = run(python, "-c", "import ocpikit; print(ocpikit.__file__)", env=env).strip()
    assert where.startswith(str(site)), where
    return FreshVenv(root, site)
