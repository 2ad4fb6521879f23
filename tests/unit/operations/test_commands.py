"""Commands and charging-profile requests as use cases (``ocpikit.operations.commands``) over a
fake partner-calls port: what is sent, what is stored, what the sweep does, which failures are
retried (DIGEST §3.6, §3.7, §6.8)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from ocpikit.core.errors import (
    ClientError,
    NoEndpoint,
    TransportError,
    Unauthorized,
    UnknownLocation,
)
from ocpikit.operations import commands
from ocpikit.protocol import commands as machine
from ocpikit.protocol.ports import CommandDirection, CommandRecord, PartnerStatus
from ocpikit.protocol.webhooks import KIND

from .fakes import World, partner, world

pytestmark = pytest.mark.anyio

START = {"token": {"uid": "T1"}, "location_id": "LOC1"}


async def _events(w: World) -> list[dict[str, Any]]:
    """The queued webhook events (due at once; never listed as open commands)."""
    due = await w.storage.commands.due(before=w.clock.now() + timedelta(1), limit=100)
    assert all(r.command != KIND for r in await commands.open_commands(w.storage))
    return [dict(r.request or {}) for r in due if r.command == KIND]


async def test_a_command_goes_out_with_our_response_url_and_waits_for_its_result() -> None:
    w = world()
    await w.storage.partners.save(partner())
    record = await commands.send_command(w.ports, "NL-CPO", "start_session", START)
    assert record.state == machine.State.PENDING and not record.final
    assert record.deadline == w.clock.now() + timedelta(seconds=30)
    [(pid, method, (name, body), _)] = w.calls.calls
    assert (pid, method, name) == ("NL-CPO", "send_command", "START_SESSION")
    url = f"https://us.example/ocpi/2.2.1/emsp/commands/START_SESSION/{record.id}"
    assert body["response_url"] == url == record.response_url
    assert body["location_id"] == "LOC1"
    stored = await commands.command_record(w.storage, CommandDirection.SENT, record.id)
    assert stored == record
    assert [r.id for r in await commands.open_commands(w.storage)] == [record.id]


async def test_unknown_command_and_unregistered_partner_are_refused_before_sending() -> None:
    w = world()
    await w.storage.partners.save(partner(status=PartnerStatus.PENDING))
    with pytest.raises(ValueError, match="unknown command"):
        await commands.send_command(w.ports, "NL-CPO", "REBOOT", {})
    with pytest.raises(NoEndpoint):
        await commands.send_command(w.ports, "NL-CPO", "START_SESSION", START)
    with pytest.raises(NoEndpoint):
        await commands.send_profile(w.ports, "XX-NONE", "CLEAR_PROFILE", "S1", {})
    assert w.calls.calls == []


async def test_unknown_location_is_a_rejected_command_and_a_result_event() -> None:
    w = world()
    await w.storage.partners.save(partner())
    w.calls.answers["send_command"] = UnknownLocation("no LOC9")
    record = await commands.send_command(w.ports, "NL-CPO", "START_SESSION", START)
    assert record.state == "REJECTED" and record.final
    assert record.response is not None
    assert record.response["message"][0]["text"] == "no LOC9"
    [event] = [e for e in await _events(w) if e["type"] == "command.result"]
    assert event["data"]["command_id"] == record.id and event["data"]["state"] == "REJECTED"


async def test_a_failed_send_is_final_with_the_error() -> None:
    w = world(events=False)
    await w.storage.partners.save(partner())
    w.calls.answers["send_command"] = TransportError("connection refused")
    record = await commands.send_command(w.ports, "NL-CPO", "STOP_SESSION", {"session_id": "S"})
    assert record.state == machine.State.SEND_FAILED and record.final
    assert record.response == {"error": "TransportError: connection refused"}


async def test_a_result_that_overtakes_the_answer_is_kept() -> None:
    w = world()
    await w.storage.partners.save(partner())

    async def fast(command: str, body: Any) -> dict[str, Any]:
        # the CPO POSTs the result before its synchronous answer reaches us
        [sent] = await commands.open_commands(w.storage, direction=CommandDirection.SENT)
        await w.storage.commands.save(machine.on_result(sent, {"result": "ACCEPTED"}))
        return {"result": "ACCEPTED", "timeout": 30}

    w.calls.answers["send_command"] = fast
    record = await commands.send_command(w.ports, "NL-CPO", "START_SESSION", START)
    assert record.state == "ACCEPTED" and record.final
    assert record.result == {"result": "ACCEPTED"}
    assert record.response == {"result": "ACCEPTED", "timeout": 30}


@pytest.mark.parametrize(
    ("action", "body", "method", "expected"),
    [
        (
            "set_profile",
            {"charging_profile": {"charging_rate_unit": "W"}},
            "set_charging_profile",
            "charging_profile",
        ),
        ("GET_PROFILE", {}, "get_active_profile", 900),
        ("GET_PROFILE", {"duration": 60}, "get_active_profile", 60),
        ("CLEAR_PROFILE", {}, "clear_profile", None),
    ],
)
async def test_a_profile_request_calls_its_module_call_with_our_response_url(
    action: str, body: dict[str, Any], method: str, expected: Any
) -> None:
    w = world()
    await w.storage.partners.save(partner())
    record = await commands.send_profile(w.ports, "NL-CPO", action, "S1", body)
    assert record.command == action.upper() and record.state == machine.State.PENDING
    [(_, called, args, kwargs)] = w.calls.calls
    assert called == method and args[0] == "S1"
    url = f"https://us.example/ocpi/2.2.1/emsp/chargingprofiles/S1/{record.id}"
    assert record.response_url == url
    if method == "set_charging_profile":
        assert args[1] == {"charging_profile": body["charging_profile"], "response_url": url}
    else:
        assert kwargs["response_url"] == url
    if method == "get_active_profile":
        assert kwargs["duration"] == expected


async def _received(w: World, command: str = "START_SESSION", **kw: Any) -> CommandRecord:
    record = machine.new_received(
        "C1", command, "DE-MSP", {"response_url": "https://msp.example/r/C1"}, **kw
    )
    record = machine.accept_received(record, {"result": "ACCEPTED", "timeout": 30}, w.clock.now())
    return await w.storage.commands.save(record)


async def test_the_operators_result_is_posted_at_once() -> None:
    w = world()
    await w.storage.partners.save(partner("DE-MSP", party=("DE", "MSP"), role="EMSP"))
    await _received(w, response_url="https://msp.example/r/C1")
    done = await commands.report_result(w.ports, "C1", {"result": "ACCEPTED"})
    assert done.state == machine.State.DELIVERED and done.final
    [(pid, method, args, kwargs)] = w.calls.calls
    assert (pid, method) == ("DE-MSP", "post_result")
    assert args == ("https://msp.example/r/C1", {"result": "ACCEPTED"})
    assert kwargs == {"module": "commands"}
    with pytest.raises(machine.InvalidTransition):
        await commands.report_result(w.ports, "C1", {"result": "FAILED"})
    with pytest.raises(KeyError):
        await commands.report_result(w.ports, "C2", {"result": "ACCEPTED"})


async def test_a_sweep_while_the_result_is_posted_does_not_post_it_again() -> None:
    """The operator's result is leased while this process POSTs it: a sweep running meanwhile
    (this process's or another's) finds it not due (it POSTed it a second time before)."""
    w = world()
    await w.storage.partners.save(partner("DE-MSP", party=("DE", "MSP"), role="EMSP"))
    await _received(w, response_url="https://msp.example/r/C1")

    async def meanwhile(*args: Any, **kwargs: Any) -> None:
        await commands.sweep(w.ports)  # runs while the POST is in flight

    w.calls.answers["post_result"] = meanwhile
    done = await commands.report_result(w.ports, "C1", {"result": "ACCEPTED"})
    assert done.state == machine.State.DELIVERED
    assert [m for _, m, _, _ in w.calls.calls] == ["post_result"]


@pytest.mark.parametrize(
    ("error", "state", "retried"),
    [
        (TransportError("down"), machine.State.RESULT_PENDING, True),
        (Unauthorized("token?"), machine.State.RESULT_PENDING, True),
        (ClientError("bad result"), machine.State.UNDELIVERED, False),
    ],
)
async def test_a_failed_delivery_is_retried_unless_the_partner_refused_it(
    error: Exception, state: str, retried: bool
) -> None:
    w = world()
    await w.storage.partners.save(partner("DE-MSP", party=("DE", "MSP"), role="EMSP"))
    await _received(w, "SET_PROFILE", response_url="https://msp.example/r/C1")
    w.calls.answers["post_result"] = error
    done = await commands.report_result(w.ports, "C1", {"result": "ACCEPTED"})
    assert done.state == state and done.final is not retried
    assert done.response is not None and done.response["attempts"] == 1
    assert type(error).__name__ in done.response["last_error"]
    assert w.calls.calls[0][3] == {"module": "chargingprofiles"}
    if retried:
        assert done.deadline == w.clock.now() + timedelta(seconds=1)


async def test_the_sweep_times_out_sent_commands_and_posts_timeout_results() -> None:
    w = world()
    await w.storage.partners.save(partner())
    await w.storage.partners.save(partner("DE-MSP", party=("DE", "MSP"), role="EMSP"))
    sent = await commands.send_command(w.ports, "NL-CPO", "START_SESSION", START)
    await _received(w, response_url="https://msp.example/r/C1")
    assert await commands.sweep(w.ports) == 0  # nothing due yet
    w.clock.advance(timedelta(seconds=30))
    assert await commands.sweep(w.ports) >= 2
    timed_out = await commands.command_record(w.storage, CommandDirection.SENT, sent.id)
    assert timed_out is not None and timed_out.state == machine.State.TIMEOUT
    received = await commands.command_record(w.storage, CommandDirection.RECEIVED, "C1")
    assert received is not None and received.state == machine.State.DELIVERED
    assert w.calls.calls[-1][2] == ("https://msp.example/r/C1", {"result": "TIMEOUT"})
    assert await commands.open_commands(w.storage) == []


async def test_the_sweep_delivers_webhook_events_and_leaves_them_without_a_sender() -> None:
    w = world()
    await w.storage.partners.save(partner())
    w.calls.answers["send_command"] = UnknownLocation("no")
    await commands.send_command(w.ports, "NL-CPO", "START_SESSION", START)
    assert await commands.sweep(w.ports) == 1
    assert len(w.webhooks.delivered) == 1
    assert await commands.sweep(w.ports) == 0  # delivered: final

    quiet = world(events=False)
    assert quiet.ports.webhooks is None
    await quiet.storage.commands.save(
        CommandRecord("E1", CommandDirection.SENT, KIND, "PENDING", deadline=quiet.clock.now())
    )
    assert await commands.sweep(quiet.ports) == 1
    left = await quiet.storage.commands.get(CommandDirection.SENT, "E1")
    assert left is not None and left.state == "PENDING"


async def test_one_failing_record_does_not_stop_the_sweep() -> None:
    w = world()
    await w.storage.partners.save(partner("DE-MSP", party=("DE", "MSP"), role="EMSP"))
    await _received(w, response_url="https://msp.example/r/C1")
    w.calls.answers["post_result"] = RuntimeError("bug")
    w.clock.advance(timedelta(seconds=31))
    assert await commands.sweep(w.ports) == 1  # logged, not raised


async def test_sweep_until_stops_when_told() -> None:
    w = world()
    stop = asyncio.Event()
    task = asyncio.create_task(commands.sweep_until(w.ports, stop, interval=0.01))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=1)
