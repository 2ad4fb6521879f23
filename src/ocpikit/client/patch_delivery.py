"""Delivering an outbox ``PATCH`` entry: the smallest PATCHes of one of our Locations or
Sessions (:mod:`ocpikit.protocol.push_patches`) to the partner's Receiver, at the object's,
EVSE's or Connector's URL (OCPI 2.2.1 mod_locations §8.2.2.3, mod_sessions §9.2.2.3; 2.1.1
the same URLs), in the partner's version.

The values sent are those of the entry's full state (the latest, after coalescing). When the
partner rejects a PATCH with a client error other than 401 (e.g. 2003 unknown object: it never
got the object), or no PATCH can say the change, :func:`send_patches` answers False and the
caller sends the full state as a PUT, which every receiver takes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ocpikit.core.errors import ClientError, Unauthorized
from ocpikit.core.headers import PartyRef
from ocpikit.core.types import format_datetime
from ocpikit.core.versions import V2_2_1
from ocpikit.protocol.addressing import join_url
from ocpikit.protocol.ports import ObjectKey
from ocpikit.protocol.push_patches import Changes, patch_requests

from .partner import PartnerClient

__all__ = ["send_patches"]

log = logging.getLogger("ocpikit.delivery")


async def send_patches(
    client: PartnerClient,
    module: str,
    key: ObjectKey,
    document: Mapping[str, Any],
    changes_raw: bytes | None,
    to_party: PartyRef | None,
) -> bool:
    """Send the PATCHes of ``changes_raw`` (parents first); False when the full state must go
    as a PUT instead (nothing sent, or a PATCH refused as a client error)."""
    if changes_raw is None:
        return False
    try:
        changes = Changes.loads(changes_raw)
    except (ValueError, TypeError):
        return False
    requests = patch_requests(key.kind, document, changes, appends=client.version >= V2_2_1)
    if not requests:
        return False
    driver = client.driver
    base = driver.address.object_url(key.kind, key)
    receiver = to_party or driver.address.their_party(module, PartnerClient.RECEIVER)
    for request in requests:
        body = _only_sent(driver.objects.down(dict(request.body), request.name), request.body)
        if body is None:
            return False
        if client.version >= V2_2_1 and "last_updated" not in body:
            body["last_updated"] = format_datetime(driver.clock.now())
        try:
            await driver.request(
                "PATCH", join_url(base, *request.path), module=module, body=body, to_party=receiver
            )
        except ClientError as exc:
            if isinstance(exc, Unauthorized):
                raise
            log.info(
                "%s %s to %s: PATCH refused (%s); sending the full state",
                key.kind,
                key.id,
                client.partner.id,
                exc.message,
            )
            return False
    return True


def _only_sent(converted: dict[str, Any], head: Mapping[str, Any]) -> dict[str, Any] | None:
    """The fields of a converted partial object that were in the head one (a conversion may
    add the required fields of a whole object); None when one of them has no field of that
    name in the partner's version (renamed or unknown there: the PUT says it)."""
    if any(name not in converted for name in head):
        return None
    return {name: converted[name] for name in head}
