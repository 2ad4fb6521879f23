"""A sender's message signature (the ``pass_headers`` switch; the ``ocn`` profile names
``OCN-Signature``) goes on with a request the hub forwards unchanged, and not with one it
converts to another version (the signature would no longer match the values)."""

from __future__ import annotations

import pytest

from ocpikit.core.headers import PartyRef
from ocpikit.protocol.profiles import passed_headers

from .hub_world import hub_world

pytestmark = pytest.mark.anyio

SIGNATURE = {"OCN-Signature": "eyJmaWVsZHMiOltdfQ"}
CPB = PartyRef("NL", "CPB")


def test_only_the_headers_the_switch_names_are_passed() -> None:
    headers = {"ocn-signature": "sig", "authorization": "Token x", "x-other": "1"}
    assert passed_headers({"profile": "ocn"}, headers) == {"OCN-Signature": "sig"}
    assert passed_headers({}, headers) == {}
    assert passed_headers({"pass_headers": ["X-Other"]}, headers) == {"X-Other": "1"}
    assert passed_headers({"pass_headers": "X-Other"}, headers) == {}  # not a list: nothing


async def test_the_signature_goes_on_only_with_an_unchanged_request() -> None:
    world = await hub_world()
    params = {"location_id": "LOC1"}
    for caller, version in (("NL-EMY", "2.2.1"), ("NL-EMX", "2.3.0")):
        await world.request(
            caller,
            "locations.sender.get_location",
            version,
            "GET",
            params=params,
            to=CPB,
            passed=SIGNATURE,
        )
    same, converted = world.forwarder.sent
    assert same.partner.id == "NL-CPB" and same.headers == SIGNATURE  # 2.2.1 to 2.2.1
    assert converted.partner.id == "NL-CPB" and converted.headers is None  # 2.3.0 to 2.2.1
