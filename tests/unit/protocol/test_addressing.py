"""Where our requests go and to whom (protocol/addressing.py): pure, no sockets."""

from __future__ import annotations

import pytest

from ocpikit.core.headers import PartyRef
from ocpikit.core.versions import V2_1_1, V2_2_1, InterfaceRole
from ocpikit.protocol.addressing import NoEndpoint, PartnerAddress, join_url
from ocpikit.protocol.ports import Endpoint, ObjectKey, Partner, PartnerStatus, PartyRole

SENDER, RECEIVER = InterfaceRole.SENDER, InterfaceRole.RECEIVER


def hub_partner(*endpoints: Endpoint) -> Partner:
    return Partner(
        id="HUB",
        status=PartnerStatus.REGISTERED,
        roles=(PartyRole("HUB", "DE", "HUB"), PartyRole("EMSP", "DE", "MSP")),
        version="2.2.1",
        endpoints=endpoints,
        local_party=("NL", "CPO"),
    )


def test_join_url_encodes_segments_and_uses_one_slash() -> None:
    assert join_url("https://p.test/x/", "NL", "a/b c") == "https://p.test/x/NL/a%2Fb%20c"


def test_the_endpoint_of_a_module_and_role() -> None:
    address = PartnerAddress(
        hub_partner(
            Endpoint("tokens", "https://p.test/tokens/sender", "SENDER"),
            Endpoint("tokens", "https://p.test/tokens/receiver", "RECEIVER"),
        ),
        V2_2_1,
    )
    assert address.endpoint("tokens", SENDER) == "https://p.test/tokens/sender"
    assert address.endpoint("TOKENS", RECEIVER) == "https://p.test/tokens/receiver"
    assert not address.has_endpoint("cdrs", RECEIVER)
    with pytest.raises(NoEndpoint):
        address.endpoint("cdrs", RECEIVER)


def test_a_2_1_1_endpoint_serves_both_roles() -> None:
    address = PartnerAddress(hub_partner(Endpoint("locations", "https://p.test/loc")), V2_1_1)
    assert address.endpoint("locations", SENDER) == address.endpoint("locations", RECEIVER)


def test_their_party_is_the_role_implementing_the_interface() -> None:
    address = PartnerAddress(hub_partner(), V2_2_1)
    assert address.their_party("tokens", SENDER) == PartyRef("DE", "MSP")  # the eMSP's Sender
    assert address.their_party("locations", SENDER) == PartyRef("DE", "HUB")  # no CPO: first
    assert address.our_party() == PartyRef("NL", "CPO")


def test_object_url_of_a_token_carries_its_type_from_2_2() -> None:
    endpoint = Endpoint("tokens", "https://p.test/tokens", "RECEIVER")
    key = ObjectKey("Token", "DE", "MSP", "0102#APP_USER")
    url_22 = PartnerAddress(hub_partner(endpoint), V2_2_1).object_url("Token", key)
    assert url_22 == "https://p.test/tokens/DE/MSP/0102?type=APP_USER"
    url_211 = PartnerAddress(hub_partner(endpoint), V2_1_1).object_url("Token", key)
    assert url_211 == "https://p.test/tokens/DE/MSP/0102"
