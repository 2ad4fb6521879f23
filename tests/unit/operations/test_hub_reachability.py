"""The hub's reachability record: a connection its probe cannot reach is OFFLINE in every
party's HubClientInfo until it answers again (ocpikit.operations.hub_clients)."""

from __future__ import annotations

import pytest

from ocpikit.operations.hub_clients import (
    desired_client_infos,
    offline_connections,
    record_reachability,
)
from ocpikit.protocol.ports import Partner, PartnerStatus, PartyRole

from .fakes import world

pytestmark = pytest.mark.anyio


async def test_a_connection_goes_offline_and_comes_back() -> None:
    w = world()
    assert await offline_connections(w.storage) == {}
    assert await record_reachability(w.storage, "NL-CPB", False, w.clock) is True
    assert await record_reachability(w.storage, "NL-CPB", False, w.clock) is False
    assert set(await offline_connections(w.storage)) == {"NL-CPB"}
    cpo = Partner("NL-CPB", PartnerStatus.REGISTERED, (PartyRole("CPO", "NL", "CPB"),))
    [(role, status, _)] = desired_client_infos([cpo], {}, {"NL-CPB"}).values()
    assert (role, status) == ("CPO", "OFFLINE")
    assert await record_reachability(w.storage, "NL-CPB", True, w.clock) is True
    assert await offline_connections(w.storage) == {}
    [(_, status, _)] = desired_client_infos([cpo], {}, set()).values()
    assert status == "CONNECTED"
