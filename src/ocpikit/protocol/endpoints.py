"""The endpoint table: which module interfaces exist in which version, which of our roles
exposes them, and the URL patterns and methods of each (DIGEST §3.0 and the §3.x endpoint
tables). House rule 5: rules that vary are data. The server binds its routes from
:data:`OPERATIONS`; the versions/details handlers list :func:`interfaces_for`.

URL layout of an ocpikit platform (the spec leaves it free, DIGEST §2.1):

- ``{base}/ocpi/versions``                          version information endpoint
- ``{base}/ocpi/{version}``                         version details endpoint
- ``{base}/ocpi/{version}/credentials``             credentials (role irrelevant)
- ``{base}/ocpi/{version}/{side}/{module}{path}``   a module interface; ``side`` is ``cpo`` or
  ``emsp``, the role implementing it. Two prefixes, because a Sender and a Receiver of the same
  module clash otherwise (``/locations/A/B/C`` is location A, EVSE B, connector C on the CPO's
  Sender and country A, party B, location C on the eMSP's Receiver).

Paths are relative to the module URL and joined with exactly one ``/`` (DIGEST §3.0 PRACTICE).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, InterfaceRole, ModuleID, Role, Version

__all__ = [
    "INTERFACES",
    "OPERATIONS",
    "Interface",
    "Operation",
    "hub_interfaces",
    "interfaces_for",
    "operations_for",
    "required_partner_modules",
    "side_of",
]

SENDER = InterfaceRole.SENDER
RECEIVER = InterfaceRole.RECEIVER
CPO = Role.CPO
EMSP = Role.EMSP
HUB = Role.HUB
PTP = Role.PTP

_ALL = frozenset({V2_1_1, V2_2_1, V2_3_0})
_22 = frozenset({V2_2_1, V2_3_0})
_23 = frozenset({V2_3_0})
_211 = frozenset({V2_1_1})


@dataclass(frozen=True, slots=True)
class Interface:
    """One interface of one module: who implements it (our role) and in which versions."""

    module: ModuleID
    role: InterfaceRole
    implemented_by: Role
    versions: frozenset[Version]


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one URL pattern of an interface.

    ``name`` is the handler key (``"<module>.<sender|receiver>.<action>"``); ``path`` is relative
    to the module URL, with ``{param}`` placeholders named like the spec's URL parameters;
    ``paginated`` marks the GET-list operations (DIGEST §1.6).
    """

    module: ModuleID
    role: InterfaceRole
    method: str
    path: str
    action: str
    versions: frozenset[Version] = _ALL
    paginated: bool = False

    @property
    def name(self) -> str:
        return f"{self.module.value}.{self.role.value.lower()}.{self.action}"


