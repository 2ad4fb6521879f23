"""The party directory: which remote parties exist and over which partner connection each is
reached (OCPI 2.2.1 transport_and_format §Message Routing, mod_hub_client_info; DIGEST §1.8).

A connection is not a party. One credentials exchange (a :class:`~ocpikit.protocol.ports.Partner`)
represents:

- the parties of its credentials roles (reached *directly*, or the hub itself for a HUB role);
- for a hub connection, the parties behind it: those the hub lists in HubClientInfo, and any
  party it forwards objects for (learned from traffic).

Pure: the rules below read partners and directory rows, never storage.

Invariants:

- A direct entry exists exactly while its partner is REGISTERED; it is computed from the
  partner row and never stored (so unregistering a partner removes its parties at once).
- A learned entry (HubClientInfo, traffic, operator) belongs to one hub connection and is only
  used while that connection is REGISTERED.
- :func:`routes` orders the connections that reach a party: the operator's preferred connection
  first, then direct before hub, then the configured hub order (connections not named in it
  after those named, by id); within each, a party whose status is CONNECTED (or unknown) before
  one that is OFFLINE, PLANNED or SUSPENDED. The first entry is the route used.
- Our own parties are never in the directory and are never written through a hub.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocpikit.core.types import ci_equal
from ocpikit.protocol.party_records import Learned, Path, RemoteParty, party_key
from ocpikit.protocol.ports import Partner, PartnerStatus, PartyDirectory
from ocpikit.protocol.profiles import effective_settings

__all__ = [
    "HUB_ROLE",
    "Learned",
    "Path",
    "RemoteParty",
    "RoutingRules",
    "TrafficLearner",
    "choose_route",
    "client_info_entry",
    "direct_parties",
    "directory",
    "forwarded_for",
    "is_hub",
    "party_key",
    "reaches",
    "role_of_kind",
    "routes",
]

HUB_ROLE = "HUB"

#: HubClientInfo ``status`` values under which a party takes traffic (mod_hub_client_info
#: §ConnectionStatus); an unknown status (a direct party, a party learned from traffic) counts as
#: reachable
REACHABLE_STATUSES = frozenset({"CONNECTED"})


@dataclass(frozen=True, slots=True)
class RoutingRules:
    """The operator's routing choices (config ``[routing]``): ``hub_order`` lists hub
    connections (partner ids) by preference; ``prefer`` maps a party (``CC-PID``) to the
    connection that must carry its traffic when it reaches the party."""

    hub_order: tuple[str, ...] = ()
    prefer: Mapping[str, str] = field(default_factory=dict)


def is_hub(partner: Partner) -> bool:
    """Whether a connection is a hub: a HUB credentials role (2.2.1), or the ``hub`` switch of
    its settings (a 2.1.1 hub has no roles, and 2.3.0 has no HUB role: the hub profiles set it)."""
    if any(r.role.upper() == HUB_ROLE for r in partner.roles):
        return True
    return effective_settings(partner.settings).get("hub") is True


def role_of_kind(kind: str) -> str:
    """The role of the party that owns objects of ``kind`` (head object name)."""
    return "EMSP" if kind == "Token" else "CPO"


def direct_parties(partners: Iterable[Partner]) -> list[RemoteParty]:
    """The parties of the registered connections' credentials roles."""
    out: list[RemoteParty] = []
    for partner in partners:
        if partner.status is not PartnerStatus.REGISTERED:
            continue
        for role in partner.roles:
            out.append(
                RemoteParty(
                    role.country_code,
                    role.party_id,
                    role.role.upper(),
                    partner.id,
                    Path.DIRECT,
                    Learned.CREDENTIALS,
                    updated_at=partner.updated_at,
                )
            )
    return out


def directory(partners: Sequence[Partner], learned: Iterable[RemoteParty]) -> list[RemoteParty]:
    """Every entry: the direct parties and the learned ones of registered hub connections,
    sorted by party, role and connection."""
    live = {p.id for p in partners if p.status is PartnerStatus.REGISTERED and is_hub(p)}
    entries = direct_parties(partners) + [e for e in learned if e.partner_id in live]
    return sorted(entries, key=lambda e: (e.key, e.role, e.path != Path.DIRECT, e.partner_id))


