"""Where a request to a partner goes and whom it is addressed to (OCPI 2.2.1
``version_information_endpoint`` §Version details endpoint, ``transport_and_format``
§Interface endpoints, §Message Routing Headers; DIGEST §1.8, §3.0). Pure: it reads the
partner's registration (its endpoints and roles), never the network.

Invariants:

- A module's URL is the endpoint the partner announced for that module and interface role
  (2.1.1 endpoints have no role and serve both); no announced endpoint is :class:`NoEndpoint`,
  raised before anything is sent.
- The partner's party of an interface is the first of its roles that implements the
  interface, else its first role; ours is the party the partner registered with.
- Path segments are percent-encoded and joined with exactly one ``/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from ocpikit.core.errors import NoEndpoint
from ocpikit.core.headers import PartyRef
from ocpikit.core.versions import V2_2_1, InterfaceRole, Version
from ocpikit.protocol.endpoints import INTERFACES
from ocpikit.protocol.ports import ObjectKey, Partner

__all__ = [
    "KIND_OF_MODULE",
    "MODULE_OF_KIND",
    "NoEndpoint",
    "PartnerAddress",
    "join_url",
]

#: module identifier -> head object name of its list/push objects
KIND_OF_MODULE: Mapping[str, str] = {
    "locations": "Location",
    "sessions": "Session",
    "cdrs": "CDR",
    "tariffs": "Tariff",
    "tokens": "Token",
    "hubclientinfo": "ClientInfo",
    "invoicereconciliation": "InvoiceReconciliationRecord",
}
#: head object name -> its module identifier
MODULE_OF_KIND: Mapping[str, str] = {v: k for k, v in KIND_OF_MODULE.items()}


def join_url(base: str, *segments: str) -> str:
    """``base`` + segments, joined with exactly one ``/`` and percent-encoded (DIGEST §3.0)."""
    return "/".join([base.rstrip("/"), *(quote(s, safe="") for s in segments)])


@dataclass(slots=True)
class PartnerAddress:
    """The URLs and parties of one registered partner in its negotiated ``version``. The
    partner is frozen, so each answer is computed once per (module, role)."""

    partner: Partner
    version: Version
    _endpoints: dict[tuple[str, InterfaceRole], str] = field(init=False, default_factory=dict)
    _parties: dict[tuple[str, InterfaceRole], PartyRef | None] = field(
        init=False, default_factory=dict
    )

    def endpoint(self, module: str, role: InterfaceRole) -> str:
        """The partner's URL of ``module`` for interface ``role`` (2.1.1: no roles)."""
        known = self._endpoints.get((module, role))
        if known is not None:
            return known
        for e in self.partner.endpoints:
            if e.identifier.lower() == module.lower() and (
                e.role is None or e.role.upper() == role.value
            ):
                self._endpoints[module, role] = e.url
                return e.url
        raise NoEndpoint(f"partner {self.partner.id} offers no {module} {role.value.lower()}")

    def has_endpoint(self, module: str, role: InterfaceRole) -> bool:
        try:
            self.endpoint(module, role)
        except NoEndpoint:
            return False
        return True

    def our_party(self) -> PartyRef | None:
        """Our party the partner registered with (``OCPI-from-*``)."""
        local = self.partner.local_party
        return PartyRef(*local) if local is not None else None

    def their_party(self, module: str, role: InterfaceRole) -> PartyRef | None:
        """The partner's party an interface belongs to (``OCPI-to-*``)."""
        try:
            return self._parties[module, role]
        except KeyError:
            party = self._parties[module, role] = self._find_their_party(module, role)
            return party

    def _find_their_party(self, module: str, role: InterfaceRole) -> PartyRef | None:
        if not self.partner.roles:
            return None
        wanted = {
            i.implemented_by.value for i in INTERFACES if i.module == module and i.role == role
        }
        for r in self.partner.roles:
            if r.role in wanted:
                return PartyRef(r.country_code, r.party_id)
        first = self.partner.roles[0]
        return PartyRef(first.country_code, first.party_id)

    def object_url(self, kind: str, key: ObjectKey, token_type: str | None = None) -> str:
        """The partner's Receiver URL of a client-owned object (DIGEST §1.8); a Token's key id
        may carry its type as ``uid#TYPE``, sent as ``?type=`` from 2.2 on."""
        module = MODULE_OF_KIND[kind]
        ident = key.id
        if kind == "Token" and "#" in ident:
            ident, _, token_type = ident.partition("#")
        url = join_url(
            self.endpoint(module, InterfaceRole.RECEIVER), key.country_code, key.party_id, ident
        )
        if kind == "Token" and token_type and self.version >= V2_2_1:
            url += "?" + urlencode({"type": token_type})
        return url
