"""An object that cannot be expressed in a partner's version (a 2.3.0 connector standard that
2.2.1 and 2.1.1 lack) is left out of that partner's list, logged, instead of failing the page."""

from __future__ import annotations

import logging

import orjson
import pytest

from ocpikit.core.versions import V2_1_1, V2_2_1, Role, Version
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.demo import load_demo

from .conftest import Router, make_node

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("version", [V2_2_1, V2_1_1], ids=str)
async def test_an_unexpressible_cdr_is_left_out_of_the_page(
    version: Version, caplog: pytest.LogCaptureFixture
) -> None:
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,))
    await load_demo(cpo.storage, [("NL", "CPO", ("CPO",))], locations=5)
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), (version,))
    await emsp.register(cpo)
    page = await cpo.storage.objects.list_page("CDR", limit=100, owner=None)
    assert page.total > 2
    odd = dict(page.items[1].document)
    odd["cdr_location"] = {**odd["cdr_location"], "connector_standard": "MCS"}
    await cpo.storage.objects.put(
        page.items[1].key, orjson.dumps(odd), owner=None, last_updated=page.items[1].last_updated
    )
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None and partner.outbound_token
    with caplog.at_level(logging.WARNING, logger="ocpikit.server"):
        async with cpo.client(partner.outbound_token) as http:
            r = await http.get(f"/ocpi/{version}/cpo/cdrs?limit=100")
    assert r.status_code == 200, r.text
    ids = [item["id"] for item in r.json()["data"]]
    assert page.items[1].key.id not in ids
    assert len(ids) == page.total - 1
    assert r.headers["X-Total-Count"] == str(page.total)
    assert any("cannot be expressed in OCPI" in m for m in caplog.messages)
    assert await cpo.storage.objects.get(ObjectKey("CDR", "NL", "CPO", page.items[1].key.id))
