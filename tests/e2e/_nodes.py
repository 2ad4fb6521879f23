"""Helpers of the end-to-end tests: one ``ocpikit serve`` process (:class:`Instance`) and the
databases it runs on (:class:`Databases`: a SQLite file in its directory, or a fresh PostgreSQL
database per instance, created with ``CREATE DATABASE`` and dropped after the test).

PostgreSQL comes from ``OCPIKIT_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); only its server, user and password are
used: each instance gets a database of its own named ``ocpikit_e2e_<random>``, so nothing in the
configured database is touched. When the server is not reachable, the PostgreSQL params are
skipped with the reason (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import sqlalchemy as sa

from ocpikit.storage.sql import SqlStorage
from ocpikit.storage.sql.secrets import SecretBox
from tests.pg import PG_URL, libpq

T = TypeVar("T")

OCPIKIT = [sys.executable, "-m", "ocpikit.cli.main"]

#: the database params of every e2e test (``conftest.py`` applies them)
DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- databases ------------------------------------------------------------------------------


class Databases:
    """Hands out one fresh database per ocpikit instance; :meth:`drop_all` removes those it
    created (and only those)."""

    def __init__(self, backend: str) -> None:
        assert backend in ("sqlite", "postgres"), backend
        self.backend = backend
        self.created: list[str] = []

    def new(self, workdir: Path) -> str:
        """A database URL for an instance working in ``workdir``."""
        if self.backend == "sqlite":
            return f"sqlite:///{workdir / 'ocpikit.db'}"
        import psycopg

        name = f"ocpikit_e2e_{uuid.uuid4().hex[:12]}"
        base = sa.make_url(PG_URL)
        with psycopg.connect(libpq(base), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        import psycopg

        with psycopg.connect(libpq(sa.make_url(PG_URL)), autocommit=True) as conn:
            while self.created:
                name = self.created.pop()
                # FORCE: a server killed by the test may leave a backend that is still closing
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- one `ocpikit serve` ----------------------------------------------------------------------
class Instance:
    """One ``ocpikit serve`` in its own directory and database (``database_url``), configured
    through ``OCPIKIT_*`` variables and an optional ``ocpikit.toml`` (``config``)."""

    def __init__(
        self,
        workdir: Path,
        party: str,
        database_url: str,
        *,
        versions: str | None = None,
        config: str = "",
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.port = free_port()
        if config:
            (workdir / "ocpikit.toml").write_text(config)
        self.db = database_url
        self.env = {
            **os.environ,
            "OCPIKIT_PARTY": party,
            "OCPIKIT_PORT": str(self.port),
            "OCPIKIT_ADMIN_TOKEN": "e2e-admin",
            # the partners of these tests run on this machine (docs/security.md)
            "OCPIKIT_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "OCPIKIT_DATABASE_URL": database_url,
        }
        if versions is not None:
            self.env["OCPIKIT_VERSIONS"] = versions
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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

    def start(self, *extra: str, timeout: float = 30.0) -> None:
        with (self.workdir / "serve.log").open("a") as log:
            self.proc = subprocess.Popen(
                [*OCPIKIT, "serve", *extra],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                r = httpx.get(f"{self.url}/ocpi/versions", timeout=1)
                if r.status_code == 401:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"server did not start: {self.log()}")

    def stop(self) -> None:
        """SIGTERM and wait: the background tasks finish and the exchange log is flushed."""
        if self.proc is not None:
            self.proc.terminate()
            assert self.proc.wait(timeout=20) is not None
            self.proc = None

    def close(self) -> None:
        """Teardown: stop the process if it still runs, whatever state the test left it in."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def log(self) -> str:
        path = self.workdir / "serve.log"
        return path.read_text()[-4000:] if path.exists() else ""

    def run(self, fn: Callable[[SqlStorage], Awaitable[T]]) -> T:
        """``fn(storage)`` on this instance's database, from the test process (with the
        instance's key, so partner tokens read as the instance reads them)."""

        key_file = self.workdir / ".ocpikit-secrets-key"
        box = SecretBox([key_file.read_text().strip()]) if key_file.exists() else None

        async def main() -> T:
            storage = SqlStorage.from_url(self.db, pool_size=2, secrets=box)
            try:
                return await fn(storage)
            finally:
                await storage.aclose()

        return asyncio.run(main())


def until(fn: Callable[[], T | None], what: str, timeout: float = 20.0, *logs: Instance) -> T:
    """Poll ``fn`` until it returns something other than ``None``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value is not None:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n" + "\n".join(i.log() for i in logs))
