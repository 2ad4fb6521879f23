"""Commands and charging-profile requests as explicit state machines (DESIGN §5; DIGEST §3.6,
§3.7, §6.8). No I/O: a transition table, pure functions from one :class:`CommandRecord` to the
next, and generators that yield the requests to send (driven by ``ocpikit.operations.commands``).

Sent (we are the eMSP, or the party setting a charging profile)::

    (new) --accepted--> PENDING --result--> <the CommandResult value>   (final)
      |                    \\--deadline--> TIMEOUT                       (final)
      |--refused--> <the CommandResponse value: REJECTED, NOT_SUPPORTED, UNKNOWN_SESSION> (final)
      \\--send_failed--> SEND_FAILED                                     (final)

A result arriving after TIMEOUT is still recorded (the state becomes the result): the spec only
says the eMSP "can assume" it will never come.

Received (we are the CPO)::

    (new) --accepted--> AWAITING_RESULT --operator_result--> RESULT_PENDING --delivered--> DELIVERED
      |                        \\--deadline (TIMEOUT)-------/      |  ^
      |                                                            |  |delivery_failed (backoff)
      |                                                            v  |
      |                                                       RESULT_PENDING --gave_up--> UNDELIVERED
      \\--refused--> ANSWERED (final: the synchronous answer said it all)

``deadline`` is the time the next sweep acts on a record (``CommandStore.due``): the
CommandResponse ``timeout`` while a result is awaited, then "now" (or the backoff) while a result
waits to be POSTed to the ``response_url``. The record's ``response`` keeps our synchronous answer
plus the delivery bookkeeping (``attempts``, ``last_error``).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from ocpikit.protocol.ports import CommandDirection, CommandRecord

__all__ = [
    "COMMANDS",
    "COMMAND_OBJECTS",
    "MAX_DELIVERY_ATTEMPTS",
    "PROFILE_ACTIONS",
    "TRANSITIONS",
    "Event",
    "InvalidTransition",
    "PostResult",
    "SendCommand",
    "SendError",
    "State",
    "accept_received",
    "deliver_flow",
    "delivery_backoff",
    "is_profile",
    "new_received",
    "new_sent",
    "on_deadline",
    "on_delivery",
    "on_operator_result",
    "on_response",
    "on_result",
    "on_send_failed",
    "send_flow",
    "timeout_result",
    "transition",
]

#: command name -> head request object (DIGEST §3.6)
COMMAND_OBJECTS: Final = {
    "START_SESSION": "StartSession",
    "STOP_SESSION": "StopSession",
    "RESERVE_NOW": "ReserveNow",
    "CANCEL_RESERVATION": "CancelReservation",
    "UNLOCK_CONNECTOR": "UnlockConnector",
}
COMMANDS: Final = tuple(COMMAND_OBJECTS)
#: charging-profile requests kept in the same store (DIGEST §3.7)
PROFILE_ACTIONS: Final = ("SET_PROFILE", "GET_PROFILE", "CLEAR_PROFILE")

#: attempts to POST a result to a response_url before giving up
MAX_DELIVERY_ATTEMPTS: Final = 8


class State(enum.StrEnum):
    PENDING = "PENDING"
    TIMEOUT = "TIMEOUT"
    SEND_FAILED = "SEND_FAILED"
    AWAITING_RESULT = "AWAITING_RESULT"
    RESULT_PENDING = "RESULT_PENDING"
    DELIVERED = "DELIVERED"
    UNDELIVERED = "UNDELIVERED"
    ANSWERED = "ANSWERED"


class Event(enum.StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    SEND_FAILED = "send_failed"
    RESULT = "result"
    DEADLINE = "deadline"
    OPERATOR_RESULT = "operator_result"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    GAVE_UP = "gave_up"


_OUTCOME = "<outcome>"
"""Target placeholder: the final state is the outcome value itself (e.g. ``EVSE_OCCUPIED``)."""

SENT, RECEIVED = CommandDirection.SENT, CommandDirection.RECEIVED
NEW = "NEW"

#: (direction, state, event) -> next state; anything else is an :class:`InvalidTransition`
TRANSITIONS: Final[Mapping[tuple[CommandDirection, str, Event], str]] = {
    (SENT, NEW, Event.ACCEPTED): State.PENDING,
    (SENT, NEW, Event.REFUSED): _OUTCOME,
    (SENT, NEW, Event.SEND_FAILED): State.SEND_FAILED,
    (SENT, NEW, Event.RESULT): _OUTCOME,  # the result overtook the synchronous response
    (SENT, State.PENDING, Event.RESULT): _OUTCOME,
    (SENT, State.PENDING, Event.DEADLINE): State.TIMEOUT,
    (SENT, State.TIMEOUT, Event.RESULT): _OUTCOME,
    (RECEIVED, NEW, Event.ACCEPTED): State.AWAITING_RESULT,
    (RECEIVED, NEW, Event.REFUSED): State.ANSWERED,
    (RECEIVED, NEW, Event.OPERATOR_RESULT): State.RESULT_PENDING,
    (RECEIVED, State.AWAITING_RESULT, Event.OPERATOR_RESULT): State.RESULT_PENDING,
    (RECEIVED, State.AWAITING_RESULT, Event.DEADLINE): State.RESULT_PENDING,
    (RECEIVED, State.RESULT_PENDING, Event.DELIVERED): State.DELIVERED,
    (RECEIVED, State.RESULT_PENDING, Event.DELIVERY_FAILED): State.RESULT_PENDING,
    (RECEIVED, State.RESULT_PENDING, Event.GAVE_UP): State.UNDELIVERED,
}

_NOT_FINAL = {State.PENDING, State.AWAITING_RESULT, State.RESULT_PENDING}


class InvalidTransition(ValueError):
    """The event is not allowed in the record's state (e.g. a second operator result)."""


