"""The partner client: every module call we make to a registered partner, in the partner's
negotiated version (DIGEST §1, §3; DESIGN §1 "client/").

:class:`PartnerClient` is a facade: it builds one :class:`~ocpikit.client.driver.RequestDriver`
(headers, the auth retry, classification of answers) and one small client per module
(:mod:`ocpikit.client.modules`) over it, and keeps the calls that name a module or an object
kind (``pages("locations")``, ``put_object("Session", ...)``) for the callers that work on any
module. The calls that belong to one module client or to the driver are those objects' own
methods, bound under the facade's names (``post_cdr`` is ``cdrs.post``, ``send_command`` is
``commands.send``, ``request`` is ``driver.request``, ...). New code may use the module clients
directly: ``client.sessions.put(key, head)``.

Errors (DESIGN §6): transport failures are :class:`~ocpikit.core.errors.TransportError`;
429/503 :class:`PartnerBusy` with the ``Retry-After`` delay; bodies that are not an envelope
:class:`PartnerHttpError`; error envelopes the :class:`~ocpikit.core.errors.PartnerError` of
their status code (:mod:`ocpikit.protocol.replies`). Tokens never appear in logs or messages.
"""

from __future__ import annotations

import asyncio
import random
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
from ocpikit.protocol.pull_retry import RetryPolicy
from ocpikit.protocol.replies import PartnerBusy, PartnerHttpError, parse_retry_after

from .driver import RequestDriver, Sleep
from .modules import (
    CdrsClient,
    ChargingProfilesClient,
    CommandsClient,
    HubClientInfoClient,
    InvoiceReconciliationClient,
    LocationsClient,
    ObjectsClient,
    SessionsClient,
    TariffsClient,
    TokensClient,
)
from .modules.bookings import BookingsClient
from .modules.payments import PaymentsClient
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
    encoding (persist it: see :func:`ocpikit.client.sync.remember_auth`). ``sleep`` and ``rng``
    are what a pull's page retries wait with and draw their jitter from, ``pull_defaults`` the
    platform's retries under the partner's switches (:mod:`ocpikit.protocol.pull_retry`). Raises
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
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        pull_defaults: RetryPolicy | None = None,
    ) -> None:
        self.driver = driver = RequestDriver(
            partner,
            http,
            clock=clock,
            on_auth_learned=on_auth_learned,
            id_factory=id_factory,
            sleep=sleep,
            rng=rng,
            pull_defaults=pull_defaults,
        )
        self.locations = LocationsClient(driver)
        self.sessions = SessionsClient(driver)
        self.cdrs = CdrsClient(driver)
        self.tariffs = TariffsClient(driver)
        self.tokens = TokensClient(driver)
        self.hubclientinfo = HubClientInfoClient(driver)
        self.invoicereconciliation = InvoiceReconciliationClient(driver)
        self.commands = CommandsClient(driver)
        self.chargingprofiles = ChargingProfilesClient(driver)
        self.payments = PaymentsClient(driver)
        self.bookings = BookingsClient(driver)
        # the calls of one module or of the driver, under the facade's names
        address, objects = driver.address, driver.objects
        self.request = driver.request
        self.endpoint = address.endpoint
        self.has_endpoint = address.has_endpoint
        self.our_party = address.our_party
        self.their_party = address.their_party
        self.object_url = address.object_url
        self.to_head = objects.to_head
        self.wire = objects.wire
        self.post_cdr = self.cdrs.post
        self.authorize = self.tokens.authorize
        self.send_command = self.commands.send
        self.set_charging_profile = self.chargingprofiles.set
        self.get_active_profile = self.chargingprofiles.get_active
        self.clear_profile = self.chargingprofiles.clear
        self.put_active_profile = self.chargingprofiles.put_active
        self.charging_preferences = self.sessions.charging_preferences
        self._objects: dict[str, ObjectsClient] = {
            c.module: c
            for c in (
                self.locations,
                self.sessions,
                self.cdrs,
                self.tariffs,
                self.tokens,
                self.hubclientinfo,
                self.invoicereconciliation,
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
        resume_url: str | None = None,
        first_page: int = 1,
    ) -> AsyncIterator[PulledPage]:
        """Pages of the partner's Sender list of ``module`` (:meth:`ObjectsClient.pages`)."""
        pages = self.objects_of(module).pages(
            date_from=date_from,
            date_to=date_to,
            limit=limit,
            offset=offset,
            url=url,
            resume_url=resume_url,
            first_page=first_page,
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
        data = driver.one_object(reply.envelope.data, f"GET {module}/{'/'.join(ids)}")
        return driver.objects.data_to_head(None, data)

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

    # --- module calls ------------------------------------------------------------------------
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
