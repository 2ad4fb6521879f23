"""The calls every object module shares: pulling the partner's Sender list a page at a time,
reading one of its objects, and pushing our objects to its Receiver (OCPI 2.2.1
``transport_and_format`` §Pagination, §Client Owned Object Push, §Client Owned Object Pull;
DIGEST §1.6, §1.8, §1.9). The module clients (``locations``, ``sessions``, ...) are this class
with their module's name and their module's extra calls.

Invariants: a pull is lazy (one page fetched per ``__anext__``) and walks by
:class:`~ocpikit.protocol.paging.PageWalk`; a page that fails is sent again as
:mod:`ocpikit.protocol.pull_retry` decides (429/503 after ``Retry-After``, 5xx, timeouts,
truncated bodies), and one that still fails ends the walk with
:class:`~ocpikit.core.errors.PullFailed`, which names the page, the attempts, the HTTP and OCPI
status and the wait honoured (pages already yielded stay yielded); invalid objects of a page are reported as
:class:`~ocpikit.protocol.partner_objects.SkippedObject` and logged while the rest is
processed; objects go out and come back as head documents.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from ocpikit.core.errors import LocalError, OcpiError, PullFailed, RemoteProtocolError
from ocpikit.core.headers import PartyRef
from ocpikit.core.pagination import PageHeaders
from ocpikit.core.types import format_datetime
from ocpikit.core.versions import V2_2_1, InterfaceRole
from ocpikit.protocol.addressing import KIND_OF_MODULE, join_url
from ocpikit.protocol.handlers.base import Lookups
from ocpikit.protocol.paging import PageWalk, first_page_url
from ocpikit.protocol.partner_objects import PulledObject, PulledPage
from ocpikit.protocol.ports import ObjectKey
from ocpikit.protocol.pull_retry import PageAttempts, failure_of, gave_up_message

from ..driver import Reply, RequestDriver

__all__ = ["ObjectsClient"]

log = logging.getLogger("ocpikit.client")

SENDER = InterfaceRole.SENDER
RECEIVER = InterfaceRole.RECEIVER


class ObjectsClient:
    """Objects of one module at one partner, over a shared :class:`RequestDriver`."""

    module: ClassVar[str] = ""

    __slots__ = ("driver",)

    def __init__(self, driver: RequestDriver) -> None:
        self.driver = driver

    @property
    def kind(self) -> str:
        """The head object name of the module's list and push objects."""
        return KIND_OF_MODULE[self.module]

    # --- the partner's Sender: pulls ------------------------------------------------------
    async def pages(
        self,
        *,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
        url: str | None = None,
        resume_url: str | None = None,
        first_page: int = 1,
    ) -> AsyncIterator[PulledPage]:
        """Pages of the partner's Sender list, following ``Link`` headers (not with the
        ``ignore_link`` switch: then by offset from ``X-Total-Count``); what is tolerated
        and when the walk ends: :mod:`ocpikit.protocol.paging`. ``resume_url``: the next-page
        URL an earlier walk stopped at (a :class:`PulledPage`'s ``next_url``), fetched as it is
        (``offset``: the objects that walk had seen before it; ``first_page``: its number)."""
        driver = self.driver
        module, kind = self.module, self.kind
        if resume_url is not None:
            start = resume_url
        else:
            start = first_page_url(
                url or driver.address.endpoint(module, SENDER),
                module,
                offset=offset,
                limit=limit or driver.switches.page_limit_for(module),
                date_from=date_from,
                date_to=date_to,
            )
        walk = PageWalk(start, offset)
        seen: set[ObjectKey] = set()  # a partner may repeat an object on a later page
        to_party = driver.address.their_party(module, SENDER)
        number = first_page
        while (page_url := walk.next_request()) is not None:
            reply = await self._fetch_page(page_url, number, to_party)
            number += 1
            data = reply.envelope.data if reply.envelope.has_data else []
            if data is None:
                data = []
            if not isinstance(data, list):
                raise RemoteProtocolError(f"GET {module}: data is not a list")
            meta = PageHeaders.parse(reply.response.headers.items(), driver.version)
            ignored = driver.switches.ignore_link and meta.next_url is not None
            if ignored:  # the partner's Link is not a usable URL: page by offset instead
                meta = dataclasses.replace(meta, next_url=None)
            items, skipped = driver.objects.page_items(kind, data)
            for skip in skipped:
                log.warning(
                    "partner %s: skipped invalid %s #%d (id %s): %s",
                    driver.partner.id,
                    kind,
                    skip.index,
                    skip.id,
                    "; ".join(skip.problems),
                )
            fresh = {item.key for item in items} - seen
            seen |= fresh
            step = walk.page_read(len(data), meta, new=len(fresh) + len(skipped))
            if step.guessed:
                log.warning(
                    "partner %s: GET %s page %s although %d of %d objects seen; "
                    "continuing at offset %d",
                    driver.partner.id,
                    module,
                    "with its Link ignored (switch ignore_link)" if ignored else "without Link",
                    step.objects_seen,
                    step.total_count,
                    step.objects_seen,
                )
            yield PulledPage(page_url, items, skipped, meta.total_count, step.next_url)

    async def _fetch_page(self, page_url: str, number: int, to_party: PartyRef | None) -> Reply:
        """GET one page, retried as the partner's :class:`RetryPolicy` says (module
        docstring). Errors we caused (:class:`LocalError`) are raised as they are."""
        driver, module = self.driver, self.module
        attempts = PageAttempts(driver.pull_retry, driver.rng)
        while True:
            attempts.sent()
            try:
                return await driver.request("GET", page_url, module=module, to_party=to_party)
            except LocalError:
                raise
            except OcpiError as exc:
                failure = failure_of(exc)
                wait = attempts.failed(failure)
                if wait is None:
                    raise PullFailed(
                        gave_up_message(module, number, attempts),
                        module=module,
                        page=number,
                        attempts=attempts.attempts,
                        partner_http_status=failure.http_status,
                        ocpi_status=failure.ocpi_status,
                        retry_after=attempts.retry_after,
                    ) from exc
                log.warning(
                    "partner %s: page %d of %s: %s; attempt %d of %d in %.1f s",
                    driver.partner.id,
                    number,
                    module,
                    failure.describe(),
                    attempts.attempts + 1,
                    attempts.policy.retries + 1,
                    wait,
                )
                await driver.sleep(wait)

    async def pull(
        self,
        *,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[PulledObject]:
        """Every valid object of the partner's list, one at a time (pages fetched lazily)."""
        async for page in self.pages(date_from=date_from, date_to=date_to, limit=limit):
            for item in page.items:
                yield item

    def kind_at(self, ids: tuple[str, ...]) -> str | None:
        """The head object name found at ``{sender}/{ids...}`` (Locations override it)."""
        return self.kind

    async def get(self, *ids: str) -> dict[str, Any]:
        """GET one object from the partner's Sender interface, in head form."""
        driver = self.driver
        url = join_url(driver.address.endpoint(self.module, SENDER), *ids)
        reply = await driver.request(
            "GET", url, module=self.module, to_party=driver.address.their_party(self.module, SENDER)
        )
        data = driver.one_object(reply.envelope.data, f"GET {self.module}/{'/'.join(ids)}")
        return driver.objects.data_to_head(self.kind_at(ids), data)

    # --- the partner's Receiver: pushes of our objects ------------------------------------
    def object_url(self, key: ObjectKey, token_type: str | None = None) -> str:
        """The partner's Receiver URL of one of our objects (DIGEST §1.8)."""
        return self.driver.address.object_url(self.kind, key, token_type)

    def _receiver_party(self, to_party: PartyRef | None) -> PartyRef | None:
        return to_party or self.driver.address.their_party(self.module, RECEIVER)

    async def put(
        self,
        key: ObjectKey,
        head: Mapping[str, Any] | None = None,
        *,
        wire: bytes | None = None,
        to_party: PartyRef | None = None,
        lookup: Lookups | None = None,
    ) -> int:
        """PUT one of our objects to the partner's Receiver; returns the HTTP status.
        ``wire``: bytes already in the partner's version (else ``head`` is converted, with
        ``lookup`` as in :meth:`~ocpikit.protocol.partner_objects.PartnerObjects.wire`)."""
        driver = self.driver
        content = (
            wire if wire is not None else driver.objects.wire(self.kind, head or {}, lookup=lookup)
        )
        reply = await driver.request(
            "PUT",
            self.object_url(key),
            module=self.module,
            content=content,
            to_party=self._receiver_party(to_party),
            object_id=key.id,
        )
        return reply.response.status_code

    async def patch(self, key: ObjectKey, patch: Mapping[str, Any]) -> int:
        """PATCH some fields of one of our objects (2.2+ requires ``last_updated``, DIGEST §1.9).
        ``patch`` is in head form; it is converted as a partial object."""
        driver = self.driver
        body = driver.objects.down(dict(patch), self.kind)
        if driver.version >= V2_2_1 and "last_updated" not in body:
            body["last_updated"] = format_datetime(driver.clock.now())
        reply = await driver.request(
            "PATCH",
            self.object_url(key),
            module=self.module,
            body=body,
            to_party=self._receiver_party(None),
            object_id=key.id,
        )
        return reply.response.status_code

    async def delete(self, key: ObjectKey, *, to_party: PartyRef | None = None) -> int:
        """DELETE one of our objects at the partner (only Tariffs have it, DIGEST §3.4)."""
        reply = await self.driver.request(
            "DELETE",
            self.object_url(key),
            module=self.module,
            to_party=self._receiver_party(to_party),
            object_id=key.id,
        )
        return reply.response.status_code

    async def get_pushed(self, key: ObjectKey) -> dict[str, Any]:
        """GET our object as the partner's Receiver stored it (to check a push), head form."""
        driver = self.driver
        reply = await driver.request(
            "GET",
            self.object_url(key),
            module=self.module,
            to_party=self._receiver_party(None),
            object_id=key.id,
        )
        data = driver.one_object(reply.envelope.data, f"GET {self.module}/{key.id}")
        return driver.objects.data_to_head(self.kind, data)
