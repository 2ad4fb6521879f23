"""The port to the operator's systems for decisions the platform cannot take alone: accept a
command (CPO), authorize a token in real time (eMSP), accept a charging profile (CPO), answer a
booking request (CPO, 2.3.0 Bookings).

The server wires one implementation: a webhook (``ocpikit.server.decisions.WebhookDecisions``,
configured by ``[decisions] webhook_url``), a Python hook (``python_hook = "pkg.mod:fn"``,
adapted by :class:`HookDecisions`), or :class:`DemoDecisions`, the default: accept what refers
to known, valid objects.

Every request/answer is plain JSON in the head version so that webhooks are version-agnostic.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ocpikit.protocol.webhooks import EventSink

log = logging.getLogger("ocpikit.decisions")

__all__ = [
    "AuthorizationDecision",
    "BookingDecision",
    "CommandDecision",
    "DecisionRequest",
    "Decisions",
    "DemoDecisions",
    "HookDecisions",
    "NonsenseAnswer",
]


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """What the operator is asked. ``kind`` is ``"command"``, ``"authorize"``,
    ``"charging_profile"`` or ``"booking"``; ``payload`` holds the head JSON of the request and the objects it
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


@dataclass(frozen=True, slots=True)
class BookingDecision:
    """``status``: the ReservationStatus a new booking request gets (2.3.0 mod_bookings
    §Flow and Lifecycle: ``PENDING``, or at once ``RESERVED``, ``REJECTED`` or ``FAILED``)."""

    status: str
    message: str | None = None


class Decisions(Protocol):
    async def command(self, request: DecisionRequest) -> CommandDecision: ...

    async def authorize(self, request: DecisionRequest) -> AuthorizationDecision: ...

    async def charging_profile(self, request: DecisionRequest) -> CommandDecision: ...

    async def booking(self, request: DecisionRequest) -> BookingDecision: ...


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

    async def booking(self, request: DecisionRequest) -> BookingDecision:
        """Undecided: ``PENDING`` until the operator answers (the backend API's Booking
        PATCH, pushed to the eMSP)."""
        return BookingDecision("PENDING")


Hook = Callable[[dict[str, Any]], Mapping[str, Any] | Awaitable[Mapping[str, Any]]]

#: the values an operator may answer (mod_commands CommandResponseType, mod_tokens AllowedType,
#: mod_charging_profiles ChargingProfileResponseType)
COMMAND_RESULTS = frozenset({"ACCEPTED", "REJECTED", "NOT_SUPPORTED", "UNKNOWN_SESSION"})
ALLOWED_VALUES = frozenset({"ALLOWED", "BLOCKED", "EXPIRED", "NO_CREDIT", "NOT_ALLOWED"})
PROFILE_RESULTS = frozenset(
    {"ACCEPTED", "REJECTED", "NOT_SUPPORTED", "TOO_OFTEN", "UNKNOWN_SESSION"}
)
COMMAND_OUTCOMES = frozenset(
    {
        "ACCEPTED",
        "CANCELED_RESERVATION",
        "EVSE_OCCUPIED",
        "EVSE_INOPERATIVE",
        "FAILED",
        "NOT_SUPPORTED",
        "REJECTED",
        "TIMEOUT",
        "UNKNOWN_RESERVATION",
    }
)
#: the ReservationStatus values a new booking request may get (mod_bookings §Flow and Lifecycle)
BOOKING_STATUSES = frozenset({"PENDING", "RESERVED", "REJECTED", "FAILED"})
#: seconds a command may wait for its result, as an operator may set it
TIMEOUT_RANGE = range(1, 3601)


class NonsenseAnswer(ValueError):
    """The operator's hook answered something that is not a decision."""


def _text(answer: Mapping[str, Any], key: str, allowed: frozenset[str]) -> str:
    value = answer.get(key)
    if not isinstance(value, str) or value not in allowed:
        raise NonsenseAnswer(f"{key} must be one of {sorted(allowed)}, got {value!r}")
    return value


def _optional(answer: Mapping[str, Any], key: str, allowed: frozenset[str] | None = None) -> Any:
    value = answer.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or (allowed is not None and value not in allowed):
        raise NonsenseAnswer(
            f"{key} must be {'one of ' + str(sorted(allowed)) if allowed else 'a string'}, got {value!r}"
        )
    return value


def _timeout(answer: Mapping[str, Any]) -> int:
    value = answer.get("timeout", 30)
    if value is None:
        return 30
    if isinstance(value, bool) or not isinstance(value, int) or value not in TIMEOUT_RANGE:
        raise NonsenseAnswer(f"timeout must be whole seconds from 1 to 3600, got {value!r}")
    return value


class HookDecisions:
    """Adapts one function ``fn(request_json) -> answer_json`` (sync or async) to the port.

    The answer has ``result`` (and optional ``timeout``, ``message``, and ``command_result``
    when the outcome is already known) for commands and charging profiles, ``allowed`` (and
    optional ``authorization_reference``, ``message``) for authorization, ``status`` (and
    optional ``message``) for a booking request.

    Fails closed: when the hook raises (the webhook is unreachable or answers an HTTP error) or
    answers anything but a decision of the values above, the command or charging profile is
    ``REJECTED``, the token ``NOT_ALLOWED`` and the booking ``FAILED``, and the reason is
    logged. A platform must never
    let a driver charge, or start a charger, because the operator's system was down.
    """

    def __init__(self, fn: Hook, events: EventSink | None = None) -> None:
        self.fn = fn
        self.events = events

    async def _ask(self, request: DecisionRequest) -> Mapping[str, Any]:
        answer = self.fn(request.to_json())
        if isinstance(answer, Awaitable):
            answer = await answer
        if not isinstance(answer, Mapping):
            raise NonsenseAnswer(f"expected a JSON object, got {type(answer).__name__}")
        return answer

    def _refused(self, request: DecisionRequest, exc: Exception) -> str:
        reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, NonsenseAnswer) else str(exc)
        log.warning(
            "operator decision on %s for %s failed closed: %s",
            request.kind,
            request.partner or request.party,
            reason,
        )
        return "the operator's decision service did not answer"

    async def command(self, request: DecisionRequest) -> CommandDecision:
        try:
            answer = await self._ask(request)
            return CommandDecision(
                _text(answer, "result", COMMAND_RESULTS),
                _timeout(answer),
                _optional(answer, "message"),
                _optional(answer, "command_result", COMMAND_OUTCOMES),
            )
        except Exception as exc:
            return CommandDecision("REJECTED", message=self._refused(request, exc))

    async def authorize(self, request: DecisionRequest) -> AuthorizationDecision:
        try:
            answer = await self._ask(request)
            return AuthorizationDecision(
                _text(answer, "allowed", ALLOWED_VALUES),
                _optional(answer, "authorization_reference"),
                _optional(answer, "message"),
            )
        except Exception as exc:
            return AuthorizationDecision("NOT_ALLOWED", message=self._refused(request, exc))

    async def charging_profile(self, request: DecisionRequest) -> CommandDecision:
        try:
            answer = await self._ask(request)
            return CommandDecision(_text(answer, "result", PROFILE_RESULTS), _timeout(answer))
        except Exception as exc:
            return CommandDecision("REJECTED", message=self._refused(request, exc))

    async def booking(self, request: DecisionRequest) -> BookingDecision:
        try:
            answer = await self._ask(request)
            return BookingDecision(
                _text(answer, "status", BOOKING_STATUSES), _optional(answer, "message")
            )
        except Exception as exc:
            return BookingDecision("FAILED", message=self._refused(request, exc))