def reaches(entry: RemoteParty, country_code: str, party_id: str, role: str | None) -> bool:
    return (
        ci_equal(entry.country_code, country_code)
        and ci_equal(entry.party_id, party_id)
        and (role is None or entry.role == role.upper())
    )


def routes(
    entries: Iterable[RemoteParty],
    country_code: str,
    party_id: str,
    *,
    role: str | None = None,
    rules: RoutingRules | None = None,
) -> list[RemoteParty]:
    """The entries that reach a party (in ``role`` when given), best first (module docstring);
    one entry per connection."""
    rules = rules or RoutingRules()
    preferred = rules.prefer.get(party_key(country_code, party_id))
    order = {pid: i for i, pid in enumerate(rules.hub_order)}
    best: dict[str, RemoteParty] = {}
    for entry in entries:
        if not reaches(entry, country_code, party_id, role):
            continue
        known = best.get(entry.partner_id)
        if known is None or (known.path is Path.HUB and entry.path is Path.DIRECT):
            best[entry.partner_id] = entry

    def rank(entry: RemoteParty) -> tuple[int, int, int, int, str]:
        return (
            0 if entry.partner_id == preferred else 1,
            0 if entry.status is None or entry.status in REACHABLE_STATUSES else 1,
            0 if entry.path is Path.DIRECT else 1,
            order.get(entry.partner_id, len(order)),
            entry.partner_id,
        )

    return sorted(best.values(), key=rank)


def choose_route(
    entries: Iterable[RemoteParty],
    country_code: str,
    party_id: str,
    *,
    role: str | None = None,
    rules: RoutingRules | None = None,
) -> RemoteParty | None:
    """The connection that carries traffic to a party, or None when none reaches it."""
    found = routes(entries, country_code, party_id, role=role, rules=rules)
    return found[0] if found else None


def forwarded_for(partner: Partner, country_code: str, party_id: str) -> bool:
    """Whether an object of ``country_code``/``party_id`` written by ``partner`` comes through
    a hub for a party behind it (and not from one of the connection's own credentials roles)."""
    # the connection's own party first: the common case, and then no hub is asked about
    own = any(
        ci_equal(r.country_code, country_code) and ci_equal(r.party_id, party_id)
        for r in partner.roles
    )
    return not own and is_hub(partner)


class TrafficLearner:
    """Learns the parties a hub forwards objects for (:attr:`Learned.TRAFFIC`), writing each
    (connection, party, role) once per learner (one per app, one per pull walk): a remembered
    entry costs no storage write. A connection registered again (its learned parties went with
    its old row) is a new connection here: the mark holds its ``created_at``.
    Bounded: the memory is cleared when it holds ``max_entries`` (the entries are then written
    again, harmlessly: :meth:`~ocpikit.protocol.ports.PartyDirectory.learn` is an upsert)."""

    def __init__(self, *, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._seen: set[tuple[str, datetime | None, str, str, str]] = set()

    async def saw(
        self,
        directory: PartyDirectory,
        partner: Partner,
        country_code: str,
        party_id: str,
        kind: str,
    ) -> None:
        """``partner`` (a hub) wrote an object of ``kind`` for the party."""
        if not forwarded_for(partner, country_code, party_id):
            return
        role = role_of_kind(kind)
        mark = (partner.id, partner.created_at, country_code.upper(), party_id.upper(), role)
        if mark in self._seen:
            return
        if len(self._seen) >= self.max_entries:
            self._seen.clear()
        await directory.learn(
            [RemoteParty(country_code, party_id, role, partner.id, Path.HUB, Learned.TRAFFIC)]
        )
        self._seen.add(mark)


def client_info_entry(hub: Partner, client_info: Mapping[str, Any]) -> RemoteParty:
    """The directory entry of a head ClientInfo a hub pushed or listed (OCPI 2.2.1
    mod_hub_client_info §ClientInfo Object: party_id, country_code, role, status)."""
    return RemoteParty(
        str(client_info.get("country_code", "")),
        str(client_info.get("party_id", "")),
        str(client_info.get("role", "")).upper(),
        hub.id,
        Path.HUB,
        Learned.HUBCLIENTINFO,
        status=str(client_info["status"]) if client_info.get("status") else None,
    )
