"""The I/O driver of the registration flows (``client.registration.drive``) over a mock
transport: it feeds the flow the answers, and closes the flow however the run ends."""

from __future__ import annotations

import inspect

import httpx
import orjson
import pytest

from ocpikit.client.registration import drive
from ocpikit.core.errors import UnableToUseClientApi
from ocpikit.core.versions import V2_2_1
from ocpikit.protocol.ports import PartyRole
from ocpikit.protocol.registration import AcceptFlow, Step, build_credentials

pytestmark = pytest.mark.anyio

TS = "2026-01-01T00:00:00Z"
BODY = build_credentials(
    V2_2_1, "TOKEN-B", "https://p.example/ocpi/versions", [PartyRole("CPO", "DE", "XYZ")]
)


def _answers(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/versions"):
        data: object = [{"version": "2.2.1", "url": "https://p.example/ocpi/2.2.1"}]
    else:
        data = {
            "version": "2.2.1",
            "endpoints": [{"identifier": "credentials", "role": "SENDER", "url": "https://c"}],
        }
    return httpx.Response(
        200, content=orjson.dumps({"data": data, "status_code": 1000, "timestamp": TS})
    )


async def test_drive_runs_the_flow_to_its_end_and_closes_it() -> None:
    flow = AcceptFlow(BODY, V2_2_1)
    gen = flow.flow()
    async with httpx.AsyncClient(transport=httpx.MockTransport(_answers)) as http:
        handshake = await drive(gen, client=http)
    assert handshake.version == V2_2_1 and flow.state is Step.DONE
    assert inspect.getgeneratorstate(gen) == inspect.GEN_CLOSED


async def test_a_failing_flow_is_closed_and_its_error_raised() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, content=b"no")

    flow = AcceptFlow(BODY, V2_2_1)
    gen = flow.flow()
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(UnableToUseClientApi):
            await drive(gen, client=http)
    assert flow.state is Step.FAILED
    assert inspect.getgeneratorstate(gen) == inspect.GEN_CLOSED


async def test_a_run_stopped_from_outside_closes_the_suspended_flow() -> None:
    def crash(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("the driver's caller gave up")

    flow = AcceptFlow(BODY, V2_2_1)
    gen = flow.flow()
    async with httpx.AsyncClient(transport=httpx.MockTransport(crash)) as http:
        with pytest.raises(RuntimeError):
            await drive(gen, client=http)
    assert inspect.getgeneratorstate(gen) == inspect.GEN_CLOSED
    assert flow.state is Step.START  # closed, not failed: no answer was judged
