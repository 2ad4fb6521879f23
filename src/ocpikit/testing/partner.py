"""A synchronous handle on one emulated OCPI partner (``ocpikit emulate``) for tests: what the
pytest plugin's ``ocpi_cpo``, ``ocpi_emsp``, ``ocpi_hub`` and ``ocpi_partner`` fixtures yield,
and what :func:`start_partner` gives a fixture of a wider scope (docs/testing.md).

Invariants: the partner is a real process (``python -m ocpikit emulate ...`` with the running
interpreter) listening on loopback only; it is stopped (SIGTERM, then SIGKILL after a grace
period) when the handle is closed; every control call either returns the control API's JSON or
raises :class:`EmulatorError` naming the call and the answer. The handle works from synchronous
tests and from asynchronous ones whose platform runs in another process or thread; a platform
served in the test's own event loop uses the awaitable twin, :attr:`EmulatedPartner.aio`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

import httpx

from ocpikit.testing.emulator.process import EmulatorError

__all__ = ["AsyncControl", "EmulatedPartner", "EmulatorError", "start_partner"]

R = TypeVar("R")

#: how long a control call may take (a push waits for the platform's answers)
CONTROL_TIMEOUT = 60.0


def _fault_list(faults: Iterable[str] | str) -> list[str]:
    return [faults] if isinstance(faults, str) else list(faults)


class _ControlCalls(Generic[R]):
    """The emulator's control API (docs/testing.md §Control API), over a transport that is
    synchronous (``R`` is the JSON) or asynchronous (``R`` is an awaitable of it)."""

    control_url: str

    def control(self, method: str, path: str, /, body: Any = None, **params: Any) -> R:
        """``METHOD /control/PATH`` with a JSON body and query parameters (``None`` dropped)."""
        raise NotImplementedError

    def state(self) -> R:
        """Role, version, parties, registration, faults in force and injected, counters,
        command results."""
        return self.control("GET", "state")

    def received(
        self, *, method: str | None = None, module: str | None = None, since: int | None = None
    ) -> R:
        """Every OCPI request the partner received, oldest first (optionally of one HTTP
        method, one module, or after sequence number ``since``)."""
        return self.control("GET", "received", method=method, module=module, since=since)

    def clear_received(self) -> R:
        """Forget what was received."""
        return self.control("DELETE", "received")

    def sent(self) -> R:
        """Every request the partner sent (without ``Authorization``), with the answer."""
        return self.control("GET", "sent")

    def objects(self, module: str) -> R:
        """The partner's own objects of a module, as served without faults."""
        return self.control("GET", f"objects/{module}")

    def set_faults(self, faults: Iterable[str] | str = ()) -> R:
        """Replace the fault modes in force (``[]``: none); same syntax as ``--fault``."""
        return self.control("POST", "faults", {"faults": _fault_list(faults)})

    def push(self, module: str, count: int = 1, party: str | None = None) -> R:
        """Create ``count`` new objects of ``module`` and push them to the registered
        platform's Receiver; the answer's ``results`` (one per request sent)."""
        body: dict[str, Any] = {"module": module, "count": count}
        if party:
            body["party"] = party
        return self.control("POST", "push", body)

    def register_with(self, versions_url: str, token: str) -> R:
        """Register with the platform at ``versions_url`` using its token A (the partner is
        the handshake's Sender); the registration as stored."""
        return self.control("POST", "register", {"versions_url": versions_url, "token": token})

    def authorize(self, token_uid: str, **extra: Any) -> R:
        """Ask the platform's Tokens Sender for a real-time authorization (``type``,
        ``location_id``, ``evse_uids``, ``party``); the platform's status and ``data``."""
        return self.control("POST", "authorize", {"token_uid": token_uid, **extra})

    def command(self, command: str, body: dict[str, Any] | None = None, **extra: Any) -> R:
        """Send a command (``START_SESSION``, ...) to the platform; the CommandResult shows in
        :meth:`state` under the returned ``reference``."""
        return self.control("POST", "command", {"command": command, "body": body or {}, **extra})

    # --- an emulated CPO's simulated charge points (``--chargepoints N``) ----------------------
    def chargepoints(self) -> R:
        """The charge points: ``ocpp``, ``url`` and per charge point its ``id``,
        ``location_id``, ``evse_uids``, ``tariff_id``, ``connected`` and ``connectors`` (EVSE
        ``status``, ``ocpp_status``, ``transaction_id``, ``session_id``)."""
        return self.control("GET", "chargepoints")

    def tap(
        self, token_uid: str, *, chargepoint: str | None = None, connector: int | None = None
    ) -> R:
        """A driver taps RFID ``token_uid`` at a charge point's connector (the first free one
        when not given): the charger's authorization ``status`` (``Accepted``, ...) and the
        ``session_id`` it started, once the platform has the Session."""
        body = {"token_uid": token_uid, "chargepoint": chargepoint, "connector": connector}
        return self.control("POST", "tap", {k: v for k, v in body.items() if v is not None})

    def charger_status(self, chargepoint: str, connector: int, status: str) -> R:
        """The charger reports an OCPP connector ``status`` (``Faulted``, ``Available``, ...)."""
        body = {"connector": connector, "status": status}
        return self.control("POST", f"chargepoints/{chargepoint}/status", body)

    def meter(self, chargepoint: str, connector: int, seconds: float | None = None) -> R:
        """The charger sends meter values after ``seconds`` more of charging (default: the
        time since its last reading)."""
        body = {"connector": connector, "seconds": seconds}
        return self.control("POST", f"chargepoints/{chargepoint}/meter", body)

    def stop_charging(self, chargepoint: str, connector: int) -> R:
        """The driver ends the transaction at the charger (the Session completes, the CDR
        follows)."""
        return self.control("POST", f"chargepoints/{chargepoint}/stop", {"connector": connector})


