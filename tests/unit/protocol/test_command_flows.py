"""The command state machines and whitelist rules, with canned answers (no sockets)."""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocpikit.protocol import commands, tokens_auth
from ocpikit.protocol.commands import SendError, State
from ocpikit.protocol.ports import CommandRecord

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _run(flow: Generator[Any, Any, CommandRecord], answer: Any) -> CommandRecord:
    next(flow)
    with pytest.raises(StopIteration) as stop:
        flow.send(answer)
    record: CommandRecord = stop.value.value
    return record


def test_sent_command_accepted_then_result_or_timeout() -> None:
    rec = commands.new_sent("c1", "START_SESSION", "P", {"location_id": "L"}, "http://r")
    pending = _run(commands.send_flow(rec, NOW), {"result": "ACCEPTED", "timeout": 20})
    assert pending.state == State.PENDING and pending.deadline == NOW + timedelta(seconds=20)
    assert commands.on_result(pending, {"result": "EVSE_OCCUPIED"}).state == "EVSE_OCCUPIED"
    timed = commands.on_deadline(pending, NOW)
    assert timed.state == State.TIMEOUT and timed.final
    assert commands.on_result(timed, {"result": "ACCEPTED"}).state == "ACCEPTED"
    refused = _run(commands.send_flow(rec, NOW), {"result": "NOT_SUPPORTED", "timeout": 0})
    assert refused.state == "NOT_SUPPORTED" and refused.final
    failed = _run(commands.send_flow(rec, NOW), SendError("down"))
    assert failed.state == State.SEND_FAILED


def test_received_command_delivery_retries_and_gives_up() -> None:
    rec = commands.new_received("c2", "STOP_SESSION", "P", {"session_id": "S"}, "http://r")
    waiting = commands.accept_received(rec, {"result": "ACCEPTED", "timeout": 30}, NOW)
    assert waiting.state == State.AWAITING_RESULT and not waiting.final
    flow = commands.deliver_flow(waiting, NOW + timedelta(seconds=31))
    req = next(flow)
    assert isinstance(req, commands.PostResult) and req.body == {"result": "TIMEOUT"}
    with pytest.raises(StopIteration) as stop:
        flow.send(SendError("refused"))
    retry = stop.value.value
    assert retry.state == State.RESULT_PENDING and retry.response["attempts"] == 1
    gave_up = commands.on_delivery(retry, "rejected", NOW, permanent=True)
    assert gave_up.state == State.UNDELIVERED and gave_up.final
    with pytest.raises(commands.InvalidTransition):
        commands.on_operator_result(gave_up, {"result": "ACCEPTED"}, NOW)


@pytest.mark.parametrize(
    ("whitelist", "valid", "realtime", "offline"),
    [
        ("ALWAYS", True, False, "ALLOWED"),
        ("ALWAYS", False, False, "BLOCKED"),
        ("ALLOWED", True, False, "ALLOWED"),
        ("ALLOWED", False, True, "BLOCKED"),
        ("ALLOWED_OFFLINE", True, True, "ALLOWED"),
        ("NEVER", True, True, "NOT_ALLOWED"),
    ],
)
def test_whitelist_rules(whitelist: str, valid: bool, realtime: bool, offline: str) -> None:
    plan = tokens_auth.plan({"whitelist": whitelist, "valid": valid})
    assert (plan.realtime, plan.offline) == (realtime, offline)
    assert tokens_auth.plan(None).realtime
