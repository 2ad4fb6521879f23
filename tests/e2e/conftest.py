"""Fixtures of the end-to-end tests: every test that uses ``databases`` runs once per database
(``sqlite``, ``postgres``) unless it parametrises ``backend`` itself; the PostgreSQL params are
skipped, with the reason, when the server at ``OCPIKIT_TEST_PG_URL`` is not reachable (failed under
``CI=true``: ``tests/pg.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import require_postgres

from ._nodes import DATABASES, Databases
from ._package import FreshVenv, build, fresh_venv


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        names = names.split(",") if isinstance(names, str) else list(names)
        if "backend" in (n.strip() for n in names):
            return
    metafunc.parametrize("backend", DATABASES, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres`` (skipped with the reason when PostgreSQL is not reachable)."""
    name: str = request.param
    if name == "postgres":
        require_postgres()
    return name


@pytest.fixture
def databases(backend: str) -> Iterator[Databases]:
    """One fresh database per instance (``databases.new(workdir)``), dropped afterwards."""
    dbs = Databases(backend)
    try:
        yield dbs
    finally:
        dbs.drop_all()


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder with the wheel and the sdist built from this tree (built once per run)."""
    return build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> FreshVenv:
    """A fresh virtual environment with ocpikit installed from the wheel only."""
    (wheel,) = dist.glob("ocpikit-*.whl")
    return fresh_venv(wheel, tmp_path_factory.mktemp("fresh") / "venv")
