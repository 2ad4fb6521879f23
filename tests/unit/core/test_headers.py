from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from ocpikit.core.headers import (
    LowerHeaders,
    MessageIds,
    PartyRef,
    RoutingHeaders,
    carries_routing_headers,
    get_header,
    new_id,
    uses_message_ids,
)
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, ModuleID


def _counter() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"id-{next(numbers)}"


def test_get_header_is_case_insensitive() -> None:
    headers = {"x-request-id": "r1", "OCPI-From-Country-Code": "NL"}
    assert get_header(headers, "X-Request-ID") == "r1"
    assert get_header(headers, "ocpi-from-country-code") == "NL"
    assert get_header(headers, "X-Correlation-ID") is None
    assert get_header(headers, "X-Correlation-ID", "dflt") == "dflt"
    assert get_header([("LINK", "<u>"), ("link", "<v>")], "Link") == "<u>"


def test_new_ids_are_unique_uuids() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 36 for i in ids)


def test_new_request_ids() -> None:
    factory = _counter()
    ids = MessageIds.new(factory=factory)
    assert ids == MessageIds("id-1", "id-2")
    assert MessageIds.new("corr", factory=factory).correlation_id == "corr"
    assert ids.to_headers() == {"X-Request-ID": "id-1", "X-Correlation-ID": "id-2"}


def test_response_echoes_both_ids() -> None:
    incoming = {"x-request-id": "774321", "x-correlation-id": "123456"}
    ids = MessageIds.from_headers(incoming).for_response()
    assert ids.to_headers() == {"X-Request-ID": "774321", "X-Correlation-ID": "123456"}


def test_hub_forwarding_new_request_id_same_correlation() -> None:
    # plantuml unique_ids_via_hub: CPO→HUB 774321/123456, HUB→MSP 991234/123456
    incoming = MessageIds("774321", "123456")
    forwarded = incoming.forwarded(factory=lambda: "991234")
    assert forwarded == MessageIds("991234", "123456")


def test_missing_ids_are_made_up() -> None:
    ids = MessageIds.from_headers({}, factory=lambda: "gen")
    assert ids == MessageIds("gen", "gen")
    assert MessageIds.from_headers({"X-Request-ID": "  "}, factory=lambda: "g").request_id == "g"


def test_message_ids_exist_from_2_2() -> None:
    assert not uses_message_ids(V2_1_1)
    assert uses_message_ids(V2_2_1)
    assert uses_message_ids("2.3.0")


@pytest.mark.parametrize(
    "module",
    [
        "locations",
        "sessions",
        "cdrs",
        "tariffs",
        "tokens",
        "commands",
        "chargingprofiles",
        "payments",
        "bookings",
        "Booking",
    ],
)
def test_functional_modules_carry_routing_headers(module: str) -> None:
    assert carries_routing_headers(module, V2_3_0)
    assert not carries_routing_headers(module, V2_1_1)


@pytest.mark.parametrize(
    "module", ["versions", "credentials", "hubclientinfo", ModuleID.credentials]
)
def test_configuration_modules_do_not(module: str) -> None:
    assert not carries_routing_headers(module, V2_2_1)


def test_parse_build_and_swap_routing_headers() -> None:
    request = {
        "OCPI-from-country-code": "NL",
        "ocpi-from-party-id": "EXA",
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "CPO",
    }
    routing = RoutingHeaders.parse(request)
    assert routing.from_party == PartyRef("NL", "EXA")
    assert routing.to_party == PartyRef("DE", "CPO")
    response = routing.swapped()
    assert response.to_headers() == {
        "OCPI-from-country-code": "DE",
        "OCPI-from-party-id": "CPO",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "EXA",
    }
    assert response.swapped() == routing


def test_open_routing_request_has_no_to() -> None:
    routing = RoutingHeaders.parse({"OCPI-from-country-code": "NL", "OCPI-from-party-id": "EXA"})
    assert routing.to_party is None
    assert routing.to_headers() == {"OCPI-from-country-code": "NL", "OCPI-from-party-id": "EXA"}
    assert RoutingHeaders.parse({"OCPI-to-country-code": "NL"}).to_party is None  # half a party


def test_party_refs_compare_case_insensitively_and_keep_case() -> None:
    assert PartyRef("nl", "exa") == PartyRef("NL", "EXA")
    assert len({PartyRef("nl", "exa"), PartyRef("NL", "EXA")}) == 1
    assert str(PartyRef("nl", "Exa")) == "nl*Exa"


@pytest.mark.parametrize(
    "present",
    [
        {},
        {"OCPI-from-country-code": "NL"},
        {"OCPI-from-country-code": "NL", "OCPI-from-party-id": "EXA"},
        {"OCPI-to-country-code": " DE ", "OCPI-to-party-id": "CPO"},
        {"OCPI-to-party-id": "CPO", "OCPI-from-party-id": "EXA"},  # ids without countries
        {
            "OCPI-from-country-code": "NL",
            "OCPI-from-party-id": "EXA",
            "OCPI-to-country-code": "DE",
            "OCPI-to-party-id": "",
        },
    ],
)
def test_routing_from_lower_headers_reads_like_from_any_headers(present: dict[str, str]) -> None:
    """``LowerHeaders`` without either country header take a shortcut: same answer."""
    lower = LowerHeaders({k.lower(): v for k, v in present.items()})
    lower["x-other"] = "1"
    assert RoutingHeaders.parse(lower) == RoutingHeaders.parse(list(present.items()))
