"""The port to the operator's systems for decisions the platform cannot take alone: accept a
command (CPO), authorize a token in real time (eMSP), accept a charging profile (CPO).

The server wires one implementation: a webhook (``ocpikit.server.decisions.WebhookDecisions``,
configured by ``[decisions] webhook_url``), a Python hook (``python_hook = "pkg.mod:fn"``,
adapted by :class:`HookDecisions`), or :class:`DemoDecisions`, the default: accept what refers
to known, valid objects.

Every request/answer is plain JSON in the head version so that webhooks are version-agnostic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ocpikit.protocol.webhooks import EventSink

__all__ = [
    "AuthorizationDecision",
    "CommandDecision",
    "DecisionRequest",
    "Decisions",
    "DemoDecisions",
    "HookDecisions",
]


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """What the operator is asked. ``kind`` is ``"command"``, ``"authorize"`` or
    ``"charging_profile"``; ``payload`` holds the head JSON of the request and the objects it
    refers to (``token``, ``location``, ``session``), ``None`` where unknown."""

    kind: str
    party: str
    partner: str | None
    payload: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "party": self.party,
            "partner": self.partner,
            **self.payload,
        }


@dataclass(frozen=True, slots=True)
class CommandDecision:
    """``result``: a CommandResponseType / ChargingProfileResponseType value."""

    result: str
    timeout: int = 30
    message: str | None = None
    command_result: str | None = None
    """When the operator already knows the outcome (a CommandResultType value), it is POSTed to
    the response_url at once instead of waiting for ``POST /admin/api/commands/{id}/result``."""


@dataclass(frozen=True, slots=True)
class AuthorizationDecision:
    """``allowed``: an AllowedType value."""

    allowed: str
    authorization_reference: str | None = None
    message: str | None = None


class Decisions(Protocol):
    async def command(self, request: DecisionRequest) -> CommandDecision: ...

    async def authorize(self, request: DecisionRequest) -> AuthorizationDecision: ...

    async def charging_profile(self, request: DecisionRequest) -> CommandDecision: ...


class DemoDecisions:
    """The demo policy: commands are accepted when the objects they refer to are known
    (the handler answers 2003/UNKNOWN_SESSION itself otherwise); a token is allowed when it is
    known and valid, ``BLOCKED`` when known and invalid.

    ``events``: where webhook events go (``ocpikit.protocol.webhooks.StoredEvents``), when the
    operator configured a webhook; handlers emit through :func:`ocpikit.protocol.webhooks.emit`.
    """

    def __init__(self, events: EventSink | None = None) -> None:
        self.events = events

    async def command(self, request: DecisionRequest) -> CommandDecision:
        return CommandDecision("ACCEPTED")

    async def authorize(self, request: DecisionRequest) -> AuthorizationDecision:
        token = request.payload.get("token")
        if isinstance(token, Mapping) and token.get("valid") is False:
            return AuthorizationDecision("BLOCKED")
        return AuthorizationDecision("ALLOWED")

    async def charging_profile(self, request: DecisionRequest) -> CommandDecision:
        return CommandDecision("ACCEPTED")


Hook = Callable[[dict[str, Any]], Mapping[str, Any] | Awaitable[Mapping[str, Any]]]


class HookDecisions:
    """Adapts one function ``fn(request_json) -> answer_json`` (sync or async) to the port.

    The answer has ``result`` (and optional ``timeout``, ``message``, and ``command_result`` when
    the outcome is already known) for commands and charging profiles, ``allowed`` (and optional ``authorization_reference``, ``message``) for
    authorization. A missing or malformed answer falls back to the demo policy.
    """

    def __init__(self, fn: Hook, events: EventSink | None = None) -> None:
        self.fn = fn
        self.fallback = DemoDecisions()
        self.events = events

    async def _ask(self, request: DecisionRequest) -> Mapping[str, Any] | None:
        answer = self.fn(request.to_json())
        if isinstance(answer, Awaitable):
            answer = await answer
        return answer if isinstance(answer, Mapping) else None

    async def command(self, request: DecisionRequest) -> CommandDecision:
        answer = await self._ask(request)
        if answer and isinstance(answer.get("result"), str):
            final = answer.get("command_result")
            return CommandDecision(
                answer["result"],
                int(answer.get("timeout") or 30),
                answer.get("message"),
                final if isinstance(final, str) else None,
            )
        return await self.fallback.command(request)

    async def authorize(self, request: DecisionRequest) -> AuthorizationDecision:
        answer = await self._ask(request)
        if answer and isinstance(answer.get("allowed"), str):
            return AuthorizationDecision(
                answer["allowed"], answer.get("authorization_reference"), answer.get("message")
            )
        return await self.fallback.authorize(request)

    async def charging_profile(self, request: DecisionRequest) -> CommandDecision:
        answer = await self._ask(request)
        if answer and isinstance(answer.get("result"), str):
            return CommandDecision(answer["result"], int(answer.get("timeout") or 30))
        return await self.fallback.charging_profile(request)