def transition(direction: CommandDirection, state: str, event: Event, outcome: str = "") -> str:
    """The next state by the table; ``outcome`` fills the outcome-valued targets."""
    key = (direction, state, event)
    final_sent = direction is SENT and state not in _NOT_FINAL and state != NEW
    if key not in TRANSITIONS and event is Event.RESULT and final_sent:
        return outcome  # a final sent record (e.g. a duplicate result): the latest result wins
    target = TRANSITIONS.get(key)
    if target is None:
        raise InvalidTransition(f"{event.value} is not allowed in state {state}")
    return outcome if target == _OUTCOME else target


def _move(
    record: CommandRecord, event: Event, *, outcome: str = "", **changes: Any
) -> CommandRecord:
    state = transition(record.direction, record.state, event, outcome)
    return dataclasses.replace(record, state=state, final=state not in _NOT_FINAL, **changes)


def is_profile(record: CommandRecord) -> bool:
    return record.command in PROFILE_ACTIONS


# --- sent (eMSP) -------------------------------------------------------------------------------
def new_sent(
    command_id: str,
    command: str,
    partner_id: str,
    request: Mapping[str, Any],
    response_url: str,
) -> CommandRecord:
    """A command we are about to send (not stored until its response is known)."""
    return CommandRecord(
        id=command_id,
        direction=SENT,
        command=command,
        state=NEW,
        partner_id=partner_id,
        request=dict(request),
        response_url=response_url,
    )


def on_response(
    record: CommandRecord, response: Mapping[str, Any], now: datetime, *, grace: float = 0.0
) -> CommandRecord:
    """The partner's synchronous CommandResponse / ChargingProfileResponse (head form)."""
    result = str(response.get("result", "REJECTED"))
    if result == "ACCEPTED":
        timeout = response.get("timeout")
        seconds = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else 30.0
        return _move(
            record,
            Event.ACCEPTED,
            response=dict(response),
            deadline=now + timedelta(seconds=seconds + grace),
        )
    return _move(record, Event.REFUSED, outcome=result, response=dict(response), deadline=None)


def on_send_failed(record: CommandRecord, error: str) -> CommandRecord:
    return _move(record, Event.SEND_FAILED, response={"error": error}, deadline=None)


def on_result(record: CommandRecord, result: Mapping[str, Any]) -> CommandRecord:
    """The asynchronous result POSTed to our response_url (head CommandResult or a
    charging-profile result)."""
    return _move(
        record, Event.RESULT, outcome=str(result.get("result")), result=dict(result), deadline=None
    )


# --- received (CPO) ----------------------------------------------------------------------------
def new_received(
    command_id: str,
    command: str,
    partner_id: str | None,
    request: Mapping[str, Any],
    response_url: str | None,
) -> CommandRecord:
    return CommandRecord(
        id=command_id,
        direction=RECEIVED,
        command=command,
        state=NEW,
        partner_id=partner_id,
        request=dict(request),
        response_url=response_url,
    )


