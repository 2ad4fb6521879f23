"""The runner's own OCPI party on a loopback port, so that the credentials handshake can
complete and asynchronous answers have somewhere to go.

It is an emulated partner of the test kit (``ocpikit.testing.emulator``) run inside the runner's
event loop, in the role opposite to the one under test (an eMSP facing a CPO, a CPO facing an
eMSP, an eMSP facing a hub), with a handful of generated objects and no faults. It serves its
versions, version details and credentials (credentials §Registration: the target GETs them with
token B before answering our POST), records every request it receives, and keeps the
CommandResults POSTed to the ``response_url`` of our commands (mod_commands §Receiver
interface).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

from ocpikit.testing.emulator.app import build_app
from ocpikit.testing.emulator.config import EmulatorConfig
from ocpikit.testing.emulator.handshake import our_credentials, platform_roles
from ocpikit.testing.emulator.state import Emulator, Received, Registration

__all__ = ["OUR_ROLE", "LoopbackParty"]

#: the role under test -> the role of our party
OUR_ROLE = {"cpo": "emsp", "emsp": "cpo", "hub": "emsp"}

_COUNTS = {"locations": 2, "tariffs": 1, "sessions": 1, "cdrs": 1, "tokens": 2}


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handlers: the runner, not the party, owns Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def random_party() -> str:
    """A party id of our own for one run, ``NL-C`` and two characters (a run that crashed
    before unregistering does not block the next one)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "NL-C" + "".join(secrets.choice(alphabet) for _ in range(2))


class LoopbackParty:
    """Our party while a run lasts: :meth:`start`, then the handshake helpers, then
    :meth:`stop`. ``public_url`` is the base URL the target uses to reach us (default: the
    loopback address we listen on)."""

    def __init__(
        self,
        role_under_test: str,
        version: str,
        party: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
    ) -> None:
        self.role = OUR_ROLE[role_under_test]
        self.version = version
        self.party = party
        self.host, self.port = host, port
        self.public_url = public_url
        self.emulator: Emulator | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def emu(self) -> Emulator:
        if self.emulator is None:
            raise RuntimeError("the loopback party is not started")
        return self.emulator

    @property
    def versions_url(self) -> str:
        return self.emu.versions_url

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        port = sock.getsockname()[1]
        config = EmulatorConfig(
            role=self.role,
            version=self.version,
            host=self.host,
            port=port,
            party=self.party,
            counts=dict(_COUNTS),
            token_party=self.party if self.role == "emsp" else "NL-EMS",
        )
        base = (self.public_url or f"http://{self.host}:{port}").rstrip("/")
        self.emulator = Emulator(config, base)
        self._server = _QuietServer(
            uvicorn.Config(
                build_app(self.emulator),
                http="h11",
                lifespan="on",
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=1,
            )
        )
        self._task = asyncio.ensure_future(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the loopback party stopped at start-up")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 10)
        self._server = self._task = None

    # --- the handshake --------------------------------------------------------------------

    def offer_token(self) -> str:
        """A new token B the target may use on our versions and credentials while the
        registration is under way."""
        token = "cf-" + secrets.token_urlsafe(24)
        self.emu.pending_tokens.add(token)
        return token

    def credentials(self, token: str) -> dict[str, Any]:
        """Our Credentials object with ``token`` (credentials §Credentials object)."""
        return our_credentials(self.emu, token)

    def registered(
        self,
        versions_url: str,
        endpoints: list[dict[str, Any]],
        their_credentials: Any,
        token_b: str,
        token_c: str,
    ) -> list[dict[str, str]]:
        """Keep the registration; the target's parties (``role``, ``country_code``,
        ``party_id``), which :class:`~ocpikit.testing.emulator.handshake.HandshakeError`
        refuses when its Credentials name none."""
        emu = self.emu
        emu.pending_tokens.discard(token_b)
        roles = platform_roles(emu, their_credentials)
        emu.registration = Registration(
            versions_url=versions_url,
            version=self.version,
            endpoints=endpoints,
            roles=roles,
            inbound_token=token_b,
            outbound_token=token_c,
            initiated_by="emulator",
        )
        return roles

    def forget(self, token_b: str | None = None) -> None:
        if token_b:
            self.emu.pending_tokens.discard(token_b)
        self.emu.registration = None

    # --- what it received -----------------------------------------------------------------

    def received(self, since: int = 0) -> list[Received]:
        return [r for r in self.emu.received if r.seq > since]

    @property
    def last_seq(self) -> int:
        return self.emu.received[-1].seq if self.emu.received else 0

    def command_result(self, command: str, reference: str) -> Any:
        """The result POSTed to :meth:`response_url` (the emulator keys it by the path below
        ``commands/``)."""
        return self.emu.command_results.get(f"{command}/{reference}")

    def response_url(self, command: str, reference: str) -> str:
        """Where the target POSTs the result of a command (our commands Sender interface)."""
        return f"{self.emu.base_url}/ocpi/{self.version}/sender/commands/{command}/{reference}"
