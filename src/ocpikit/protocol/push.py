"""Who receives a change of one of our own objects ("push on change", ``transport_and_format`` §Pull and Push): the pure
rule behind the transactional outbox, usable by the backend API (``server``), which may not
import ``client``. ``ocpikit.client.delivery`` uses it for the outbox too.

A partner receives a change of our object when:

- it is registered;
- it has the module's Receiver interface in its version (2.1.1 endpoints carry no role: one of
  its roles must implement the Receiver);
- it registered with the party owning the object (``local_party``), when that is known;
- Sessions and CDRs go only to the eMSP of the token (``cdr_token`` party, DIGEST §3.3 "only to
  the relevant eMSP"); Tokens (ours as eMSP) go to every CPO partner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ocpikit.core.types import ci_equal
from ocpikit.core.versions import InterfaceRole
from ocpikit.protocol.endpoints import INTERFACES
from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus

__all__ = ["MODULE_OF_KIND", "push_targets", "receives", "token_party"]

#: head object name -> module whose Receiver takes it
MODULE_OF_KIND: Final = {
    "Location": "locations",
    "Session": "sessions",
    "CDR": "cdrs",
    "Tariff": "tariffs",
    "Token": "tokens",
}


def receives(partner: Partner, module: str) -> bool:
    """Whether ``partner`` has the Receiver interface of ``module``."""
    receivers = {
        i.implemented_by.value
        for i in INTERFACES
        if i.module == module and i.role is InterfaceRole.RECEIVER
    }
    for e in partner.endpoints:
        if e.identifier.lower() != module:
            continue
        if e.role is not None:
            if e.role.upper() == InterfaceRole.RECEIVER.value:
                return True
        elif any(r.role.upper() in receivers for r in partner.roles):
            return True
    return False


def token_party(document: Mapping[str, Any]) -> tuple[str, str] | None:
    token = document.get("cdr_token")
    if isinstance(token, Mapping):
        cc, pid = token.get("country_code"), token.get("party_id")
        if isinstance(cc, str) and isinstance(pid, str):
            return cc, pid
    return None


def push_targets(
    partners: Sequence[Partner], key: ObjectKey, document: Mapping[str, Any]
) -> list[str]:
    """Ids of the partners that should receive the change of our object ``key``."""
    module = MODULE_OF_KIND.get(key.kind)
    if module is None:
        return []
    owner = token_party(document) if key.kind in ("Session", "CDR") else None
    out: list[str] = []
    for p in partners:
        if p.status is not PartnerStatus.REGISTERED or not receives(p, module):
            continue
        if p.local_party is not None and not (
            ci_equal(p.local_party[0], key.country_code)
            and ci_equal(p.local_party[1], key.party_id)
        ):
            continue
        if owner is not None and not any(
            ci_equal(r.country_code, owner[0]) and ci_equal(r.party_id, owner[1]) for r in p.roles
        ):
            continue
        out.append(p.id)
    return out
