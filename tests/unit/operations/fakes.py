"""A fake of the partner-calls port (``ocpikit.protocol.partner_calls``) and of the webhook
delivery: the use cases of ``ocpikit.operations`` run over them with no sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpikit.core.clock import ManualClock
from ocpikit.operations.flow_ports import FlowPorts
from ocpikit.protocol.ports import CommandRecord, Partner, PartnerStatus, PartyRole
from ocpikit.protocol.webhooks import StoredEvents, after_attempt
from ocpikit.storage.memory import MemoryStorage

Answer = Callable[..., Awaitable[Any]]


@dataclass
class FakeCalls:
    """Records every call as ``(partner id, method, args, kwargs)``; ``answers[method]`` is an
    async function of the same arguments (or an exception to raise); unset: ACCEPTED."""

    calls: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    answers: dict[str, Answer | BaseException] = field(default_factory=dict)

    def __call__(self, partner: Partner) -> _Bound:
        return _Bound(self, partner)

    async def answer(self, partner: Partner, method: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((partner.id, method, args, kwargs))
        reply = self.answers.get(method)
        if isinstance(reply, BaseException):
            raise reply
        if reply is not None:
            return await reply(*args, **kwargs)
        return None if method == "post_result" else {"result": "ACCEPTED", "timeout": 30}


@dataclass
class _Bound:
    fake: FakeCalls
    partner: Partner

    async def send_command(
        self, command: str, request: Mapping[str, Any], *, to_party: Any = None
    ) -> dict[str, Any]:
        routed = {"to_party": to_party} if to_party is not None else {}
        result: dict[str, Any] = await self.fake.answer(
            self.partner, "send_command", command, request, **routed
        )
        return result

    async def set_charging_profile(
        self, session_id: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self.fake.answer(
            self.partner, "set_charging_profile", session_id, request
        )
        return result

    async def get_active_profile(
        self, session_id: str, *, duration: int, response_url: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self.fake.answer(
            self.partner,
            "get_active_profile",
            session_id,
            duration=duration,
            response_url=response_url,
        )
        return result

    async def clear_profile(self, session_id: str, *, response_url: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.fake.answer(
            self.partner, "clear_profile", session_id, response_url=response_url
        )
        return result

    async def post_result(
        self, response_url: str, result: Mapping[str, Any], *, module: str = "commands"
    ) -> None:
        await self.fake.answer(self.partner, "post_result", response_url, result, module=module)

    async def authorize(
        self,
        token_uid: str,
        *,
        token_type: str | None = None,
        location: Mapping[str, Any] | None = None,
        to_party: Any = None,
    ) -> dict[str, Any]:
        routed = {"to_party": to_party} if to_party is not None else {}
        result: dict[str, Any] = await self.fake.answer(
            self.partner,
            "authorize",
            token_uid,
            token_type=token_type,
            location=location,
            **routed,
        )
        return result


@dataclass
class FakeWebhooks:
    """Delivers every event (or fails with ``error``); records the ids it got."""

    clock: ManualClock
    delivered: list[str] = field(default_factory=list)
    error: str | None = None

    async def deliver(self, record: CommandRecord) -> CommandRecord:
        self.delivered.append(record.id)
        return after_attempt(record, self.error, self.clock.now())


def partner(
    pid: str = "NL-CPO",
    *,
    party: tuple[str, str] = ("NL", "CPO"),
    role: str = "CPO",
    local_party: tuple[str, str] | None = None,
    status: PartnerStatus = PartnerStatus.REGISTERED,
) -> Partner:
    return Partner(
        id=pid,
        status=status,
        roles=(PartyRole(role, *party),),
        version="2.2.1",
        outbound_token="t",
        local_party=local_party,
    )


@dataclass
class World:
    storage: MemoryStorage
    clock: ManualClock
    calls: FakeCalls
    webhooks: FakeWebhooks
    ports: FlowPorts


def world(*, events: bool = True) -> World:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    storage = MemoryStorage(clock=clock.now)
    calls = FakeCalls()
    hooks = FakeWebhooks(clock)
    ports = FlowPorts(
        storage=storage,
        reach=calls,
        base_url="https://us.example/",
        clock=clock,
        events=StoredEvents(storage.commands, clock.now) if events else None,
        webhooks=hooks if events else None,
    )
    return World(storage, clock, calls, hooks, ports)
