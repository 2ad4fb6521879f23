"""The endpoint table is data: every operation has a handler, roles expose the right sides."""

from __future__ import annotations

from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, InterfaceRole, ModuleID, Role
from ocpikit.protocol.endpoints import OPERATIONS, interfaces_for, operations_for
from ocpikit.protocol.handlers import HANDLERS


def test_every_operation_has_a_handler_and_no_handler_is_orphaned() -> None:
    names = {op.name for op in OPERATIONS}
    assert names == set(HANDLERS)


def test_cpo_and_emsp_interfaces_follow_the_matrix() -> None:
    cpo = {(i.module, i.role) for i in interfaces_for([Role.CPO], V2_2_1)}
    assert (ModuleID.locations, InterfaceRole.SENDER) in cpo
    assert (ModuleID.tokens, InterfaceRole.RECEIVER) in cpo
    assert (ModuleID.chargingprofiles, InterfaceRole.RECEIVER) in cpo
    assert (ModuleID.payments, InterfaceRole.RECEIVER) not in cpo  # 2.3.0 only
    emsp = {(i.module, i.role) for i in interfaces_for([Role.EMSP], V2_3_0)}
    assert (ModuleID.tokens, InterfaceRole.SENDER) in emsp
    assert (ModuleID.bookings, InterfaceRole.RECEIVER) in emsp
    assert (ModuleID.hubclientinfo, InterfaceRole.RECEIVER) in emsp


def test_2_1_1_lists_each_module_once_even_for_both_roles() -> None:
    modules = [i.module for i in interfaces_for([Role.CPO, Role.EMSP], V2_1_1)]
    assert len(modules) == len(set(modules))
    assert ModuleID.chargingprofiles not in modules


def test_2_2_plus_lists_each_module_role_pair_once_for_both_roles() -> None:
    # a CPO+eMSP party implements the HubClientInfo Receiver in both roles: listed once
    for version in (V2_2_1, V2_3_0):
        pairs = [(i.module, i.role) for i in interfaces_for([Role.CPO, Role.EMSP], version)]
        assert len(pairs) == len(set(pairs))
        assert (ModuleID.hubclientinfo, InterfaceRole.RECEIVER) in pairs
        assert (ModuleID.tokens, InterfaceRole.SENDER) in pairs
        assert (ModuleID.tokens, InterfaceRole.RECEIVER) in pairs


def test_tariff_patch_exists_only_in_2_1_1() -> None:
    itf = next(
        i
        for i in interfaces_for([Role.EMSP], V2_1_1)
        if i.module is ModuleID.tariffs and i.role is InterfaceRole.RECEIVER
    )
    assert "PATCH" in {op.method for op in operations_for(itf, V2_1_1)}
    assert "PATCH" not in {op.method for op in operations_for(itf, V2_2_1)}


def test_paginated_operations_are_the_get_lists() -> None:
    for op in OPERATIONS:
        if op.paginated:
            assert op.method == "GET"
