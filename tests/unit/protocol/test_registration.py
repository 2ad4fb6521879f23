"""The credentials handshake state machines, fed canned responses (no sockets)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from ocpikit.core.errors import (
    MethodNotAllowed,
    NoMatchingEndpoints,
    UnableToUseClientApi,
    UnsupportedVersion,
)
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, Role, Version
from ocpikit.protocol.ports import PartyRole
from ocpikit.protocol.registration import (
    AcceptFlow,
    Handshake,
    HttpRequest,
    HttpResponse,
    PartnerState,
    RegisterFlow,
    Step,
    build_credentials,
    check_credentials_method,
    mutual_version,
)

TS = "2026-01-01T00:00:00Z"


def ok(data: Any) -> HttpResponse:
    return HttpResponse(200, {"data": data, "status_code": 1000, "timestamp": TS})


VERSIONS = ok(
    [
        {"version": "2.1.1", "url": "https://p.example/ocpi/2.1.1"},
        {"version": "2.2.1", "url": "https://p.example/ocpi/2.2.1"},
    ]
)
DETAILS = ok(
    {
        "version": "2.2.1",
        "endpoints": [
            {"identifier": "credentials", "role": "SENDER", "url": "https://p.example/cred"},
            {"identifier": "locations", "role": "SENDER", "url": "https://p.example/loc"},
        ],
    }
)
PARTY = PartyRole("EMSP", "NL", "ABC", {"name": "Us"})


def theirs(version: Version) -> dict[str, Any]:
    return build_credentials(
        version,
        "TOKEN-C",
        "https://p.example/ocpi/versions",
        [PartyRole("CPO", "DE", "XYZ", {"name": "Them"})],
    )


def drive(
    gen: Generator[HttpRequest, HttpResponse, Handshake], responses: list[HttpResponse]
) -> tuple[list[HttpRequest], Handshake]:
    sent: list[HttpRequest] = []
    req = next(gen)
    for resp in responses:
        sent.append(req)
        try:
            req = gen.send(resp)
        except StopIteration as stop:
            return sent, stop.value
    raise AssertionError("flow did not finish")


def register_flow(offered: tuple[Version, ...] = (V2_1_1, V2_2_1, V2_3_0)) -> RegisterFlow:
    return RegisterFlow(
        "https://p.example/ocpi/versions",
        "TOKEN-A",
        offered,
        lambda v: build_credentials(v, "TOKEN-B", "https://us.example/ocpi/versions", [PARTY]),
    )


def test_register_picks_highest_mutual_version_and_posts_token_b() -> None:
    flow = register_flow()
    sent, result = drive(flow.flow(), [VERSIONS, DETAILS, ok(theirs(V2_2_1))])
    assert [(r.method, r.url) for r in sent] == [
        ("GET", "https://p.example/ocpi/versions"),
        ("GET", "https://p.example/ocpi/2.2.1"),
        ("POST", "https://p.example/cred"),
    ]
    assert all(r.token == "TOKEN-A" for r in sent)
    assert sent[2].body is not None and sent[2].body["token"] == "TOKEN-B"
    assert sent[2].body["roles"][0]["party_id"] == "ABC"
    assert result.version == V2_2_1
    assert result.token == "TOKEN-C"
    assert result.parties[0].role == "CPO"
    assert flow.state is Step.DONE


def test_register_without_mutual_version_is_3002_and_posts_nothing() -> None:
    flow = register_flow(offered=(V2_3_0,))
    gen = flow.flow()
    next(gen)
    with pytest.raises(UnsupportedVersion) as info:
        gen.send(VERSIONS)
    assert info.value.status_code == 3002
    assert flow.state is Step.FAILED


def test_register_missing_credentials_endpoint_is_3003() -> None:
    details = ok({"version": "2.2.1", "endpoints": [{"identifier": "locations", "url": "x"}]})
    gen = register_flow().flow()
    next(gen)
    gen.send(VERSIONS)
    with pytest.raises(NoMatchingEndpoints):
        gen.send(details)


def test_register_405_when_already_registered() -> None:
    gen = register_flow().flow()
    next(gen)
    gen.send(VERSIONS)
    gen.send(DETAILS)
    with pytest.raises(MethodNotAllowed):
        gen.send(HttpResponse(405, {"status_code": 2000, "timestamp": TS}))


def test_register_unreachable_partner_is_3001() -> None:
    gen = register_flow().flow()
    next(gen)
    with pytest.raises(UnableToUseClientApi):
        gen.send(HttpResponse(0, error="connection refused"))


def test_accept_calls_back_with_token_b_on_the_posted_version() -> None:
    body = build_credentials(V2_2_1, "TOKEN-B", "https://p.example/ocpi/versions", [PARTY])
    flow = AcceptFlow(body, V2_2_1)
    sent, result = drive(flow.flow(), [VERSIONS, DETAILS])
    assert [r.url for r in sent] == [
        "https://p.example/ocpi/versions",
        "https://p.example/ocpi/2.2.1",
    ]
    assert all(r.token == "TOKEN-B" for r in sent)
    assert result.token == "TOKEN-B"
    assert [e.identifier for e in result.endpoints] == ["credentials", "locations"]
    assert flow.state is Step.DONE


def test_accept_2_1_1_uses_the_configured_role() -> None:
    body = build_credentials(V2_1_1, "TOKEN-B", "https://p.example/ocpi/versions", [PARTY])
    assert "roles" not in body and body["party_id"] == "ABC"
    flow = AcceptFlow(body, V2_1_1, default_role=Role.EMSP)
    _, result = drive(flow.flow(), [VERSIONS, DETAILS])
    assert result.parties[0].role == "EMSP"


def test_accept_version_not_offered_is_3002() -> None:
    body = build_credentials(V2_3_0, "TOKEN-B", "https://p.example/ocpi/versions", [PARTY])
    gen = AcceptFlow(body, V2_3_0).flow()
    next(gen)
    with pytest.raises(UnsupportedVersion):
        gen.send(VERSIONS)


def test_accept_callback_failure_is_3001() -> None:
    body = build_credentials(V2_2_1, "TOKEN-B", "https://p.example/ocpi/versions", [PARTY])
    gen = AcceptFlow(body, V2_2_1).flow()
    next(gen)
    with pytest.raises(UnableToUseClientApi):
        gen.send(HttpResponse(401, {"status_code": 2000, "timestamp": TS}))


def test_accept_missing_required_endpoint_is_3003() -> None:
    body = build_credentials(V2_2_1, "TOKEN-B", "https://p.example/ocpi/versions", [PARTY])
    gen = AcceptFlow(body, V2_2_1, required=["tokens"]).flow()
    next(gen)
    gen.send(VERSIONS)
    with pytest.raises(NoMatchingEndpoints):
        gen.send(DETAILS)


def test_accept_rejects_credentials_without_roles_naming_the_field() -> None:
    from ocpikit.core.errors import InvalidOrMissingParameters

    with pytest.raises(InvalidOrMissingParameters) as info:
        AcceptFlow({"token": "x", "url": "https://p"}, V2_2_1)
    assert "roles" in info.value.message


@pytest.mark.parametrize(
    ("state", "method", "allowed"),
    [
        (PartnerState.INVITED, "POST", True),
        (PartnerState.REGISTERED, "POST", False),
        (PartnerState.INVITED, "PUT", False),
        (PartnerState.INVITED, "DELETE", False),
        (PartnerState.REGISTERED, "PUT", True),
        (PartnerState.REGISTERED, "DELETE", True),
    ],
)
def test_credentials_method_table(state: PartnerState, method: str, allowed: bool) -> None:
    if allowed:
        check_credentials_method(state, method)
    else:
        with pytest.raises(MethodNotAllowed) as info:
            check_credentials_method(state, method)
        assert info.value.http_status == 405


def test_mutual_version() -> None:
    assert mutual_version([V2_1_1, V2_2_1], [V2_2_1, V2_3_0]) == V2_2_1
    assert mutual_version([V2_1_1], [V2_3_0]) is None


def test_flows_walk_their_transition_tables_one_event_per_answer() -> None:
    flow = register_flow()
    drive(flow.flow(), [VERSIONS, DETAILS, ok(theirs(V2_2_1))])
    assert flow.machine.history == [Step.START, Step.VERSIONS, Step.DETAILS, Step.DONE]
    body = build_credentials(V2_2_1, "TOKEN-B", "https://p.example/ocpi/versions", [PARTY])
    accept = AcceptFlow(body, V2_2_1)
    drive(accept.flow(), [VERSIONS, DETAILS])
    assert accept.machine.history == [Step.START, Step.VERSIONS, Step.DONE]
    failing = register_flow(offered=(V2_3_0,))
    gen = failing.flow()
    next(gen)
    with pytest.raises(UnsupportedVersion):
        gen.send(VERSIONS)
    assert failing.machine.history == [Step.START, Step.FAILED]


def test_an_event_the_table_does_not_list_is_a_bug_of_the_flow() -> None:
    from ocpikit.protocol.registration import (
        ACCEPT_TRANSITIONS,
        REGISTER_TRANSITIONS,
        Event,
        transition,
    )

    assert transition(REGISTER_TRANSITIONS, Step.DETAILS, Event.CREDENTIALS) is Step.DONE
    with pytest.raises(ValueError, match="credentials is not allowed in state DETAILS"):
        transition(ACCEPT_TRANSITIONS, Step.DETAILS, Event.CREDENTIALS)
    with pytest.raises(ValueError):
        transition(REGISTER_TRANSITIONS, Step.DONE, Event.ERROR)


def test_a_closed_flow_fires_nothing() -> None:
    flow = register_flow()
    gen = flow.flow()
    next(gen)
    gen.close()
    assert flow.state is Step.START
