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

import dataclasses
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Collection, Generator, Mapping
from datetime import datetime
from typing import Any, Protocol

from ocpikit.core.errors import (
    InvalidOrMissingParameters,
    MethodNotAllowed,
    ServerError,
    Unauthorized,
)
from ocpikit.core.versions import V2_3_0, Role, Version
from ocpikit.protocol.ports import (
    CredentialsToken,
    Exchange,
    Partner,
    PartnerStatus,
    PartyRole,
    Storage,
    TokenKind,
)
from ocpikit.protocol.profiles import effective_settings
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
    "PENDING_PREFIX",
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

#: the id of a partner whose registration is under way starts with this
PENDING_PREFIX = "pending-"

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


#: ``CC-PID`` as a party is named (credentials roles: CiString(2) and CiString(3))
_PARTY_KEY = re.compile(r"[A-Za-z]{2}-[A-Za-z0-9]{3}")


def new_token() -> str:
    """A fresh credentials token: 256 random bits, URL-safe (a raw lookup wins over a Base64
    reading of the same text, core.auth)."""
    return "ok-" + secrets.token_urlsafe(32)


def _local_party(party: OurParty) -> tuple[str, str]:
    return (party.country_code, party.party_id)


def _their_default_role(party: OurParty) -> Role:
    """The role a 2.1.1 partner has, whose Credentials carry none (DIGEST §2.3): the other side
    of ours; OTHER for a hub's, which any role may be (its traffic tells the hub later)."""
    if Role.HUB in party.roles:
        return Role.OTHER
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

    def __init__(
        self,
        storage: Storage,
        versions_url: str,
        driver: FlowDriver | None,
        *,
        own_parties: Collection[str] = (),
    ) -> None:
        self.storage = storage
        self.versions_url = versions_url
        self.driver = driver
        #: our own parties (``CC-PID``): no partner may claim one
        self.own_parties = frozenset(p.upper() for p in own_parties)

    def our_credentials(self, version: Version, token: str, party: OurParty) -> dict[str, Any]:
        """Our Credentials object in ``version`` for ``party``, carrying ``token``."""
        details = party.business_details()
        hub = Role.HUB in party.roles and version >= V2_3_0
        roles = [
            # 2.3.0 has no HUB role: a hub names itself in hub_party_id (credentials §2.3.0);
            # no version has a PTP role: a Payment Terminal Provider is OTHER (DIGEST A16)
            PartyRole(
                "OTHER" if hub or role is Role.PTP else role.value,
                party.country_code,
                party.party_id,
                details,
            )
            for role in dict.fromkeys(party.roles)
        ]
        body = build_credentials(version, token, self.versions_url, roles)
        if hub:
            body["hub_party_id"] = f"{party.country_code}{party.party_id}".upper()
        return body

    async def invite(
        self,
        party: OurParty,
        *,
        expires_at: datetime | None = None,
        expected_party: str | None = None,
        replace: str | None = None,
    ) -> str:
        """A fresh token A for a new partner of ``party``: it stops working at ``expires_at``,
        only the party ``expected_party`` (``CC-PID``) may register with it, and with
        ``replace`` (a partner id) it may re-register that partner (the operator's explicit
        ``ocpikit invite --replace``); a token A is otherwise never a way to take over a
        registered connection."""
        if expected_party is not None and not _PARTY_KEY.fullmatch(expected_party):
            raise InvalidOrMissingParameters(
                f"for: {expected_party[:40]!r} is not a party such as DE-ABC", path="for"
            )
        if replace is not None and await self.storage.partners.get(replace) is None:
            raise InvalidOrMissingParameters(f"replace: no partner {replace!r}", path="replace")
        token = new_token()
        await self.storage.tokens.issue(
            token,
            TokenKind.A,
            partner_id=replace,
            local_party=_local_party(party),
            expires_at=expires_at,
            expected_party=expected_party.upper() if expected_party else None,
        )
        return token

    async def register_with(
        self,
        versions_url: str,
        token_a: str,
        party: OurParty,
        settings: Mapping[str, Any] | None = None,
    ) -> Partner:
        """We initiate the handshake (DIGEST §2.2): a pending partner holding our token B
        exists before the POST, because the partner calls our versions and details with B
        while answering; it is replaced by the registered partner (and by nothing when the
        flow fails). The flow's exchanges are written to the log when it ends. ``settings``:
        the connection's switches (a hub ``profile``), which the handshake already follows
        (``version_aliases``) and the registered partner keeps."""
        token_b = new_token()
        pending_id = PENDING_PREFIX + uuid.uuid4().hex[:12]
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
            version_aliases=effective_settings(settings).get("version_aliases"),
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
        if settings:
            partner = dataclasses.replace(partner, settings=dict(settings))
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
        credential: CredentialsToken | None = None,
    ) -> str:
        """A partner POSTed (registers) or PUT (updates) its ``credentials`` to our credentials
        endpoint of ``version`` with ``token``; ``caller`` is its partner row when it has one.
        Calls it back (:class:`~ocpikit.protocol.registration.AcceptFlow`), stores it, and
        returns the fresh token C to answer with; ``token`` stops working. ``credential`` is the
        record of ``token``: a token A is claimed first (one winner among concurrent POSTs) and
        works again if the registration fails. No connection may claim one of our parties or a
        party another connection registered (2001 naming the role); a POST over an existing
        registration needs a token A issued to replace it (:meth:`invite`)."""
        claimed = await self._claim(token, credential)
        try:
            flow = AcceptFlow(credentials, version, default_role=_their_default_role(party))
            handshake = await self._drive(flow.flow(), record)
            await self._check_identity(handshake, caller, credential)
        except BaseException:
            if claimed is not None:  # the registration failed: the token A works again
                await self._restore(token, claimed)
            raise
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

    async def _claim(
        self, token: str, credential: CredentialsToken | None
    ) -> CredentialsToken | None:
        """Claim a token A (revoke it now): its record, or None for any other token. 401 when
        another request claimed it first."""
        if credential is None or credential.kind is not TokenKind.A:
            return None
        if not await self.storage.tokens.revoke(token):
            raise Unauthorized("This token A has already been used")
        return credential

    async def _restore(self, token: str, credential: CredentialsToken) -> None:
        await self.storage.tokens.issue(
            token,
            TokenKind.A,
            partner_id=credential.partner_id,
            local_party=credential.local_party,
            expires_at=credential.expires_at,
            expected_party=credential.expected_party,
        )

    async def _check_identity(
        self, handshake: Handshake, caller: Partner | None, credential: CredentialsToken | None
    ) -> None:
        """2001 naming the role when a party of ``handshake`` is ours or another connection's,
        or not the party a bound token A expects; ``caller`` (the connection updating itself,
        or the one a replacing token A names) may keep its own parties."""
        keys = [f"{r.country_code}-{r.party_id}".upper() for r in handshake.parties]
        itself = caller.id if caller is not None else None
        expected = credential.expected_party if credential is not None else None
        if expected is not None and expected not in keys:
            raise InvalidOrMissingParameters(
                f"roles: this invitation is for {expected}, not {', '.join(keys)}", path="roles"
            )
        for index, (key, role) in enumerate(zip(keys, handshake.parties, strict=True)):
            path = f"roles[{index}]"
            if key in self.own_parties:
                raise InvalidOrMissingParameters(
                    f"{path}: {key} is one of this platform's own parties", path=path
                )
            holders = await self.storage.partners.find_by_party(role.country_code, role.party_id)
            if any(other.id != itself for other in holders) or (
                itself is None and await self.storage.partners.get(key) is not None
            ):
                raise InvalidOrMissingParameters(
                    f"{path}: {key} is registered by another connection", path=path
                )

    async def rotate(self, partner_id: str, party: OurParty) -> Partner:
        """Renew the tokens of a registered connection both ways (OCPI 2.2.1 credentials
        §PUT: we send our Credentials with a new token for them, they answer with theirs).

        The new token works before the PUT is sent (the partner calls our versions with it
        while answering) and the old ones until the partner answered; then ours are revoked
        and the new one kept. A connection whose hub refuses a credentials PUT (the
        ``credentials_put`` switch, Gireve) is refused here, naming the way it does rotate."""
        partner = await self.storage.partners.get(partner_id)
        if partner is None or partner.status is not PartnerStatus.REGISTERED:
            raise InvalidOrMissingParameters(f"partner: no registered partner {partner_id!r}")
        if effective_settings(partner.settings).get("credentials_put") is False:
            raise InvalidOrMissingParameters(
                f"{partner_id} refuses a credentials PUT (switch credentials_put = false): "
                "to renew its tokens, unregister it and register again with a new token A",
                path="credentials_put",
            )
        if partner.versions_url is None or partner.outbound_token is None:
            raise InvalidOrMissingParameters(f"partner: {partner_id} has no versions URL or token")
        token = new_token()
        await self.storage.tokens.issue(
            token, TokenKind.C, partner_id=partner.id, local_party=partner.local_party
        )
        flow = RegisterFlow(
            partner.versions_url,
            partner.outbound_token,
            party.versions,
            lambda version: self.our_credentials(version, token, party),
            method="PUT",
            default_role=_their_default_role(party),
            version_aliases=effective_settings(partner.settings).get("version_aliases"),
        )
        log: list[Exchange] = []
        try:
            handshake = await self._drive(flow.flow(), log.append)
        except BaseException:
            await self.storage.tokens.revoke(token)
            raise
        finally:
            if log:
                await self.storage.exchanges.record(log)
        renewed = registered_partner(
            handshake,
            partner_id=partner.id,
            local_party=partner.local_party or _local_party(party),
            settings=partner.settings,
        )
        await self.storage.tokens.revoke_partner(partner.id, TokenKind.C)
        return await self.storage.partners.save(renewed, issue=[(token, TokenKind.C)])

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
