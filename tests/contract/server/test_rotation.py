"""Renewing a connection's tokens with a credentials PUT (OCPI 2.2.1 credentials §PUT): both
sides get new tokens, the old ones stop working, the new ones work; a connection whose hub
refuses the PUT (``credentials_put = false``, Gireve) is refused with the way that works."""

from __future__ import annotations

import dataclasses

import pytest

from ocpikit.core.errors import OcpiError
from ocpikit.server.app import platform_of
from ocpikit.server.registry import rotate

from .conftest import Node

pytestmark = pytest.mark.anyio


async def _status(node: Node, token: str) -> int:
    async with node.client(token) as http:
        return (await http.get("/ocpi/versions")).status_code


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
async def test_a_rotation_renews_both_tokens(cpo: Node, emsp: Node, version: str) -> None:
    from ocpikit.core.versions import Version

    emsp.settings = dataclasses.replace(
        emsp.settings,
        parties=(dataclasses.replace(emsp.settings.parties[0], versions=(Version(version),)),),
    )
    await emsp.register(cpo)
    before_emsp = await emsp.storage.partners.get("NL-CPO")
    before_cpo = await cpo.storage.partners.get("DE-MSP")
    assert before_emsp and before_cpo and before_emsp.outbound_token and before_cpo.outbound_token
    renewed = await rotate(emsp.settings, emsp.storage, emsp.driver, "NL-CPO")
    assert renewed.version == version and renewed.outbound_token not in (
        None,
        before_emsp.outbound_token,
    )
    after_cpo = await cpo.storage.partners.get("DE-MSP")
    assert after_cpo is not None and after_cpo.outbound_token != before_cpo.outbound_token
    for node in (cpo, emsp):
        platform_of(node.app).auth.forget()
    # the eMSP's old token at the CPO and the CPO's old token at the eMSP: refused
    assert await _status(cpo, before_emsp.outbound_token) == 401
    assert await _status(emsp, before_cpo.outbound_token) == 401
    # the new ones work both ways
    assert renewed.outbound_token is not None and after_cpo.outbound_token is not None
    assert await _status(cpo, renewed.outbound_token) == 200
    assert await _status(emsp, after_cpo.outbound_token) == 200


async def test_a_hub_that_refuses_the_put_is_not_sent_one(cpo: Node, emsp: Node) -> None:
    await emsp.register(cpo)
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None
    await emsp.storage.partners.save(dataclasses.replace(partner, settings={"profile": "gireve"}))
    with pytest.raises(OcpiError, match="unregister it and register again"):
        await rotate(emsp.settings, emsp.storage, emsp.driver, "NL-CPO")
    kept = await emsp.storage.partners.get("NL-CPO")
    assert kept is not None and kept.outbound_token == partner.outbound_token
    assert await _status(cpo, partner.outbound_token or "") == 200


async def test_a_failed_rotation_keeps_the_old_tokens(cpo: Node, emsp: Node) -> None:
    await emsp.register(cpo)
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None and partner.outbound_token
    emsp.router.apps.pop("cpo.test")  # the CPO cannot be reached
    with pytest.raises(OcpiError):
        await rotate(emsp.settings, emsp.storage, emsp.driver, "NL-CPO")
    kept = await emsp.storage.partners.get("NL-CPO")
    assert kept is not None and kept.outbound_token == partner.outbound_token
    cpo_side = await cpo.storage.partners.get("DE-MSP")
    assert cpo_side is not None and cpo_side.outbound_token
    platform_of(emsp.app).auth.forget()
    assert await _status(emsp, cpo_side.outbound_token) == 200
