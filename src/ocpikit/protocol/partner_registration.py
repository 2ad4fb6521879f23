"""Registering partners: the bookkeeping both sides of the credentials handshake share
(OCPI 2.2.1 credentials §Use cases "Registration", §Interfaces POST/PUT/DELETE; DIGEST §2.2).

The handshake itself is the state machines of :mod:`ocpikit.protocol.registration`; this module
runs them through an injected driver (``ocpikit.client.registration.drive``) and keeps the
books, so that the two ways a partner gets registered write the same records:

- we register with a partner (``ocpikit register``): :meth:`PartnerRegistration.register_with`;
- a partner registers with us or updates its registration (POST/PUT on our credentials
  endpoint): :meth:`PartnerRegistration.accept`;
- a partner unregisters (DELETE credentials), or the operator forgets it:
  :meth:`PartnerRegistration.unregister`;
- an invitation (a token A for one of our parties): :meth:`PartnerRegistration.invite`.

Invariants:

- A registered partner is one :class:`~ocpikit.protocol.ports.Partner` row built by
  :func:`registered_partner` from the flow's :class:`~ocpikit.protocol.registration.Handshake`:
  status REGISTERED, its parties and roles, version, versions URL, endpoints, the token we
  send it, and which of our parties it registered with. Its id is ``CC-PID`` of its first
  party (upper case), or the id it already had when it updates its registration (PUT).
- The row and its tokens change in one ``PartnerRepository.save``: the token C we issue and the
  token it used (A, or the old C) that stops working.
- No web framework and no HTTP here: the caller answers its own request, or prints.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable, Collection, Generator, Mapping
from typing import Any, Protocol

from ocpikit.core.errors import MethodNotAllowed, ServerError
from ocpikit.core.versions import Role, Version
from ocpikit.protocol.ports import (
    Exchange,
    Partner,
    PartnerStatus,
    PartyRole,
    Storage,
    TokenKind,
)
from ocpikit.protocol.registration import (
    AcceptFlow,
    Handshake,
    HttpRequest,
    HttpResponse,
    PartnerState,
    RegisterFlow,
    build_credentials,
    check_credentials_method,
)

__all__ = [
    "FlowDriver",
    "OurParty",
    "PartnerRegistration",
    "RecordExchange",
    "check_credentials_call",
    "new_token",
    "partner_state",
    "registered_partner",
    "unregister",
]

RecordExchange = Callable[[Exchange], None]
"""Receives each exchange a flow makes, for the exchange log."""

FlowDriver = Callable[..., Awaitable[Handshake]]
"""Runs a registration flow's HTTP requests: ``driver(flow, record=callback)``
(``ocpikit.client.registration.drive``); ``record`` receives each outbound exchange."""

FlowGenerator = Generator[HttpRequest, HttpResponse, Handshake]
"""A registration flow: yields requests, receives answers, returns the handshake."""

_ALL_STATUSES: Collection[PartnerStatus] = tuple(PartnerStatus)


class OurParty(Protocol):
    """One of our own parties as registration reads it (``ocpikit.server.settings.PartyConfig``
    is one)."""

    @property
    def country_code(self) -> str: ...

    @property
    def party_id(self) -> str: ...

    @property
    def roles(self) -> tuple[Role, ...]: ...

    @property
    def versions(self) -> tuple[Version, ...]: ...

    def business_details(self) -> dict[str, Any]: ...


def new_token() -> str:
    """A fresh credentials token: 256 random bits, URL-safe (a raw lookup wins over a Base64
    reading of the same text, core.auth)."""
    return "ok-" + secrets.token_urlsafe(32)


def _local_party(party: OurParty) -> tuple[str, str]:
    return (party.country_code, party.party_id)


def _their_default_role(party: OurParty) -> Role:
    """The role a 2.1.1 partner has, whose Credentials carry none (DIGEST §2.3): the other side
    of ours."""
    return Role.EMSP if Role.CPO in party.roles else Role.CPO


def _partner_key(handshake: Handshake) -> str:
    first = handshake.parties[0]
    return f"{first.country_code}-{first.party_id}".upper()


def registered_partner(
    handshake: Handshake,
    *,
    partner_id: str,
    local_party: tuple[str, str],
    settings: Mapping[str, Any] | None = None,
) -> Partner:
    """The row of a partner whose handshake completed (see the module's invariants)."""
    return Partner(
        id=partner_id,
        status=PartnerStatus.REGISTERED,
        roles=handshake.parties,
        version=handshake.version.text,
        versions_url=handshake.versions_url,
        endpoints=tuple(handshake.endpoints),
        outbound_token=handshake.token,
        local_party=local_party,
        settings=dict(settings) if settings is not None else {},
    )


def partner_state(kind: TokenKind, partner: Partner | None) -> PartnerState:
    """The registration state the credentials module sees for a caller holding a token of
    ``kind`` (of ``partner``, when the token belongs to one)."""
    if kind is TokenKind.A or partner is None:
        return PartnerState.INVITED
    return PartnerState.REGISTERED


def check_credentials_call(method: str, kind: TokenKind, partner: Partner | None) -> None:
    """405 unless ``method`` is allowed on our credentials endpoint for this caller
    (:data:`~ocpikit.protocol.registration.CREDENTIALS_METHODS`); while we are registering
    with the caller ourselves, only GET makes sense."""
    if partner is not None and partner.status is PartnerStatus.PENDING and method != "GET":
        raise MethodNotAllowed("Registration in progress")
    check_credentials_method(partner_state(kind, partner), method)


async def unregister(storage: Storage, partner_id: str) -> bool:
    """Forget a partner: its row, its tokens (they stop working at once), its outbox."""
    return await storage.partners.delete(partner_id)


class PartnerRegistration:
    """Registers partners on ``storage``; ``versions_url`` is our versions endpoint (the URL our
    Credentials carry), ``driver`` sends the flows' requests (none: a flow is a 3000)."""

    def __init__(self, storage: Storage, versions_url: str, driver: FlowDriver | None) -> None:
        self.storage = storage
        self.versions_url = versions_url
        self.driver = driver

    def our_credentials(self, version: Version, token: str, party: OurParty) -> dict[str, Any]:
        """Our Credentials object in ``version`` for ``party``, carrying ``token``."""
        details = party.business_details()
        roles = [
            PartyRole(role.value, party.country_code, party.party_id, details)
            for role in party.roles
        ]
        return build_credentials(version, token, self.versions_url, roles)

    async def invite(self, party: OurParty) -> str:
        """A fresh token A for a new partner of ``party``."""
        token = new_token()
        await self.storage.tokens.issue(token, TokenKind.A, local_party=_local_party(party))
        return token

    async def register_with(self, versions_url: str, token_a: str, party: OurParty) -> Partner:
        """We initiate the handshake (DIGEST §2.2): a pending partner holding our token B
        exists before the POST, because the partner calls our versions and details with B
        while answering; it is replaced by the registered partner (and by nothing when the
        flow fails). The flow's exchanges are written to the log when it ends."""
        token_b = new_token()
        pending_id = "pending-" + uuid.uuid4().hex[:12]
        await self.storage.partners.save(
            Partner(
                id=pending_id,
                status=PartnerStatus.PENDING,
                versions_url=versions_url,
                local_party=_local_party(party),
            ),
            issue=[(token_b, TokenKind.C)],
        )
        flow = RegisterFlow(
            versions_url,
            token_a,
            party.versions,
            lambda version: self.our_credentials(version, token_b, party),
            default_role=_their_default_role(party),
        )
        log: list[Exchange] = []
        try:
            handshake = await self._drive(flow.flow(), log.append)
        except BaseException:
            await self.storage.partners.delete(pending_id)
            raise
        finally:
            if log:
                await self.storage.exchanges.record(log)
        await self.storage.partners.delete(pending_id)
        partner = registered_partner(
            handshake, partner_id=_partner_key(handshake), local_party=_local_party(party)
        )
        await self._drop_previous(partner.id, _ALL_STATUSES)
        return await self.storage.partners.save(partner, issue=[(token_b, TokenKind.C)])

    async def accept(
        self,
        method: str,
        credentials: Any,
        version: Version,
        party: OurParty,
        *,
        token: str,
        caller: Partner | None,
        record: RecordExchange,
    ) -> str:
        """A partner POSTed (registers) or PUT (updates) its ``credentials`` to our credentials
        endpoint of ``version`` with ``token``; ``caller`` is its partner row when it has one.
        Calls it back (:class:`~ocpikit.protocol.registration.AcceptFlow`), stores it, and
        returns the fresh token C to answer with; ``token`` stops working. A POST over an
        existing registration of the same party replaces it."""
        flow = AcceptFlow(credentials, version, default_role=_their_default_role(party))
        handshake = await self._drive(flow.flow(), record)
        token_c = new_token()
        partner = registered_partner(
            handshake,
            partner_id=caller.id if caller is not None else _partner_key(handshake),
            local_party=_local_party(party),
            settings=caller.settings if caller is not None else None,
        )
        if method == "POST":
            await self._drop_previous(partner.id, (PartnerStatus.REGISTERED,))
        await self.storage.partners.save(partner, issue=[(token_c, TokenKind.C)], revoke=[token])
        return token_c

    async def unregister(self, partner_id: str) -> bool:
        """Forget a partner (:func:`unregister`)."""
        return await unregister(self.storage, partner_id)

    async def _drive(self, flow: FlowGenerator, record: RecordExchange) -> Handshake:
        if self.driver is None:
            raise ServerError("Registration callbacks are not configured")
        return await self.driver(flow, record=record)

    async def _drop_previous(self, partner_id: str, statuses: Collection[PartnerStatus]) -> None:
        """Delete an earlier row of ``partner_id`` in one of ``statuses`` (and its tokens)."""
        old = await self.storage.partners.get(partner_id)
        if old is not None and old.status in statuses:
            await self.storage.partners.delete(partner_id)