#: DIGEST §3.0, restricted to the roles ocpikit plays (CPO, EMSP). "Typically implemented by" is
#: descriptive; these are the interfaces the platform offers for each of its roles.
INTERFACES: tuple[Interface, ...] = (
    Interface(ModuleID.locations, SENDER, CPO, _ALL),
    Interface(ModuleID.locations, RECEIVER, EMSP, _ALL),
    Interface(ModuleID.sessions, SENDER, CPO, _ALL),
    Interface(ModuleID.sessions, RECEIVER, EMSP, _ALL),
    Interface(ModuleID.cdrs, SENDER, CPO, _ALL),
    Interface(ModuleID.cdrs, RECEIVER, EMSP, _ALL),
    Interface(ModuleID.tariffs, SENDER, CPO, _ALL),
    Interface(ModuleID.tariffs, RECEIVER, EMSP, _ALL),
    Interface(ModuleID.tokens, SENDER, EMSP, _ALL),
    Interface(ModuleID.tokens, RECEIVER, CPO, _ALL),
    Interface(ModuleID.commands, SENDER, EMSP, _ALL),
    Interface(ModuleID.commands, RECEIVER, CPO, _ALL),
    Interface(ModuleID.chargingprofiles, SENDER, EMSP, _22),
    Interface(ModuleID.chargingprofiles, RECEIVER, CPO, _22),
    Interface(ModuleID.hubclientinfo, RECEIVER, CPO, _22),
    Interface(ModuleID.hubclientinfo, RECEIVER, EMSP, _22),
    Interface(ModuleID.hubclientinfo, SENDER, HUB, _22),
    Interface(ModuleID.payments, RECEIVER, CPO, _23),
    # the Payment Terminal Provider (2.3.0 mod_payments; DIGEST §3.9): eMSP-like receivers of
    # the CPO's data, the Commands Sender (StartSession), and the Payments Sender
    Interface(ModuleID.locations, RECEIVER, PTP, _23),
    Interface(ModuleID.sessions, RECEIVER, PTP, _23),
    Interface(ModuleID.cdrs, RECEIVER, PTP, _23),
    Interface(ModuleID.tariffs, RECEIVER, PTP, _23),
    Interface(ModuleID.commands, SENDER, PTP, _23),
    Interface(ModuleID.payments, SENDER, PTP, _23),
    Interface(ModuleID.bookings, SENDER, CPO, _23),
    Interface(ModuleID.bookings, RECEIVER, EMSP, _23),
    Interface(ModuleID.invoicereconciliation, SENDER, CPO, _23),
    Interface(ModuleID.invoicereconciliation, RECEIVER, EMSP, _23),
    # reverse billing (2.3.0 mod_invoice_reconciliation §Flow): the eMSP invoices the CPO
    Interface(ModuleID.invoicereconciliation, SENDER, EMSP, _23),
    Interface(ModuleID.invoicereconciliation, RECEIVER, CPO, _23),
)

_CO = "/{country_code}/{party_id}"


def _ops(module: ModuleID, role: InterfaceRole, *rows: tuple[Any, ...]) -> list[Operation]:
    out: list[Operation] = []
    for row in rows:
        method, path, action, *rest = row
        versions = rest[0] if rest else _ALL
        out.append(
            Operation(
                module=module,
                role=role,
                method=method,
                path=path,
                action=action,
                versions=versions,
                paginated=action in ("list", "list_terminals", "list_facs"),
            )
        )
    return out


