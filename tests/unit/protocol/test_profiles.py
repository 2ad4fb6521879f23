"""Hub profiles: named per-connection switches, their effective values and their rules."""

from __future__ import annotations

import pytest

from ocpikit.client.policy import PartnerSwitches
from ocpikit.core.headers import PartyRef
from ocpikit.core.versions import V2_2_1, Version
from ocpikit.protocol.parties import is_hub
from ocpikit.protocol.ports import Partner, PartnerStatus, PartyRole
from ocpikit.protocol.profiles import (
    PROFILES,
    SWITCHES,
    effective_settings,
    effective_switches,
    rfid_uid,
)
from ocpikit.protocol.registration import parse_versions
from ocpikit.protocol.request_headers import request_headers


def test_every_profile_sets_only_known_switches_and_each_is_a_hub() -> None:
    assert set(PROFILES) == {"generic", "gireve", "e-clearing", "ocn"}
    for values in PROFILES.values():
        assert set(values) <= set(SWITCHES)
        assert values["hub"] is True


def test_the_connections_own_keys_win_over_its_profile() -> None:
    s = effective_settings({"profile": "gireve", "page_limits": {"cdrs": 5}})
    assert s["page_limits"] == {"cdrs": 5}
    assert s["routing_headers_always"] is True
    assert effective_settings({"profile": "nope", "x": 1}) == {"profile": "nope", "x": 1}
    sources = {e.name: (e.value, e.source) for e in effective_switches({"profile": "ocn"})}
    assert sources["version_aliases"] == ({"2.2": "2.2.1"}, "profile ocn")
    assert sources["page_limits"] == ({}, "default")
    mine = {e.name: e.source for e in effective_switches({"profile": "ocn", "hub": False})}
    assert mine["hub"] == "partner"


def test_gireve_pulls_cdrs_in_pages_of_20() -> None:
    switches = PartnerSwitches.of({"profile": "gireve"})
    assert switches.page_limit_for("cdrs") == 20
    assert switches.page_limit_for("locations") == 100
    assert switches.page_limit_for("sessions") is None
    assert PartnerSwitches.of({"page_limit": 50}).page_limit_for("cdrs") == 50


def test_a_profile_makes_a_roleless_connection_a_hub() -> None:
    p = Partner("h", PartnerStatus.REGISTERED, (PartyRole("CPO", "FR", "GIR"),), version="2.1.1")
    assert not is_hub(p)
    assert is_hub(Partner("h", PartnerStatus.REGISTERED, settings={"profile": "gireve"}))
    assert is_hub(Partner("h", PartnerStatus.REGISTERED, (PartyRole("HUB", "EU", "HUB"),)))


def test_rfid_uids_for_gireve() -> None:
    assert rfid_uid("12ab34cd", "hex-8-or-14-upper") == "12AB34CD"
    assert rfid_uid("0123456789abcd", "hex-8-or-14-upper") == "0123456789ABCD"
    with pytest.raises(ValueError, match="rfid_uid_format"):
        rfid_uid("12ab34c", "hex-8-or-14-upper")
    with pytest.raises(ValueError):
        rfid_uid("zzzzzzzz", "hex-8-or-14-upper")
    assert rfid_uid("abc", None) == "abc"


def test_routing_headers_everywhere_but_credentials_when_asked() -> None:
    us, them = PartyRef("NL", "CPO"), PartyRef("EU", "HUB")
    plain, _ = request_headers(
        V2_2_1, "hubclientinfo", has_body=False, from_party=us, to_party=them
    )
    assert "OCPI-to-party-id" not in plain
    always, _ = request_headers(
        V2_2_1, "hubclientinfo", has_body=False, from_party=us, to_party=them, always_route=True
    )
    assert always["OCPI-to-party-id"] == "HUB"
    creds, _ = request_headers(
        V2_2_1, "credentials", has_body=False, from_party=us, to_party=them, always_route=True
    )
    assert "OCPI-to-party-id" not in creds


def test_version_aliases_read_a_hubs_2_2_as_2_2_1() -> None:
    data = [{"version": "2.2", "url": "https://node/ocpi/2.2"}]
    assert parse_versions(data) == [(Version("2.2"), "https://node/ocpi/2.2")]
    assert parse_versions(data, {"2.2": "2.2.1"}) == [(V2_2_1, "https://node/ocpi/2.2")]


def test_placeholders_of_optional_fields_are_read_as_absent_required_ones_kept() -> None:
    from ocpikit.models import model_for
    from ocpikit.protocol.profiles import read_with_placeholders, without_placeholders

    stripped, removed = without_placeholders({"a": "-", "b": [{"c": "-", "d": 1}], "e": ["-"]})
    assert stripped == {"b": [{"d": 1}], "e": ["-"]} and removed == ["a", "b[0].c"]
    token = {
        "country_code": "DE",
        "party_id": "ECL",
        "uid": "U1",
        "type": "RFID",
        "contract_id": "-",  # required: kept
        "visual_number": "-",  # optional: absent
        "issuer": "ECL",
        "valid": True,
        "whitelist": "ALWAYS",
        "language": "-",
        "last_updated": "2024-03-01T10:00:00Z",
    }
    model = read_with_placeholders(model_for(V2_2_1, "Token").model_validate, token, where="test")
    dumped = model.dump()
    assert dumped["contract_id"] == "-"
    assert "visual_number" not in dumped and "language" not in dumped


def test_a_hub_that_stamps_its_own_times_differs_only_in_content() -> None:
    from ocpikit.protocol.profiles import without_stamps

    a = {"id": "L1", "last_updated": "1", "evses": [{"uid": "E", "last_updated": "2"}]}
    b = {"id": "L1", "last_updated": "9", "evses": [{"uid": "E", "last_updated": "8"}]}
    assert a != b and without_stamps(a) == without_stamps(b)
