"""The hub's forwarding decision (ocpikit.protocol.hub_routing): which operation a shared hub
route means, where a request goes, who receives a broadcast."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocpikit.core.errors import HubConnectionProblem, UnknownReceiver
from ocpikit.core.headers import PartyRef
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, ModuleID, Role
from ocpikit.protocol.endpoints import OPERATIONS, interfaces_for
from ocpikit.protocol.hub_routing import (
    Action,
    connection_role,
    decide,
    hub_route_groups,
    hub_targets,
    path_params,
    pick_operation,
    role_from_traffic,
)
from ocpikit.protocol.ports import Endpoint, Partner, PartnerStatus, PartyRole

HUB = PartyRef("NL", "HUB")


def partner(
    pid: str,
    role: str,
    version: str = "2.2.1",
    status: PartnerStatus = PartnerStatus.REGISTERED,
    modules: tuple[str, ...] = ("locations", "tokens", "sessions", "cdrs", "tariffs"),
    settings: dict[str, object] | None = None,
) -> Partner:
    if version == "2.1.1":
        endpoints = tuple(Endpoint(m, f"http://x/{m}") for m in modules)
    else:
        side = "RECEIVER"
        endpoints = tuple(Endpoint(m, f"http://x/{m}", side) for m in modules)
        if role == "CPO":  # a CPO receives tokens, sends the rest
            endpoints = tuple(
                Endpoint(m, f"http://x/{m}", "RECEIVER" if m == "tokens" else "SENDER")
                for m in modules
            )
        else:
            endpoints = tuple(
                Endpoint(m, f"http://x/{m}", "SENDER" if m == "tokens" else "RECEIVER")
                for m in modules
            )
    return Partner(
        id=f"NL-{pid}",
        status=status,
        roles=(PartyRole(role, "NL", pid),),
        version=version,
        endpoints=endpoints,
        settings=settings or {},
    )


def op(name: str):  # type: ignore[no-untyped-def]
    return next(o for o in OPERATIONS if o.name == name)


def group(module: ModuleID, method: str, segments: int):  # type: ignore[no-untyped-def]
    for m, meth, path, ops in hub_route_groups():
        if m is module and meth == method and len([p for p in path.split("/") if p]) == segments:
            return ops
    raise AssertionError("no such group")


def test_a_hub_offers_both_sides_of_every_module_and_the_client_info_sender() -> None:
    v22 = {(i.module.value, i.role.value) for i in interfaces_for([Role.HUB], V2_2_1)}
    assert {("locations", "SENDER"), ("locations", "RECEIVER"), ("tokens", "SENDER")} <= v22
    assert ("hubclientinfo", "SENDER") in v22 and ("hubclientinfo", "RECEIVER") not in v22
    v211 = [i.module.value for i in interfaces_for([Role.HUB], V2_1_1)]
    assert len(v211) == len(set(v211)) == 6  # one endpoint per module in 2.1.1
    assert ("payments", "RECEIVER") in {
        (i.module.value, i.role.value) for i in interfaces_for([Role.HUB], V2_3_0)
    }


def test_the_callers_role_picks_the_side_of_a_shared_route() -> None:
    shared = group(ModuleID.locations, "GET", 3)  # sender connector or receiver location
    assert pick_operation(shared, "CPO").name == "locations.receiver.get_location"
    assert pick_operation(shared, "EMSP").name == "locations.sender.get_connector"
    assert pick_operation(shared, "OTHER").name == "locations.sender.get_connector"
    profiles = group(ModuleID.chargingprofiles, "PUT", 1)
    assert pick_operation(profiles, "CPO").name == "chargingprofiles.sender.active"
    assert pick_operation(profiles, "EMSP").name == "chargingprofiles.receiver.put"
    chosen = pick_operation(shared, "CPO")
    assert path_params(chosen, ["NL", "CPB", "LOC1"]) == {
        "country_code": "NL",
        "party_id": "CPB",
        "location_id": "LOC1",
    }


def test_routing_headers_forward_to_the_connection_holding_the_party() -> None:
    emsp, cpo = partner("EMX", "EMSP", "2.3.0"), partner("CPB", "CPO")
    found = decide(
        op("commands.receiver.post"), "POST", PartyRef("nl", "cpb"), HUB, emsp, [emsp, cpo]
    )
    assert (found.action, found.partner_id) == (Action.FORWARD, "NL-CPB")
    with pytest.raises(UnknownReceiver):
        decide(op("commands.receiver.post"), "POST", PartyRef("DE", "ZZZ"), HUB, emsp, [emsp, cpo])
    gone = partner("CPB", "CPO", status=PartnerStatus.UNREGISTERED)
    with pytest.raises(HubConnectionProblem):
        decide(op("commands.receiver.post"), "POST", PartyRef("NL", "CPB"), HUB, emsp, [emsp, gone])
    # never back to the caller itself
    with pytest.raises(UnknownReceiver):
        decide(op("commands.receiver.post"), "POST", PartyRef("NL", "EMX"), HUB, emsp, [emsp])


def test_pushes_without_a_receiver_are_broadcast_and_the_rest_is_found_or_served() -> None:
    cpo, emsp = partner("CPB", "CPO"), partner("EMX", "EMSP")
    put = op("locations.receiver.put_location")
    assert decide(put, "PUT", None, HUB, cpo, [cpo, emsp]).action is Action.BROADCAST
    assert decide(put, "PUT", HUB, HUB, cpo, [cpo, emsp]).action is Action.BROADCAST
    assert decide(op("tokens.sender.authorize"), "POST", None, HUB, cpo, []).action is Action.FIND
    assert decide(op("locations.sender.list"), "GET", None, HUB, emsp, []).action is Action.SERVE
    result = op("commands.sender.result")
    assert decide(result, "POST", PartyRef("NL", "EMX"), HUB, cpo, []).action is Action.RESULT
    with pytest.raises(UnknownReceiver):
        decide(op("chargingprofiles.receiver.put"), "PUT", None, HUB, emsp, [cpo, emsp])


def test_a_broadcast_goes_to_every_other_receiver_and_a_cdr_only_to_its_emsp() -> None:
    cpo_a = partner("CPA", "OTHER", "2.1.1", settings={"role": "CPO"})
    cpo_b, emsp_x = partner("CPB", "CPO"), partner("EMX", "EMSP", "2.3.0")
    emsp_y = partner("EMY", "EMSP")
    everyone = [cpo_a, cpo_b, emsp_x, emsp_y]
    roles = {p.id: connection_role(p) for p in everyone}
    assert roles["NL-CPA"] == "CPO"
    assert hub_targets(everyone, "Location", {}, "NL-CPB", roles) == ["NL-EMX", "NL-EMY"]
    assert hub_targets(everyone, "Token", {}, "NL-EMX", roles) == ["NL-CPA", "NL-CPB"]
    cdr = {"cdr_token": {"country_code": "NL", "party_id": "EMX", "uid": "1"}}
    assert hub_targets(everyone, "CDR", cdr, "NL-CPA", roles) == ["NL-EMX"]
    unknown = {"cdr_token": {"country_code": "XX", "party_id": "XXX", "uid": "1"}}
    assert hub_targets(everyone, "Session", unknown, "NL-CPA", roles) == []
    # a 2.1.1 connection of unknown role is eMSP-like (DIGEST §1.7): it takes Locations
    anon = partner("ANO", "OTHER", "2.1.1")
    assert "NL-ANO" in hub_targets([*everyone, anon], "Location", {}, "NL-CPB", {})


def test_traffic_shows_a_2_1_1_callers_role() -> None:
    assert role_from_traffic(op("locations.receiver.put_location"), "PUT") == "CPO"
    assert role_from_traffic(op("tokens.receiver.put"), "PUT") == "EMSP"
    assert role_from_traffic(op("tokens.sender.authorize"), "POST") == "CPO"
    assert role_from_traffic(op("locations.sender.list"), "GET") is None


def test_hub_is_a_role_of_its_own_in_the_settings(tmp_path: Path) -> None:
    from ocpikit.server.settings import ConfigError, load_settings

    env = {"OCPIKIT_PARTY": "NL-HUB:HUB", "OCPIKIT_ADMIN_TOKEN": "t"}
    settings = load_settings(environ=env, cwd=tmp_path)
    assert settings.parties[0].roles == (Role.HUB,)
    with pytest.raises(ConfigError, match="HUB party has no other role"):
        load_settings(environ={**env, "OCPIKIT_PARTY": "NL-HUB:HUB+CPO"}, cwd=tmp_path)


def test_the_store_switch_defaults_to_true_and_must_be_a_boolean(tmp_path: Path) -> None:
    from ocpikit.server.platform import hub_store
    from ocpikit.server.settings import ConfigError, load_settings

    env = {"OCPIKIT_PARTY": "NL-HUB:HUB", "OCPIKIT_ADMIN_TOKEN": "t"}
    assert hub_store(load_settings(environ=env, cwd=tmp_path)) is True
    (tmp_path / "ocpikit.toml").write_text("[hub]\nstore = false\n")
    assert hub_store(load_settings(environ=env, cwd=tmp_path)) is False
    (tmp_path / "ocpikit.toml").write_text('[hub]\nstore = "no"\n')
    with pytest.raises(ConfigError, match=r"hub\.store"):
        hub_store(load_settings(environ=env, cwd=tmp_path))
