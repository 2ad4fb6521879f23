"""Objects in a partner's version (protocol/partner_objects.py): pure, no sockets."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from ocpikit.convert import convert
from ocpikit.core.errors import RemoteProtocolError
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, Version
from ocpikit.models import model_for
from ocpikit.protocol.partner_objects import InvalidObject, PartnerObjects, object_key_of
from ocpikit.protocol.ports import ObjectKey, PartyRole
from ocpikit.server.demo import demo_locations

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


def objects(version: Version) -> PartnerObjects:
    return PartnerObjects(version, (PartyRole("CPO", "NL", "CPO"),), Clock())


def location() -> dict[str, object]:
    return dict(next(iter(demo_locations("NL", "CPO", 1))))


@pytest.mark.parametrize("version", [V2_1_1, V2_2_1, V2_3_0])
def test_wire_and_back_round_trips_a_location(version: Version) -> None:
    head = location()
    edge = objects(version)
    wire = orjson.loads(edge.wire("Location", head))
    model_for(version, "Location").model_validate(wire)
    back = edge.to_head("Location", wire)
    assert back["id"] == head["id"]
    assert (back["country_code"], back["party_id"]) == ("NL", "CPO")


def test_a_2_1_1_object_gets_its_owner_from_the_partners_role() -> None:
    raw, _ = convert(location(), "Location", "2.3.0", "2.1.1")
    raw.pop("country_code", None)
    raw.pop("party_id", None)
    head = objects(V2_1_1).to_head("Location", raw)
    assert (head["country_code"], head["party_id"]) == ("NL", "CPO")


def test_invalid_objects_are_skipped_with_their_problems() -> None:
    good = location()
    broken = dict(good, id="BROKEN")
    del broken["coordinates"]
    items, skipped = objects(V2_3_0).page_items("Location", [good, broken, 42])
    assert [i.key for i in items] == [ObjectKey("Location", "NL", "CPO", str(good["id"]))]
    assert [(s.index, s.id) for s in skipped] == [(1, "BROKEN"), (2, None)]
    assert any("coordinates" in p for p in skipped[0].problems)
    with pytest.raises(InvalidObject):
        objects(V2_3_0).to_head("Location", broken)


def test_one_object_answers_that_do_not_validate_are_the_partners_fault() -> None:
    with pytest.raises(RemoteProtocolError):
        objects(V2_3_0).data_to_head("Location", {"id": "X"})
    with pytest.raises(RemoteProtocolError):
        objects(V2_3_0).data_to_head(None, [1])
    assert objects(V2_3_0).data_to_head(None, {"a": 1}) == {"a": 1}


def test_partial_documents_go_down_and_up() -> None:
    edge = objects(V2_1_1)
    down = edge.down({"result": "ACCEPTED", "timeout": 30}, "CommandResponse")
    assert down["result"] == "ACCEPTED"
    assert edge.up(down, "CommandResponse")["result"] == "ACCEPTED"
    same = {"a": 1}
    assert objects(V2_3_0).down(same, "CommandResponse") is same


def test_storage_keys() -> None:
    token = {"country_code": "DE", "party_id": "MSP", "uid": "0102", "type": "APP_USER"}
    assert object_key_of("Token", token).id == "0102#APP_USER"
    assert object_key_of("Token", dict(token, type="RFID")).id == "0102"  # the default type
    info = {"country_code": "BE", "party_id": "XYZ"}
    assert object_key_of("ClientInfo", info).id == "BE-XYZ"
