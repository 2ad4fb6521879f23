"""What a HUB party does with each request it receives: the forwarding decision, pure (OCPI
2.2.1 transport_and_format §Message Routing, status_codes §4xxx; DIGEST §1.7, §1.4).

A hub connects parties that each registered only with it (one connection each). For one
request of a connection (the *caller*), addressed to one of the hub's interfaces:

- **Forward** when ``OCPI-to-*`` names another party: to the registered connection whose
  credentials roles hold that party (not the caller's own), in that connection's version.
  Nobody holds it: 4001 (unknown receiver). Its connection is not registered: 4003.
- **Broadcast** a push without ``OCPI-to-*`` (or addressed to the hub itself) of a
  client-owned object (Locations, Tariffs, Tokens, Sessions, CDRs): stored, owned by the
  caller, and queued to every other connection that takes it (:func:`hub_targets`); a
  Session or CDR only to its token's eMSP.
- **Relay a result**: a CommandResult or charging-profile result POSTed to the response URL
  the hub gave in place of the sender's (the relay table tells where it goes back).
- **Find the receiver** (2.1.1 has no routing headers, and a 2.2+ caller may leave them out):
  a real-time authorization goes to the eMSP that pushed the token, a command to the CPO of its
  Location or Session.
- **Serve** the rest from what the hub holds: the Sender lists (what the other connections
  pushed), a Receiver GET of the caller's own object, the HubClientInfo list.

Invariants: the decision reads partners and their roles, never storage or the network; a
request is never forwarded to the connection it came from; every failure is a 4xxx.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ocpikit.core.errors import HubConnectionProblem, UnknownReceiver
from ocpikit.core.headers import PartyRef
from ocpikit.core.types import ci_equal
from ocpikit.core.versions import V2_2_1, InterfaceRole, ModuleID, Role, Version
from ocpikit.protocol.endpoints import INTERFACES, OPERATIONS, Operation
from ocpikit.protocol.ports import Partner, PartnerStatus, PartyRole
from ocpikit.protocol.profiles import effective_settings

__all__ = [
    "OBJECT_MODULES",
    "Action",
    "Decision",
    "Forward",
    "Forwarded",
    "HubForwarder",
    "body_names",
    "connection_role",
    "decide",
    "holder_of",
    "hub_route_groups",
    "hub_targets",
    "pick_operation",
    "role_from_traffic",
    "route_to",
    "takes",
]

#: modules whose Receivers take client-owned objects, with their head object names
OBJECT_MODULES: Mapping[str, str] = {
    "locations": "Location",
    "sessions": "Session",
    "cdrs": "CDR",
    "tariffs": "Tariff",
    "tokens": "Token",
}

#: the operations whose asynchronous result comes back to a response URL the hub rewrote
RESULT_OPERATIONS = frozenset({"commands.sender.result", "chargingprofiles.sender.result"})

#: the operations that carry a ``response_url`` the hub rewrites before forwarding
ASYNC_OPERATIONS = frozenset(
    {
        "commands.receiver.post",
        "chargingprofiles.receiver.get",
        "chargingprofiles.receiver.put",
        "chargingprofiles.receiver.delete",
    }
)

#: command -> the head object of its request body (mod_commands §Object description)
COMMAND_BODIES: Mapping[str, str] = {
    "START_SESSION": "StartSession",
    "STOP_SESSION": "StopSession",
    "RESERVE_NOW": "ReserveNow",
    "CANCEL_RESERVATION": "CancelReservation",
    "UNLOCK_CONNECTOR": "UnlockConnector",
}


class Action(enum.StrEnum):
    FORWARD = "forward"
    BROADCAST = "broadcast"
    RESULT = "result"
    FIND = "find"  # the receiver comes from what the hub holds (token, location, session)
    SERVE = "serve"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the hub does with one request; ``partner_id``/``to_party`` for a forward."""

    action: Action
    partner_id: str | None = None
    to_party: PartyRef | None = None


# --- the hub's routes -----------------------------------------------------------------------
def _implemented_by(op: Operation) -> Role:
    """The role that implements ``op``'s interface on a platform that is not a hub."""
    for itf in INTERFACES:
        if itf.module is op.module and itf.role is op.role and itf.implemented_by is not Role.HUB:
            return itf.implemented_by
    return Role.HUB


def _shape(path: str) -> int:
    return len([p for p in path.split("/") if p])


def hub_route_groups() -> list[tuple[ModuleID, str, str, tuple[Operation, ...]]]:
    """Every ``(module, method, path, operations)`` the hub side serves: the operations of both
    sides of a module that share a method and a path shape (number of segments) share one
    route, whose path is the first one's; :func:`pick_operation` chooses among them."""
    groups: dict[tuple[ModuleID, str, int], list[Operation]] = {}
    for op in OPERATIONS:
        if op.module is ModuleID.hubclientinfo and op.role is InterfaceRole.RECEIVER:
            continue
        groups.setdefault((op.module, op.method, _shape(op.path)), []).append(op)
    return [(m, method, ops[0].path, tuple(ops)) for (m, method, _), ops in groups.items()]


