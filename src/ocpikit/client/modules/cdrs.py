"""The CDRs module at a partner (OCPI 2.2.1 ``mod_cdrs``; DIGEST §3.3, §5.3): the CPO's Sender
list, and the eMSP's Receiver, where our CDRs are POSTed (never PUT) and read back by the URL
its ``Location`` header gives."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ocpikit.core.headers import PartyRef
from ocpikit.protocol.handlers.base import Lookups

from .objects import RECEIVER, ObjectsClient

__all__ = ["CdrsClient"]

log = logging.getLogger("ocpikit.client")


class CdrsClient(ObjectsClient):
    module = "cdrs"

    __slots__ = ()

    async def post(
        self,
        head: Mapping[str, Any] | None = None,
        *,
        wire: bytes | None = None,
        to_party: PartyRef | None = None,
        lookup: Lookups | None = None,
        object_id: str | None = None,
    ) -> str | None:
        """POST a CDR to the partner's Receiver; returns the ``Location`` header (required by the
        spec; a missing one is logged, not fatal: the CDR arrived). ``wire``: bytes already in
        the partner's version (else ``head`` is converted with ``lookup``)."""
        driver = self.driver
        content = (
            wire if wire is not None else driver.objects.wire("CDR", head or {}, lookup=lookup)
        )
        reply = await driver.request(
            "POST",
            driver.address.endpoint(self.module, RECEIVER),
            module=self.module,
            content=content,
            to_party=to_party or driver.address.their_party(self.module, RECEIVER),
            object_id=object_id if object_id is not None else (head or {}).get("id"),
        )
        location: str | None = reply.response.headers.get("location")
        if not location:
            log.warning(
                "partner %s: CDR POST answered without a Location header", driver.partner.id
            )
        return location
