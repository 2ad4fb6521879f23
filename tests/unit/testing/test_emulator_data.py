"""The emulator's generated data: deterministic from the seed, valid in every version, owned
by the right parties."""

from __future__ import annotations

import pytest

from ocpikit.models import model_for
from ocpikit.testing.emulator.config import ConfigError, EmulatorConfig
from ocpikit.testing.emulator.data import MODULE_OBJECT, generate

HUB = EmulatorConfig(role="hub")


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
def test_every_object_is_valid_in_its_version(version: str) -> None:
    owners = EmulatorConfig(role="cpo", version=version).owners
    owners["tokens"] = ["NL-EMS"]
    data = generate(version, 11, owners)
    for module, name in MODULE_OBJECT.items():
        entries = data.entries(module)
        assert entries, module
        for entry in entries:
            model_for(version, name).model_validate(entry.data)


def test_the_same_seed_gives_the_same_objects() -> None:
    a = generate("2.2.1", 5, HUB.owners)
    b = generate("2.2.1", 5, HUB.owners)
    c = generate("2.2.1", 6, HUB.owners)
    for module in MODULE_OBJECT:
        assert [e.data for e in a.entries(module)] == [e.data for e in b.entries(module)]
    assert [e.data for e in a.entries("locations")] != [e.data for e in c.entries("locations")]


def test_a_hubs_objects_belong_to_the_parties_behind_it() -> None:
    data = generate("2.2.1", 0, HUB.owners, token_party=HUB.sessions_token_party)
    locations = data.entries("locations")
    assert len(locations) == 50
    assert {(e.data["country_code"], e.data["party_id"]) for e in locations} == {
        ("DE", "AAA"),
        ("DE", "AAB"),
    }
    assert {e.party for e in data.entries("tokens")} == {"NL-EMA"}
    # oldest first, as transport_and_format §Pagination advises
    stamps = [e.last_updated for e in locations]
    assert stamps == sorted(stamps)
    # sessions carry tokens of the hub's eMSP
    assert {e.data["cdr_token"]["party_id"] for e in data.entries("sessions")} == {"EMA"}


def test_created_objects_continue_the_sequence() -> None:
    data = generate("2.2.1", 0, {"locations": ["NL-ECP"]}, {"locations": 2})
    entry = data.create("locations", "NL-ECP")
    assert entry.id == "ECP-LOC-0003" and data.entries("locations")[-1] is entry


def test_config_checks() -> None:
    with pytest.raises(ConfigError, match=r"2\.1\.1 has no hubs"):
        EmulatorConfig(role="hub", version="2.1.1")
    with pytest.raises(ConfigError, match="CPO or EMSP"):
        EmulatorConfig(role="hub", behind=(("DE-AAA", "NSP"),))
    assert HUB.parties[0] == ("DE-HUB", "HUB")
    assert EmulatorConfig(role="emsp").party == "NL-EMS"
