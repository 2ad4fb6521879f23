"""The run-time state of one emulated partner: its data, its faults, its registration with the
platform, the tokens it accepts, and the record of every request it received.

Tokens (credentials §Registration): before any registration only token A is accepted, and only
on versions and credentials; afterwards only the token the platform uses to call us
(``inbound_token``) is, and ``outbound_token`` is the one we present.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import EmulatorConfig
from .data import Dataset, generate
from .faults import FaultPlan

__all__ = ["Emulator", "Received", "Registration"]


@dataclass
class Registration:
    """The platform we are registered with and what we learnt of it."""

    versions_url: str
    version: str
    endpoints: list[dict[str, Any]]
    #: the platform's parties: ``{"role", "country_code", "party_id"}`` each
    roles: list[dict[str, str]]
    inbound_token: str
    outbound_token: str
    #: who started the handshake: ``platform`` (it used our token A) or ``emulator``
    initiated_by: str

    def endpoint(self, module: str, interface: str) -> str | None:
        """The platform's URL of ``module`` in ``interface`` (SENDER/RECEIVER); 2.1.1
        endpoints carry no role, so any one of the module matches."""
        for e in self.endpoints:
            if e.get("identifier") == module and e.get("role", interface) == interface:
                return str(e["url"])
        return None

    def party(self, role: str | None = None) -> str | None:
        """``CC-PID`` of the platform's party with ``role`` (its first party when it has no
        such role or none is asked for)."""
        chosen = next((r for r in self.roles if role and r.get("role") == role), None)
        chosen = chosen or (self.roles[0] if self.roles else None)
        return f"{chosen['country_code']}-{chosen['party_id']}" if chosen else None

    def describe(self) -> dict[str, Any]:
        return {
            "versions_url": self.versions_url,
            "version": self.version,
            "roles": self.roles,
            "endpoints": self.endpoints,
            "initiated_by": self.initiated_by,
        }


@dataclass
class Received:
    """One request the emulator received: what came in and what it answered."""

    seq: int
    method: str
    path: str
    query: str
    module: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    status_code: int | None = None
    faults: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "module": self.module,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
            "status_code": self.status_code,
            "faults": self.faults,
        }


#: request headers kept in the record (lower case)
RECORDED_HEADERS = (
    "ocpi-from-country-code",
    "ocpi-from-party-id",
    "ocpi-to-country-code",
    "ocpi-to-party-id",
    "x-request-id",
    "x-correlation-id",
    "content-type",
)


class Emulator:
    """Everything one emulated partner holds while it runs."""

    def __init__(self, config: EmulatorConfig, base_url: str) -> None:
        self.config = config
        self.base_url = base_url
        self.data: Dataset = generate(
            config.version,
            config.seed,
            config.owners,
            config.counts,
            token_party=config.sessions_token_party,
        )
        self.plan = FaultPlan.from_specs(config.faults, seed=config.seed)
        self.token_a = "emu-a-" + secrets.token_urlsafe(18)
        self.registration: Registration | None = None
        #: tokens we gave the platform in a registration still under way (it calls back our
        #: versions with them before it answers)
        self.pending_tokens: set[str] = set()
        self.received: list[Received] = []
        #: objects the platform pushed to us: (module, party, id) -> wire object
        self.stored: dict[tuple[str, str, str], dict[str, Any]] = {}
        #: CommandResults the platform posted to our response URLs: reference -> body
        self.command_results: dict[str, Any] = {}
        self.sent: list[dict[str, Any]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        #: the simulated charge points (a :class:`~.fleet.Fleet`) of a CPO run with
        #: ``--chargepoints``, set by the app; None otherwise
        self.fleet: Any = None
        self._seq = itertools.count(1)

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/control"

    def token_valid(self, token: str, module: str) -> bool:
        """Whether ``token`` may call ``module`` now (see the module docstring)."""
        if module in ("versions", "credentials") and token in self.pending_tokens:
            return True
        if self.registration is not None:
            return secrets.compare_digest(token, self.registration.inbound_token)
        return module in ("versions", "credentials") and secrets.compare_digest(token, self.token_a)

    def record(
        self, method: str, path: str, query: str, module: str, headers: Mapping[str, str]
    ) -> Received:
        entry = Received(
            seq=next(self._seq),
            method=method,
            path=path,
            query=query,
            module=module,
            headers={k: v for k, v in headers.items() if k.lower() in RECORDED_HEADERS},
            body=None,
        )
        self.received.append(entry)
        return entry

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` in the background (a CommandResult later), kept until it ends."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def state(self) -> dict[str, Any]:
        return {
            "role": self.config.role,
            "version": self.config.version,
            "parties": [{"party": p, "role": r} for p, r in self.config.parties],
            "registered": self.registration is not None,
            "registration": self.registration.describe() if self.registration else None,
            "faults": [r.describe() for r in self.plan.rules],
            "faults_injected": dict(self.plan.counts),
            "received": len(self.received),
            "objects": {m: len(self.data.entries(m)) for m in self.data.modules},
            "command_results": self.command_results,
            **({"chargepoints": self.fleet.describe()} if self.fleet is not None else {}),
        }