def accept_received(
    record: CommandRecord,
    response: Mapping[str, Any],
    now: datetime,
    *,
    immediate_result: Mapping[str, Any] | None = None,
) -> CommandRecord:
    """Our synchronous answer is decided: ACCEPTED waits for the operator's result until
    ``timeout`` (or takes ``immediate_result`` when the operator already knows it); anything
    else ends the flow."""
    if response.get("result") != "ACCEPTED":
        return _move(record, Event.REFUSED, response=dict(response), deadline=None)
    if immediate_result is not None:
        return _move(
            record,
            Event.OPERATOR_RESULT,
            response={**response, "attempts": 0},
            result=dict(immediate_result),
            deadline=now,
        )
    timeout = int(response.get("timeout") or 30)
    return _move(
        record,
        Event.ACCEPTED,
        response={**response, "attempts": 0},
        deadline=now + timedelta(seconds=timeout),
    )


def on_operator_result(
    record: CommandRecord, result: Mapping[str, Any], now: datetime
) -> CommandRecord:
    """The operator reports the charge point's outcome: it is due for delivery at once."""
    return _move(record, Event.OPERATOR_RESULT, result=dict(result), deadline=now)


def timeout_result(record: CommandRecord) -> dict[str, Any]:
    if is_profile(record):
        # ChargingProfileResultType has no TIMEOUT: the closest honest answer is UNKNOWN
        return {"result": "UNKNOWN"}
    return {"result": "TIMEOUT"}


def on_deadline(record: CommandRecord, now: datetime) -> CommandRecord:
    """The sweep found the record due: a sent command times out; a received one that still
    waits for the operator gets a TIMEOUT result to deliver."""
    if record.direction is SENT:
        return _move(record, Event.DEADLINE, deadline=None, result={"result": "TIMEOUT"})
    if record.state == State.AWAITING_RESULT:
        return _move(record, Event.DEADLINE, result=timeout_result(record), deadline=now)
    return record


def delivery_backoff(attempts: int) -> float:
    """Seconds before the next POST of a result: 1, 2, 4, ... capped at 5 minutes."""
    return float(min(300, 2 ** max(0, attempts - 1)))


def on_delivery(
    record: CommandRecord, error: str | None, now: datetime, *, permanent: bool = False
) -> CommandRecord:
    """After one POST of the result: delivered, or retried with backoff, or given up."""
    response = dict(record.response or {})
    attempts = int(response.get("attempts", 0)) + 1
    response["attempts"] = attempts
    if error is None:
        response.pop("last_error", None)
        return _move(record, Event.DELIVERED, response=response, deadline=None)
    response["last_error"] = error
    if permanent or attempts >= MAX_DELIVERY_ATTEMPTS:
        return _move(record, Event.GAVE_UP, response=response, deadline=None)
    return _move(
        record,
        Event.DELIVERY_FAILED,
        response=response,
        deadline=now + timedelta(seconds=delivery_backoff(attempts)),
    )


# --- the requests, as data, and the flows that yield them -------------------------------------
@dataclass(frozen=True, slots=True)
class SendCommand:
    """POST a command (or a charging-profile request) to the partner's Receiver."""

    partner_id: str
    command: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PostResult:
    """POST a result to the response_url the partner gave us (``module``: ``commands`` or
    ``chargingprofiles``)."""

    partner_id: str | None
    response_url: str
    body: Mapping[str, Any]
    module: str


class SendError(Exception):
    """What the I/O loop sends into a flow when a request failed; ``permanent`` when retrying
    cannot help (the partner rejected the request, no endpoint)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def send_flow(
    record: CommandRecord, now: datetime
) -> Generator[SendCommand, Mapping[str, Any] | SendError, CommandRecord]:
    """Send a new command: yields the request; gets the head response (or a SendError)."""
    assert record.partner_id is not None and record.request is not None
    answer = yield SendCommand(record.partner_id, record.command, record.request)
    if isinstance(answer, SendError):
        return on_send_failed(record, str(answer))
    return on_response(record, answer, now)


def deliver_flow(
    record: CommandRecord, now: datetime
) -> Generator[PostResult, SendError | None, CommandRecord]:
    """POST a due result to the response_url: yields the request; gets ``None`` on success."""
    if record.state == State.AWAITING_RESULT:
        record = on_deadline(record, now)
    if record.state != State.RESULT_PENDING:
        return record
    if not record.response_url:
        return on_delivery(record, "no response_url", now, permanent=True)
    module = "chargingprofiles" if is_profile(record) else "commands"
    failure = yield PostResult(record.partner_id, record.response_url, record.result or {}, module)
    if failure is None:
        return on_delivery(record, None, now)
    return on_delivery(record, str(failure), now, permanent=failure.permanent)
