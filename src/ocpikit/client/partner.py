"""The partner client: every module call we make to a registered partner, in the partner's
negotiated version (DIGEST §1, §3; DESIGN §1 "client/").

:class:`PartnerClient` is a facade: it builds one :class:`~ocpikit.client.driver.RequestDriver`
(headers, the auth retry, classification of answers) and one small client per module
(:mod:`ocpikit.client.modules`) over it, and keeps the calls that name a module or an object
kind (``pages("locations")``, ``put_object("Session", ...)``) for the callers that work on any
module. New code may use the module clients directly: ``client.sessions.put(key, head)``.

Errors (DESIGN §6): transport failures are :class:`~ocpikit.core.errors.TransportError`;
429/503 :class:`PartnerBusy` with the ``Retry-After`` delay; bodies that are not an envelope
:class:`PartnerHttpError`; error envelopes the :class:`~ocpikit.core.errors.PartnerError` of
their status code (:mod:`ocpikit.protocol.replies`). Tokens never appear in logs or messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.headers import PartyRef, new_id
from ocpikit.core.versions import InterfaceRole, Version
from ocpikit.protocol.addressing import KIND_OF_MODULE, MODULE_OF_KIND, NoEndpoint, join_url
from ocpikit.protocol.handlers.base import Lookups
from ocpikit.protocol.partner_objects import (
    PulledObject,
    PulledPage,
    SkippedObject,
    object_key_of,
)
from ocpikit.protocol.ports import ObjectKey, Partner
from ocpikit.protocol.replies import PartnerBusy, PartnerHttpError, parse_retry_after

from .driver import Reply, RequestDriver
from .modules import (
    CdrsClient,
    ChargingProfilesClient,
    CommandsClient,
    HubClientInfoClient,
    LocationsClient,
    ObjectsClient,
    SessionsClient,
    TariffsClient,
    TokensClient,
)
from .policy import PartnerSwitches

__all__ = [
    "MODULE_OBJECTS",
    "NoEndpoint",
    "PartnerBusy",
    "PartnerClient",
    "PartnerHttpError",
    "PulledObject",
    "PulledPage",
    "SkippedObject",
    "object_key_of",
    "parse_retry_after",
]

#: module identifier -> head object name of its list/push objects
MODULE_OBJECTS: Mapping[str, str] = KIND_OF_MODULE


class PartnerClient:
    """Calls to one partner. ``http`` is shared (connection pool); the client is cheap.

    ``on_auth_learned(partner_id, encode_auth)`` is awaited when a 401 retry found the right
    encoding (persist it: see :func:`ocpikit.client.sync.remember_auth`). Raises
    :class:`NoEndpoint` when the partner has no negotiated version or gave us no token.
    """

    SENDER: ClassVar[InterfaceRole] = InterfaceRole.SENDER
    RECEIVER: ClassVar[InterfaceRole] = InterfaceRole.RECEIVER

    def __init__(
        self,
        partner: Partner,
        http: httpx.AsyncClient,
        clock: Clock = SYSTEM_CLOCK,
        on_auth_learned: Callable[[str, bool], Awaitable[None]] | None = None,
        id_factory: Callable[[], str] = new_id,
    ) -> None:
        self.driver = driver = RequestDriver(
            partner, http, clock=clock, on_auth_learned=on_auth_learned, id_factory=id_factory
        )
        self.locations = LocationsClient(driver)
        self.sessions = SessionsClient(driver)
        self.cdrs = CdrsClient(driver)
        self.tariffs = TariffsClient(driver)
        self.tokens = TokensClient(driver)
        self.hubclientinfo = HubClientInfoClient(driver)
        self.commands = CommandsClient(driver)
        self.chargingprofiles = ChargingProfilesClient(driver)
        self._objects: dict[str, ObjectsClient] = {
            c.module: c
            for c in (
                self.locations,
                self.sessions,
                self.cdrs,
                self.tariffs,
                self.tokens,
                self.hubclientinfo,
            )
        }

    # --- what the driver knows ---------------------------------------------------------------
    @property
    def partner(self) -> Partner:
        return self.driver.partner

    @property
    def http(self) -> httpx.AsyncClient:
        return self.driver.http

    @property
    def clock(self) -> Clock:
        return self.driver.clock

    @property
    def version(self) -> Version:
        return self.driver.version

    @property
    def switches(self) -> PartnerSwitches:
        return self.driver.switches

    @property
    def encode_auth(self) -> bool:
        """The Authorization encoding currently used (True: Base64)."""
        return self.driver.encode_auth

    def objects_of(self, module: str) -> ObjectsClient:
        """The client of an object module (one with a Sender list); :class:`NoEndpoint` for
        any other module."""
        client = self._objects.get(module)
        if client is None:
            raise NoEndpoint(f"{module} has no list of objects")
        return client

    def _of_kind(self, kind: str) -> ObjectsClient:
        return self._objects[MODULE_OF_KIND[kind]]

    # --- addressing --------------------------------------------------------------------------
    def has_endpoint(self, module: str, role: InterfaceRole) -> bool:
        return self.driver.address.has_endpoint(module, role)

    def endpoint(self, module: str, role: InterfaceRole) -> str:
        """The partner's URL of ``module`` for interface ``role`` (2.1.1: no roles)."""
        return self.driver.address.endpoint(module, role)

    def our_party(self) -> PartyRef | None:
        return self.driver.address.our_party()

    def their_party(self, module: str, role: InterfaceRole) -> PartyRef | None:
        """The partner's party an interface belongs to (DIGEST §3.0)."""
        return self.driver.address.their_party(module, role)

    def object_url(self, kind: str, key: ObjectKey, token_type: str | None = None) -> str:
        """The partner's Receiver URL of a client-owned object (DIGEST §1.8)."""
        return self.driver.address.object_url(kind, key, token_type)

    # --- the one request path ----------------------------------------------------------------
    async def request(
        self,
        method: str,
        url: str,
        *,
        module: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content: bytes | None = None,
        to_party: PartyRef | None = None,
        correlation_id: str | None = None,
    ) -> Reply:
        """:meth:`RequestDriver.request <ocpikit.client.driver.RequestDriver.request>`."""
        return await self.driver.request(
            method,
            url,
            module=module,
            params=params,
            body=body,
            content=content,
            to_party=to_party,
            correlation_id=correlation_id,
        )

    # --- conversion --------------------------------------------------------------------------
    def to_head(self, kind: str, raw: Any) -> dict[str, Any]:
        """One object of the partner's version as a head document
        (:meth:`~ocpikit.protocol.partner_objects.PartnerObjects.to_head`)."""
        return self.driver.objects.to_head(kind, raw)

    def wire(self, kind: str, head: Mapping[str, Any], *, lookup: Lookups | None = None) -> bytes:
        """Wire bytes of a head document in the partner's version
        (:meth:`~ocpikit.protocol.partner_objects.PartnerObjects.wire`)."""
        return self.driver.objects.wire(kind, head, lookup=lookup)

    # --- Sender interfaces of the partner: pulls ---------------------------------------------
    async def pages(
        self,
        module: str,
        *,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
        url: str | None = None,
    ) -> AsyncIterator[PulledPage]:
        """Pages of the partner's Sender list of ``module`` (:meth:`ObjectsClient.pages`)."""
        pages = self.objects_of(module).pages(
            date_from=date_from, date_to=date_to, limit=limit, offset=offset, url=url
        )
        async for page in pages:
            yield page

    async def pull(
        self,
        module: str,
        *,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[PulledObject]:
        """Every valid object of the partner's list, one at a time (pages fetched lazily)."""
        async for item in self.objects_of(module).pull(
            date_from=date_from, date_to=date_to, limit=limit
        ):
            yield item

    async def get_sender_object(self, module: str, *ids: str) -> dict[str, Any]:
        """GET one object from the partner's Sender interface, e.g. ``("locations", "LOC1")``
        or ``("locations", "LOC1", "EVSE1")``; returned in head form for whole objects."""
        client = self._objects.get(module)
        if client is not None:
            return await client.get(*ids)
        driver = self.driver
        url = join_url(driver.address.endpoint(module, self.SENDER), *ids)
        reply = await driver.request(
            "GET", url, module=module, to_party=driver.address.their_party(module, self.SENDER)
        )
        return driver.objects.data_to_head(None, reply.envelope.data)

    # --- Receiver interfaces of the partner: pushes of our objects ---------------------------
    async def put_object(
        self,
        kind: str,
        key: ObjectKey,
        head: Mapping[str, Any] | None = None,
        *,
        wire: bytes | None = None,
        to_party: PartyRef | None = None,
        lookup: Lookups | None = None,
    ) -> int:
        """PUT one of our objects to the partner's Receiver; returns the HTTP status."""
        return await self._of_kind(kind).put(key, head, wire=wire, to_party=to_party, lookup=lookup)

    async def patch_object(self, kind: str, key: ObjectKey, patch: Mapping[str, Any]) -> int:
        """PATCH some fields of one of our objects (:meth:`ObjectsClient.patch`)."""
        return await self._of_kind(kind).patch(key, patch)

    async def delete_object(
        self, kind: str, key: ObjectKey, *, to_party: PartyRef | None = None
    ) -> int:
        """DELETE one of our objects at the partner (only Tariffs have it, DIGEST §3.4)."""
        return await self._of_kind(kind).delete(key, to_party=to_party)

    async def get_pushed_object(self, kind: str, key: ObjectKey) -> dict[str, Any]:
        """GET our object as the partner's Receiver stored it (to check a push), head form."""
        return await self._of_kind(kind).get_pushed(key)

    async def post_cdr(
        self,
        head: Mapping[str, Any] | None = None,
        *,
        wire: bytes | None = None,
        to_party: PartyRef | None = None,
        lookup: Lookups | None = None,
    ) -> str | None:
        """POST a CDR to the partner's Receiver (:meth:`CdrsClient.post`)."""
        return await self.cdrs.post(head, wire=wire, to_party=to_party, lookup=lookup)

    # --- module calls ------------------------------------------------------------------------
    async def authorize(
        self,
        token_uid: str,
        *,
        token_type: str | None = None,
        location: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Real-time authorization at the eMSP (:meth:`TokensClient.authorize`)."""
        return await self.tokens.authorize(token_uid, token_type=token_type, location=location)

    async def send_command(
        self, command: str, request: Mapping[str, Any], *, correlation_id: str | None = None
    ) -> dict[str, Any]:
        """POST a command to the CPO's Receiver (:meth:`CommandsClient.send`)."""
        return await self.commands.send(command, request, correlation_id=correlation_id)

    async def post_result(
        self, response_url: str, result: Mapping[str, Any], *, module: str = "commands"
    ) -> None:
        """POST an asynchronous result to a ``response_url`` the partner gave us: a head
        CommandResult (commands) or a charging-profile result (``module="chargingprofiles"``)."""
        if module == "commands":
            await self.commands.post_result(response_url, result)
        elif module == "chargingprofiles":
            await self.chargingprofiles.post_result(response_url, result)
        else:
            await self.driver.request(
                "POST",
                response_url,
                module=module,
                body=dict(result),
                to_party=self.their_party(module, self.SENDER),
            )

    async def set_charging_profile(
        self, session_id: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PUT a SetChargingProfile; returns the ChargingProfileResponse (DIGEST §3.7)."""
        return await self.chargingprofiles.set(session_id, request)

    async def get_active_profile(
        self, session_id: str, *, duration: int, response_url: str
    ) -> dict[str, Any]:
        return await self.chargingprofiles.get_active(
            session_id, duration=duration, response_url=response_url
        )

    async def clear_profile(self, session_id: str, *, response_url: str) -> dict[str, Any]:
        return await self.chargingprofiles.clear(session_id, response_url=response_url)

    async def put_active_profile(self, session_id: str, profile: Mapping[str, Any]) -> None:
        """As CPO: push an ActiveChargingProfile to the party that set one (Sender PUT)."""
        await self.chargingprofiles.put_active(session_id, profile)

    async def charging_preferences(
        self, session_id: str, preferences: Mapping[str, Any]
    ) -> str | None:
        """PUT ChargingPreferences to the CPO's Sender (:meth:`SessionsClient.charging_preferences`)."""
        return await self.sessions.charging_preferences(session_id, preferences)
