"""An emulated partner as a subprocess for tests: :func:`run_emulator` starts
``python -m ocpikit emulate ...``, reads its start-up line, and gives an
:class:`EmulatorProcess` whose helpers call its control API; leaving the context stops it
(SIGTERM, then SIGKILL after a grace period)."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

__all__ = ["EmulatorError", "EmulatorProcess", "run_emulator"]


class EmulatorError(RuntimeError):
    """The emulator did not start, or a control call failed (the message says how)."""


class EmulatorProcess:
    """A running emulator: what it printed at start-up and its control API."""

    def __init__(self, proc: asyncio.subprocess.Process, line: dict[str, Any], log: Path) -> None:
        self.proc = proc
        self.info = line
        self.log_path = log
        self.versions_url: str = line["versions_url"]
        self.token_a: str = line["token_a"]
        self.control_url: str = line["control_url"]
        self.role: str = line["role"]
        self.version: str = line["version"]
        self.parties: list[dict[str, str]] = line["parties"]
        self._http = httpx.AsyncClient(timeout=60, trust_env=False)

    def log(self) -> str:
        """What the emulator wrote on stderr (the end of it)."""
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    async def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        r = await self._http.request(
            method, f"{self.control_url}/{path}", json=body, params=params or None
        )
        if r.status_code >= 400:
            raise EmulatorError(f"{method} /control/{path}: HTTP {r.status_code} {r.text[:500]}")
        return r.json()

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "state")
        return result

    async def received(self, *, method: str | None = None, module: str | None = None) -> list[Any]:
        params = {k: v for k, v in (("method", method), ("module", module)) if v}
        result: list[Any] = await self._call("GET", "received", **params)
        return result

    async def clear_received(self) -> None:
        await self._call("DELETE", "received")

    async def objects(self, module: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", f"objects/{module}")
        return result

    async def set_faults(self, *specs: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "faults", {"faults": list(specs)})
        return result

    async def push(self, module: str, count: int = 1, party: str | None = None) -> list[Any]:
        body: dict[str, Any] = {"module": module, "count": count}
        if party:
            body["party"] = party
        result = await self._call("POST", "push", body)
        return list(result["results"])

    async def register_with(self, versions_url: str, token: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", "register", {"versions_url": versions_url, "token": token}
        )
        return result

    async def authorize(self, token_uid: str, **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", "authorize", {"token_uid": token_uid, **extra}
        )
        return result

    async def command(self, command: str, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", "command", {"command": command, "body": body, **extra}
        )
        return result

    async def stop(self, grace: float = 10.0) -> int:
        """SIGTERM, wait ``grace`` seconds, then SIGKILL; the exit status."""
        await self._http.aclose()
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), grace)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode if self.proc.returncode is not None else -1


@asynccontextmanager
async def run_emulator(
    role: str,
    *,
    version: str = "2.2.1",
    faults: Sequence[str] = (),
    seed: int = 0,
    port: int = 0,
    extra: Sequence[str] = (),
    python: str = sys.executable,
    start_timeout: float = 30.0,
) -> AsyncIterator[EmulatorProcess]:
    """Start ``ocpikit emulate ROLE`` and stop it at exit; ``extra`` are more command-line
    options (``["--party", "NL-XYZ"]``, ``["--behind", "DE-AAA:CPO"]``, ...)."""
    args = [python, "-m", "ocpikit", "emulate", role, "--version", version, "--seed", str(seed)]
    args += ["--port", str(port)]
    for spec in faults:
        args += ["--fault", spec]
    args += list(extra)
    with tempfile.TemporaryDirectory(prefix="ocpikit-emulator-") as tmp:
        log = Path(tmp) / "stderr.log"
        with log.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                *args, stdout=asyncio.subprocess.PIPE, stderr=err
            )
        assert proc.stdout is not None
        try:
            raw = await asyncio.wait_for(proc.stdout.readline(), start_timeout)
        except TimeoutError:
            raw = b""
        if not raw:
            proc.kill()
            await proc.wait()
            raise EmulatorError(
                f"the emulator did not start: {log.read_text(errors='replace')[-2000:]}"
            )
        emulator = EmulatorProcess(proc, json.loads(raw), log)
        try:
            yield emulator
        finally:
            await emulator.stop()