def pick_operation(candidates: Sequence[Operation], caller_role: str | None) -> Operation:
    """The operation a caller means on a shared hub route: a CPO calls the interfaces an eMSP
    implements, anyone else (eMSP; OTHER is eMSP-like, DIGEST §1.7) those a CPO implements."""
    if len(candidates) == 1:
        return candidates[0]
    wanted = Role.EMSP if (caller_role or "").upper() == Role.CPO.value else Role.CPO
    for op in candidates:
        if _implemented_by(op) is wanted:
            return op
    return candidates[0]


def path_params(op: Operation, values: Sequence[str]) -> dict[str, str]:
    """``op``'s URL parameters from the positional ``values`` of a shared route."""
    names = [p[1:-1] for p in op.path.split("/") if p.startswith("{")]
    return dict(zip(names, values, strict=False))


# --- who a connection is --------------------------------------------------------------------
def connection_role(partner: Partner, learned: str | None = None) -> str | None:
    """The role a connection plays towards the hub: its first credentials role other than
    OTHER, else its ``role`` switch, else what its traffic showed (``learned``: a 2.1.1 partner's credentials carry no
    role), else OTHER."""
    for r in partner.roles:
        if r.role.upper() not in ("OTHER", "HUB"):
            return r.role.upper()
    configured = effective_settings(partner.settings).get("role")
    if isinstance(configured, str) and configured:
        return configured.upper()
    return learned or (partner.roles[0].role.upper() if partner.roles else None)


def role_from_traffic(op: Operation, method: str) -> str | None:
    """The role a request shows its sender has: a push of CPO data, an authorization request or
    a command result comes from a CPO; a Token push or a command from an eMSP."""
    name = op.name
    if op.role is InterfaceRole.RECEIVER and method != "GET":
        if op.module.value == "tokens":
            return Role.EMSP.value
        if op.module.value in OBJECT_MODULES:
            return Role.CPO.value
        if op.module is ModuleID.commands:
            return Role.EMSP.value
    if name in ("tokens.sender.authorize", "commands.sender.result"):
        return Role.CPO.value
    return None


def _holds(roles: Iterable[PartyRole], party: PartyRef) -> bool:
    return any(
        ci_equal(r.country_code, party.country_code) and ci_equal(r.party_id, party.party_id)
        for r in roles
    )


def holder_of(partners: Iterable[Partner], party: PartyRef) -> list[Partner]:
    """The connections whose credentials roles hold ``party``, registered ones first."""
    found = [p for p in partners if _holds(p.roles, party)]
    return sorted(found, key=lambda p: p.status is not PartnerStatus.REGISTERED)


# --- the decision ---------------------------------------------------------------------------
def route_to(partners: Iterable[Partner], party: PartyRef, caller: Partner) -> Decision:
    """A forward to the connection holding ``party``; :class:`UnknownReceiver` (4001) when no
    connection holds it (or only the caller), :class:`HubConnectionProblem` (4003) when its
    connection is not registered."""
    holders = [p for p in holder_of(partners, party) if p.id != caller.id]
    if not holders:
        raise UnknownReceiver(f"No party {party} is connected to this hub")
    target = holders[0]
    if target.status is not PartnerStatus.REGISTERED:
        raise HubConnectionProblem(f"{party} is not connected ({target.status.value.lower()})")
    return Decision(Action.FORWARD, target.id, party)


def decide(
    op: Operation,
    method: str,
    to_party: PartyRef | None,
    hub_party: PartyRef,
    caller: Partner,
    partners: Iterable[Partner],
) -> Decision:
    """What the hub does with ``method`` on ``op`` from ``caller`` (module docstring)."""
    name = op.name
    if name == "hubclientinfo.sender.list" or op.paginated:
        return Decision(Action.SERVE, to_party=to_party)
    if name in RESULT_OPERATIONS:
        return Decision(Action.RESULT)
    if to_party is not None and to_party != hub_party:
        return route_to(partners, to_party, caller)
    module = op.module.value
    if op.role is InterfaceRole.RECEIVER and module in OBJECT_MODULES:
        if method == "GET":
            return Decision(Action.SERVE)
        return Decision(Action.BROADCAST)
    if name in ("tokens.sender.authorize", "commands.receiver.post"):
        return Decision(Action.FIND)
    raise UnknownReceiver(f"{op.module.value}: name the receiver in the OCPI-to-* headers")