OPERATIONS: tuple[Operation, ...] = tuple(
    # Locations (DIGEST §3.1)
    _ops(
        ModuleID.locations,
        SENDER,
        ("GET", "", "list"),
        ("GET", "/{location_id}", "get_location"),
        ("GET", "/{location_id}/{evse_uid}", "get_evse"),
        ("GET", "/{location_id}/{evse_uid}/{connector_id}", "get_connector"),
    )
    + _ops(
        ModuleID.locations,
        RECEIVER,
        *(
            (method, _CO + suffix, f"{method.lower()}_{kind}")
            for method in ("GET", "PUT", "PATCH")
            for suffix, kind in (
                ("/{location_id}", "location"),
                ("/{location_id}/{evse_uid}", "evse"),
                ("/{location_id}/{evse_uid}/{connector_id}", "connector"),
            )
        ),
    )
    # Sessions (DIGEST §3.2)
    + _ops(
        ModuleID.sessions,
        SENDER,
        ("GET", "", "list"),
        ("PUT", "/{session_id}/charging_preferences", "charging_preferences", _22),
    )
    + _ops(
        ModuleID.sessions,
        RECEIVER,
        ("GET", _CO + "/{session_id}", "get"),
        ("PUT", _CO + "/{session_id}", "put"),
        ("PATCH", _CO + "/{session_id}", "patch"),
    )
    # CDRs (DIGEST §3.3): the receiver's GET URL is ours to choose (the Location header)
    + _ops(ModuleID.cdrs, SENDER, ("GET", "", "list"))
    + _ops(
        ModuleID.cdrs,
        RECEIVER,
        ("POST", "", "post"),
        ("GET", _CO + "/{cdr_id}", "get"),
    )
    # Tariffs (DIGEST §3.4): PATCH only in 2.1.1
    + _ops(ModuleID.tariffs, SENDER, ("GET", "", "list"))
    + _ops(
        ModuleID.tariffs,
        RECEIVER,
        ("GET", _CO + "/{tariff_id}", "get"),
        ("PUT", _CO + "/{tariff_id}", "put"),
        ("PATCH", _CO + "/{tariff_id}", "patch", _211),
        ("DELETE", _CO + "/{tariff_id}", "delete"),
    )
    # Tokens (DIGEST §3.5)
    + _ops(
        ModuleID.tokens,
        SENDER,
        ("GET", "", "list"),
        ("POST", "/{token_uid}/authorize", "authorize"),
    )
    + _ops(
        ModuleID.tokens,
        RECEIVER,
        ("GET", _CO + "/{token_uid}", "get"),
        ("PUT", _CO + "/{token_uid}", "put"),
        ("PATCH", _CO + "/{token_uid}", "patch"),
    )
    # Commands (DIGEST §3.6): the Sender's response_url structure is ours to choose
    + _ops(ModuleID.commands, RECEIVER, ("POST", "/{command}", "post"))
    + _ops(ModuleID.commands, SENDER, ("POST", "/{command}/{uid}", "result"))
    # ChargingProfiles (DIGEST §3.7, 2.2+)
    + _ops(
        ModuleID.chargingprofiles,
        RECEIVER,
        ("GET", "/{session_id}", "get", _22),
        ("PUT", "/{session_id}", "put", _22),
        ("DELETE", "/{session_id}", "delete", _22),
    )
    + _ops(
        ModuleID.chargingprofiles,
        SENDER,
        ("POST", "/{session_id}/{request_id}", "result", _22),
        ("PUT", "/{session_id}", "active", _22),
    )
    # HubClientInfo (DIGEST §3.8, 2.2+): the Hub's Sender list, every party's Receiver
    + _ops(ModuleID.hubclientinfo, SENDER, ("GET", "", "list", _22))
    + _ops(
        ModuleID.hubclientinfo,
        RECEIVER,
        ("GET", _CO, "get", _22),
        ("PUT", _CO, "put", _22),
    )
    # Payments (DIGEST §3.9, 2.3.0): the PTP's Sender (the CPO calls PUT, PATCH and POST on
    # it too) and the CPO's Receiver; no client-owned-object segments
    + _ops(
        ModuleID.payments,
        SENDER,
        ("GET", "/terminals", "list_terminals", _23),
        ("POST", "/terminals/activate", "activate_terminal", _23),
        ("GET", "/terminals/{terminal_id}", "get_terminal", _23),
        ("PUT", "/terminals/{terminal_id}", "put_terminal", _23),
        ("PATCH", "/terminals/{terminal_id}", "patch_terminal", _23),
        ("POST", "/terminals/{terminal_id}/deactivate", "deactivate_terminal", _23),
        ("GET", "/financial-advice-confirmations", "list_facs", _23),
        ("GET", "/financial-advice-confirmations/{fac_id}", "get_fac", _23),
    )
    + _ops(
        ModuleID.payments,
        RECEIVER,
        ("POST", "/terminals", "post_terminal", _23),
        ("GET", "/terminals/{terminal_id}", "get_terminal", _23),
        ("POST", "/financial-advice-confirmations", "post_fac", _23),
        ("GET", "/financial-advice-confirmations/{fac_id}", "get_fac", _23),
    )
    # Bookings (DIGEST §3.10, 2.3.0 bookings add-on)
    + _ops(
        ModuleID.bookings,
        SENDER,
        ("GET", "/booking_locations", "list_booking_locations", _23),
        ("GET", "/booking_locations/{booking_location_id}", "get_booking_location", _23),
        (
            "GET",
            "/booking_locations/{booking_location_id}/{calendar_id}",
            "get_calendar",
            _23,
        ),
        ("GET", "", "list", _23),
        ("POST", "", "post", _23),
    )
    + _ops(
        ModuleID.bookings,
        RECEIVER,
        *(
            (method, _CO + suffix, f"{method.lower()}_{kind}", _23)
            for method in ("GET", "PUT", "PATCH")
            for suffix, kind in (
                ("/booking_locations/{booking_location_id}/{calendar_id}", "calendar"),
                ("/booking_locations/{booking_location_id}", "booking_location"),
                ("/{booking_id}", "booking"),
            )
        ),
    )
    # Invoice Reconciliation (2.3.0 mod_invoice_reconciliation)
    + _ops(ModuleID.invoicereconciliation, SENDER, ("GET", "", "list", _23))
    + _ops(
        ModuleID.invoicereconciliation,
        RECEIVER,
        ("POST", "", "post", _23),
        ("GET", _CO + "/{record_id}", "get", _23),
        ("PUT", _CO + "/{record_id}", "put", _23),
        ("DELETE", _CO + "/{record_id}", "delete", _23),
    )
)


