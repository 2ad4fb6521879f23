"""The ``cdr_evse_uid_from_location`` switch on a push: a CPO POSTs a CDR without
``cdr_location.evse_uid`` (extrawest-ocpi's CdrLocation lacks the field, docs/testing.md "Tried
against") to ocpikit's CDRs Receiver; with the switch the uid comes from the Location that CPO
pushed before (protocol/cdr_evse_uid.py; OCPI 2.2.1 mod_cdrs §CdrLocation)."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from ocpikit.convert import convert
from ocpikit.core.versions import HEAD, V2_2_1, Role
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.demo import demo_locations, demo_sessions_and_cdrs

from .conftest import Node, Router, make_node

pytestmark = pytest.mark.anyio


async def _push(router: Router, settings: dict[str, Any]) -> tuple[Node, int, dict[str, Any]]:
    """ocpikit as eMSP, a CPO registered with it that PUTs the CDR's Location and POSTs the
    CDR without evse_uid; the POST's HTTP status and the head CDR sent."""
    us = make_node(router, "us.test", "DE", "MSP", (Role.EMSP,), (V2_2_1,))
    peer = make_node(router, "peer.test", "NL", "CPO", (Role.CPO,), (V2_2_1,))
    registered = await peer.register(us)
    assert registered.outbound_token is not None
    ours = await us.storage.partners.get("NL-CPO")
    assert ours is not None
    await us.storage.partners.save(dataclasses.replace(ours, settings=settings))
    token = base64.b64encode(registered.outbound_token.encode()).decode()
    cdr = demo_sessions_and_cdrs("NL", "CPO", 1)[1][0]
    location_id = cdr["cdr_location"]["id"]
    loc = next(x for x in demo_locations("NL", "CPO", 40) if x["id"] == location_id)
    wire, _losses = convert(cdr, "CDR", HEAD, V2_2_1)
    wire["cdr_location"] = {k: v for k, v in wire["cdr_location"].items() if k != "evse_uid"}
    async with us.client(token) as http:
        put = await http.put(f"/ocpi/2.2.1/emsp/locations/NL/CPO/{location_id}", json=loc)
        assert put.status_code in (200, 201), put.text
        posted = await http.post("/ocpi/2.2.1/emsp/cdrs", json=wire)
    return us, posted.status_code, cdr


async def test_without_the_switch_the_cdr_is_refused(router: Router) -> None:
    _us, status, _cdr = await _push(router, {})
    assert status == 400


async def test_with_the_switch_evse_uid_is_taken_from_the_pushed_location(router: Router) -> None:
    us, status, cdr = await _push(router, {"cdr_evse_uid_from_location": True})
    assert status == 201
    stored = await us.storage.objects.get(ObjectKey("CDR", "NL", "CPO", cdr["id"]))
    assert stored is not None
    assert stored.document["cdr_location"]["evse_uid"] == cdr["cdr_location"]["evse_uid"]
