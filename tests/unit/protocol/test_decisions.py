"""Operator decisions fail closed (``ocpikit.protocol.decisions.HookDecisions``): a hook that
errs or answers nonsense rejects the command and does not allow the token, and says why."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ocpikit.protocol.decisions import DecisionRequest, HookDecisions

pytestmark = pytest.mark.anyio

REQUEST = DecisionRequest("command", "NL-CPO", "DE-MSP", {"command": "START_SESSION"})


def _raises(_: dict[str, Any]) -> dict[str, Any]:
    raise ConnectionError("decision service unreachable")


#: answers that are no decision at all: everything fails closed
NONSENSE: list[Any] = [
    _raises,
    lambda _: None,
    lambda _: ["ACCEPTED"],
    lambda _: {},
    lambda _: {"result": "MAYBE", "allowed": "PERHAPS"},
    lambda _: {"result": 1, "allowed": True},
]

#: a valid authorization but a command answer out of range: only the command fails closed
BAD_COMMAND: list[Any] = [
    lambda _: {"result": "ACCEPTED", "allowed": "ALLOWED", "timeout": "soon"},
    lambda _: {"result": "ACCEPTED", "allowed": "ALLOWED", "timeout": 10**9},
    lambda _: {"result": "ACCEPTED", "allowed": "ALLOWED", "command_result": "WHATEVER"},
]


@pytest.mark.parametrize("hook", NONSENSE)
async def test_a_failing_or_nonsensical_hook_fails_closed(
    hook: Any, caplog: pytest.LogCaptureFixture
) -> None:
    decisions = HookDecisions(hook)
    with caplog.at_level(logging.WARNING, logger="ocpikit.decisions"):
        assert (await decisions.command(REQUEST)).result == "REJECTED"
        assert (await decisions.charging_profile(REQUEST)).result == "REJECTED"
        assert (await decisions.authorize(REQUEST)).allowed == "NOT_ALLOWED"
    assert sum("failed closed" in m for m in caplog.messages) == 3


@pytest.mark.parametrize("hook", BAD_COMMAND)
async def test_a_command_answer_out_of_range_rejects_the_command(hook: Any) -> None:
    decisions = HookDecisions(hook)
    command = await decisions.command(REQUEST)
    assert command.result == "REJECTED"
    assert command.message == "the operator's decision service did not answer"
    assert (await decisions.authorize(REQUEST)).allowed == "ALLOWED"


async def test_a_sensible_answer_is_taken_as_it_is() -> None:
    async def hook(request: dict[str, Any]) -> dict[str, Any]:
        assert request["kind"] == "command" and request["partner"] == "DE-MSP"
        return {
            "result": "ACCEPTED",
            "timeout": 45,
            "command_result": "ACCEPTED",
            "allowed": "BLOCKED",
            "authorization_reference": "ref-1",
        }

    decisions = HookDecisions(hook)
    command = await decisions.command(REQUEST)
    assert (command.result, command.timeout, command.command_result) == ("ACCEPTED", 45, "ACCEPTED")
    allowed = await decisions.authorize(REQUEST)
    assert (allowed.allowed, allowed.authorization_reference) == ("BLOCKED", "ref-1")