# --- bodies and their conversion ------------------------------------------------------------
def body_names(op: Operation, params: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The head object names of the request body and of the answer's ``data`` of ``op`` (for
    converting them between versions); None where there is nothing to convert."""
    name, module = op.name, op.module.value
    if name == "commands.receiver.post":
        return COMMAND_BODIES.get(params.get("command", "").upper()), "CommandResponse"
    if name == "commands.sender.result":
        return "CommandResult", None
    if name == "tokens.sender.authorize":
        return "LocationReferences", "AuthorizationInfo"
    if name == "chargingprofiles.receiver.put":
        return "SetChargingProfile", "ChargingProfileResponse"
    if module == "chargingprofiles" and op.role is InterfaceRole.RECEIVER:
        return None, "ChargingProfileResponse"
    kind = OBJECT_MODULES.get(module)
    if kind is None:
        return None, None
    nested = _NESTED.get(op.action)
    if op.role is InterfaceRole.RECEIVER and op.method in ("PUT", "POST"):
        return nested or kind, None
    if op.method == "GET" and not op.paginated:  # one object, of either side
        return None, nested or kind
    return None, None


#: the head object of a nested Location part, by operation action
_NESTED: Mapping[str, str] = {
    "get_evse": "EVSE",
    "put_evse": "EVSE",
    "get_connector": "Connector",
    "put_connector": "Connector",
}


# --- broadcast ------------------------------------------------------------------------------
def takes(partner: Partner, module: str, role: str | None) -> bool:
    """Whether a connection takes pushes of ``module``: a 2.2+ Receiver endpoint of it; in
    2.1.1 (no interface roles) an endpoint of it and the role that receives it (CPOs take
    Tokens, everyone else the CPOs' objects)."""
    for e in partner.endpoints:
        if e.identifier.lower() != module:
            continue
        if e.role is not None:
            if e.role.upper() == InterfaceRole.RECEIVER.value:
                return True
            continue
        is_cpo = (role or "").upper() == Role.CPO.value
        return is_cpo if module == "tokens" else not is_cpo
    return False


def hub_targets(
    partners: Sequence[Partner],
    kind: str,
    document: Mapping[str, Any],
    sender_id: str,
    roles: Mapping[str, str | None],
) -> list[str]:
    """The connections a broadcast object goes to (OCPI 2.2.1 transport_and_format §Broadcast
    Push; mod_sessions, mod_cdrs: only to the eMSP of the token): every other registered
    connection that takes the module, and a Session or CDR only to the one that holds its
    token's party (none when no connection holds it). ``roles``: each connection's role
    (:func:`connection_role`)."""
    module = next((m for m, k in OBJECT_MODULES.items() if k == kind), None)
    if module is None:
        return []
    eligible = [
        p
        for p in partners
        if p.id != sender_id
        and p.status is PartnerStatus.REGISTERED
        and takes(p, module, roles.get(p.id))
    ]
    if kind not in ("Session", "CDR"):
        return [p.id for p in eligible]
    token = document.get("cdr_token")
    if not isinstance(token, Mapping):
        return []
    cc, pid = token.get("country_code"), token.get("party_id")
    if not isinstance(cc, str) or not isinstance(pid, str):
        return []
    holders = holder_of(eligible, PartyRef(cc, pid))
    return [holders[0].id] if holders else []


# --- the forwarding port --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Forward:
    """One request the hub sends on: to ``partner``'s ``module`` interface ``role`` plus
    ``path`` segments (or to ``url`` when given: a response URL), ``body`` already in the
    partner's version, with the original sender as ``from_party`` and the correlation id
    kept (transport_and_format §Unique message IDs: a new request id, the same correlation)."""

    partner: Partner
    module: str
    role: InterfaceRole
    method: str
    path: tuple[str, ...] = ()
    query: Mapping[str, str] | None = None
    body: bytes | None = None
    from_party: PartyRef | None = None
    to_party: PartyRef | None = None
    correlation_id: str | None = None
    url: str | None = None
    #: headers of the sender passed on unchanged (its ``pass_headers`` switch, e.g. a message
    #: signature), only when the request goes on unchanged
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Forwarded:
    """The receiver's answer: its HTTP status, OCPI status and ``data`` (its version); of a
    list, its ``X-Total-Count`` and ``X-Limit`` when it sent them."""

    http_status: int
    status_code: int
    status_message: str | None = None
    data: Any = None
    total_count: int | None = None
    limit: int | None = None


class HubForwarder(Protocol):
    """Sends a forwarded request and returns the receiver's answer, error envelopes included;
    raises :class:`~ocpikit.core.errors.HubTimeout` (4002) when it does not answer in time and
    :class:`~ocpikit.core.errors.HubConnectionProblem` (4003) when it cannot be reached or has
    no endpoint for the module (``ocpikit.client.hub_forward`` implements it)."""

    async def forward(self, call: Forward) -> Forwarded: ...


def version_of(partner: Partner) -> Version:
    return Version(partner.version or V2_2_1.text)