def side_of(role: Role) -> str:
    """URL prefix segment of the interfaces implemented by ``role`` (``cpo`` / ``emsp`` /
    ``hub``)."""
    return role.value.lower()


def hub_interfaces(version: Version) -> list[Interface]:
    """The interfaces a HUB party offers in ``version`` (OCPI 2.2.1 transport_and_format
    §Message Routing; DIGEST §3.0): every module's Sender and Receiver that a CPO or an eMSP
    implements (the hub stands in for the other side of each), and the HubClientInfo Sender
    instead of its Receivers. All of them are served under the ``hub`` side; in 2.1.1 each
    module once (its endpoints carry no interface role)."""
    out: list[Interface] = []
    seen: set[tuple[ModuleID, InterfaceRole]] = set()
    for itf in INTERFACES:
        if version not in itf.versions:
            continue
        if itf.module is ModuleID.hubclientinfo and itf.implemented_by is not HUB:
            continue
        mark = (itf.module, itf.role if version >= V2_2_1 else SENDER)
        if mark in seen:
            continue
        seen.add(mark)
        out.append(Interface(itf.module, itf.role, HUB, itf.versions))
    return out


def interfaces_for(roles: Iterable[Role], version: Version) -> list[Interface]:
    """The interfaces a party with ``roles`` offers in ``version``, in table order; a HUB
    party's are :func:`hub_interfaces`.

    2.1.1 endpoints carry no interface role, so a module may appear only once there: the first
    of ``roles`` (in the order given) wins (DIGEST §3.0). From 2.2 a module appears once per
    interface role (version_information_endpoint §Version details endpoint): an interface both
    roles implement (the HubClientInfo Receiver) is listed once, for the first role.
    """
    wanted = list(dict.fromkeys(roles))
    if HUB in wanted:
        return hub_interfaces(version)
    out: list[Interface] = []
    seen: set[tuple[ModuleID, Any]] = set()
    for role in wanted:
        for itf in INTERFACES:
            if itf.implemented_by is not role or version not in itf.versions:
                continue
            key = (itf.module, None if version < V2_2_1 else itf.role)
            if key in seen:
                continue
            seen.add(key)
            out.append(itf)
    return out


def operations_for(interface: Interface, version: Version) -> list[Operation]:
    """The operations of one interface in ``version``."""
    return [
        op
        for op in OPERATIONS
        if op.module is interface.module and op.role is interface.role and version in op.versions
    ]


def required_partner_modules(our_roles: Iterable[Role]) -> frozenset[ModuleID]:
    """Modules a partner must offer for the registration to make sense (3003 otherwise).

    Only ``credentials`` is strictly needed by the handshake; everything else is optional because
    the spec lets parties implement a subset ("typically implemented by" is descriptive).
    """
    del our_roles
    return frozenset({ModuleID.credentials})