def _raise_for(method: str, path: str, r: httpx.Response) -> None:
    if r.status_code >= 400:
        raise EmulatorError(f"{method} /control/{path}: HTTP {r.status_code} {r.text[:500]}")


def _params(params: dict[str, Any]) -> dict[str, Any] | None:
    kept = {k: v for k, v in params.items() if v is not None}
    return kept or None


class AsyncControl(_ControlCalls[Awaitable[Any]]):
    """The control API with awaitable calls, for a test whose platform runs in the test's own
    event loop (a blocking call would stall it while the partner calls the platform)."""

    def __init__(self, control_url: str) -> None:
        self.control_url = control_url

    async def control(self, method: str, path: str, /, body: Any = None, **params: Any) -> Any:
        path = path.lstrip("/")
        # one client per call: a test's event loop may change between calls
        async with httpx.AsyncClient(timeout=CONTROL_TIMEOUT, trust_env=False) as http:
            r = await http.request(
                method, f"{self.control_url}/{path}", json=body, params=_params(params)
            )
        _raise_for(method, path, r)
        return r.json()

    async def push(self, module: str, count: int = 1, party: str | None = None) -> Any:
        """As :meth:`EmulatedPartner.push`: one result per request sent."""
        return list((await super().push(module, count, party))["results"])


