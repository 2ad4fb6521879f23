"""The session a START_SESSION started: by its authorization_reference, or, where there is none
or a hub replaces references (``hub_replaces_references``, Gireve), by token, location, EVSE and
start time (ocpikit.protocol.started_sessions, ocpikit.operations.started_sessions)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ocpikit.core.types import format_datetime
from ocpikit.operations.started_sessions import session_started_by
from ocpikit.protocol import commands
from ocpikit.protocol.ports import ObjectKey
from ocpikit.protocol.started_sessions import START_WINDOW, started_session

from .fakes import partner, world

pytestmark = pytest.mark.anyio

SENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COMMAND = {
    "token": {"uid": "AB12CD34", "type": "RFID"},
    "location_id": "LOC1",
    "evse_uid": "EVSE1",
    "authorization_reference": "OURS-1",
}


def session(ident: str, *, ref: str | None, uid: str = "AB12CD34", **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": ident,
        "start_date_time": format_datetime(SENT + timedelta(minutes=2)),
        "cdr_token": {"uid": uid, "type": "RFID", "contract_id": "C1"},
        "location_id": "LOC1",
        "evse_uid": "EVSE1",
        "status": "ACTIVE",
        "last_updated": format_datetime(SENT + timedelta(minutes=2)),
    }
    if ref is not None:
        doc["authorization_reference"] = ref
    return {**doc, **over}


def test_the_reference_names_the_session() -> None:
    other = session("S0", ref="SOMEONE-ELSE")
    mine = session("S1", ref="OURS-1", start_date_time=format_datetime(SENT + START_WINDOW * 2))
    assert started_session(COMMAND, SENT, [other, mine]) is mine


def test_a_different_reference_is_another_authorization_unless_the_hub_replaces_them() -> None:
    replaced = session("S1", ref="GIREVE-77")
    assert started_session(COMMAND, SENT, [replaced]) is None
    assert started_session(COMMAND, SENT, [replaced], references_replaced=True) is replaced


def test_without_a_reference_token_place_and_time_decide() -> None:
    later = session("S2", ref=None, start_date_time=format_datetime(SENT + timedelta(minutes=9)))
    first = session("S1", ref=None)
    too_late = session("S3", ref=None, start_date_time=format_datetime(SENT + START_WINDOW * 2))
    elsewhere = session("S4", ref=None, location_id="LOC2")
    other_evse = session("S5", ref=None, evse_uid="EVSE2")
    other_token = session("S6", ref=None, uid="FFFFFFFF")
    found = started_session(
        COMMAND, SENT, [later, too_late, elsewhere, other_evse, other_token, first]
    )
    assert found is first
    assert started_session(COMMAND, SENT, [too_late, elsewhere, other_evse, other_token]) is None


async def test_the_backend_reads_the_connections_sessions() -> None:
    w = world()
    hub = dataclasses.replace(partner(), settings={"profile": "gireve"})
    await w.storage.partners.save(hub)
    record = commands.new_sent("c1", "START_SESSION", hub.id, COMMAND, "https://us/r")
    record = await w.storage.commands.save(record)
    assert record.created_at is not None
    for doc, owner in (
        (session("S9", ref="GIREVE-1", uid="FFFFFFFF"), hub.id),  # another driver
        (session("S1", ref="GIREVE-2"), hub.id),  # ours, reference replaced by the hub
        (session("S8", ref="GIREVE-3"), "SOMEONE"),  # another connection's
    ):
        started = datetime.fromisoformat(doc["start_date_time"])
        await w.storage.objects.put(
            ObjectKey("Session", "NL", "CPO", doc["id"]),
            orjson.dumps(doc),
            last_updated=started,
            owner=owner,
        )
    found = await session_started_by(w.storage, record)
    assert found is not None and found.key.id == "S1"
    # without the Gireve switch the replaced reference is another authorization
    await w.storage.partners.save(dataclasses.replace(hub, settings={}))
    assert await session_started_by(w.storage, record) is None