class EmulatedPartner(_ControlCalls[Any]):
    """A running emulated partner: what it printed at start-up (``versions_url``, ``token_a``
    for the platform under test, ``control_url``, ``role``, ``version``, ``parties``) and its
    control API as blocking calls. A context manager; :meth:`close` stops it."""

    def __init__(self, proc: subprocess.Popen[bytes], info: dict[str, Any], log: Path) -> None:
        self.proc = proc
        self.info = info
        self.log_path = log
        self.versions_url: str = info["versions_url"]
        self.token_a: str = info["token_a"]
        self.control_url: str = info["control_url"]
        self.role: str = info["role"]
        self.version: str = info["version"]
        self.parties: list[dict[str, str]] = info["parties"]
        #: our own party, ``CC-PID`` (the first of ``parties``)
        self.party: str = self.parties[0]["party"]
        self.aio = AsyncControl(self.control_url)
        self._http = httpx.Client(timeout=CONTROL_TIMEOUT, trust_env=False)

    def __repr__(self) -> str:
        return f"<EmulatedPartner {self.role} {self.version} {self.versions_url}>"

    def control(self, method: str, path: str, /, body: Any = None, **params: Any) -> Any:
        path = path.lstrip("/")
        r = self._http.request(
            method, f"{self.control_url}/{path}", json=body, params=_params(params)
        )
        _raise_for(method, path, r)
        return r.json()

    def push(self, module: str, count: int = 1, party: str | None = None) -> Any:
        """Create ``count`` new objects of ``module`` and push them to the registered
        platform's Receiver; one result per request sent (``id``, ``method``, ``url``,
        ``sent_headers``, ``status``, ``status_code``, ``status_message``, ``faults``)."""
        return list(super().push(module, count, party)["results"])

    def wait_received(
        self,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        method: str | None = None,
        module: str | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """The received requests that match (``method``, ``module``, ``predicate``) once there
        are at least ``count`` of them; :class:`EmulatorError` after ``timeout`` seconds (a
        platform usually pushes from a background worker)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = [
                r
                for r in self.received(method=method, module=module)
                if predicate is None or predicate(r)
            ]
            if len(rows) >= count:
                return rows
            if time.monotonic() > deadline:
                raise EmulatorError(
                    f"{len(rows)} of {count} requests (method={method}, module={module}) "
                    f"received in {timeout}s"
                )
            time.sleep(0.1)

    def log(self) -> str:
        """What the emulator wrote on stderr (the end of it)."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def close(self, grace: float = 10.0, *, check: bool = False) -> int:
        """Stop the partner (SIGTERM, SIGKILL after ``grace`` seconds); its exit status.
        With ``check``, a status other than 0 raises :class:`EmulatorError` with its log."""
        self._http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        status = self.proc.returncode
        log = self.log()
        self.log_path.unlink(missing_ok=True)
        if check and status != 0:
            raise EmulatorError(f"the emulated {self.role} exited with status {status}: {log}")
        return status

    def __enter__(self) -> EmulatedPartner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(check=exc_type is None)


def _read_line(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """The first line of the process's stdout, or ``b""`` after ``timeout`` seconds or at EOF."""
    assert proc.stdout is not None
    stdout = proc.stdout
    box: list[bytes] = []
    reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0] if box else b""


def start_partner(
    role: str,
    *,
    version: str = "2.2.1",
    faults: Sequence[str] | str = (),
    seed: int = 0,
    port: int = 0,
    extra: Sequence[str] = (),
    python: str = sys.executable,
    start_timeout: float = 30.0,
) -> EmulatedPartner:
    """Start ``ocpikit emulate ROLE`` and return its handle once it serves (close it, or use it
    as a context manager); ``extra`` are more command-line options (``["--page-size", "5"]``,
    ``["--party", "NL-XYZ"]``, ``["--behind", "DE-AAA:CPO"]``, ``["--objects",
    "cdrs=30"]``, ...). :class:`EmulatorError` with the emulator's output if it does not
    start."""
    if role not in ("cpo", "emsp", "hub"):
        raise EmulatorError(f"role must be cpo, emsp or hub, not {role!r}")
    args = [python, "-m", "ocpikit", "emulate", role, "--version", version]
    args += ["--seed", str(seed), "--port", str(port)]
    for spec in _fault_list(faults):
        args += ["--fault", spec]
    args += list(extra)
    fd, name = tempfile.mkstemp(prefix=f"ocpikit-emulated-{role}-", suffix=".log")
    log = Path(name)
    with os.fdopen(fd, "wb") as err:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
    raw = _read_line(proc, start_timeout)
    try:
        info = json.loads(raw) if raw else None
    except ValueError:
        info = None
    if not isinstance(info, dict) or "versions_url" not in info:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        output = log.read_text(errors="replace")[-2000:]
        log.unlink(missing_ok=True)
        raise EmulatorError(
            f"the emulated {role} did not start ({' '.join(args[1:])}): "
            f"{raw.decode(errors='replace')[:500]}{output}"
        )
    return EmulatedPartner(proc, info, log)
