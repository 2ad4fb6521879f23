"""The eMSP's view of a START_SESSION it sent: the Session it started
(:mod:`ocpikit.protocol.started_sessions` decides; this module reads the candidates).

Candidates are the Sessions the command's connection pushed or we pulled from it, updated
since the command was sent (a session's ``last_updated`` is never before its start), at most
:data:`SCAN_LIMIT` of them. Read when asked (the backend API's command view), never on the
Session write path.
"""

from __future__ import annotations

from ocpikit.protocol.ports import CommandDirection, CommandRecord, Storage, StoredObject
from ocpikit.protocol.profiles import effective_settings
from ocpikit.protocol.started_sessions import SKEW, started_session

__all__ = ["SCAN_LIMIT", "session_started_by"]

SCAN_LIMIT = 2000
_PAGE = 200


async def session_started_by(storage: Storage, record: CommandRecord) -> StoredObject | None:
    """The Session that the sent START_SESSION ``record`` started, or None (not one, not yet)."""
    if (
        record.command != "START_SESSION"
        or record.direction is not CommandDirection.SENT
        or record.request is None
        or record.created_at is None
        or record.partner_id is None
    ):
        return None
    partner = await storage.partners.get(record.partner_id)
    replaced = partner is not None and (
        effective_settings(partner.settings).get("hub_replaces_references") is True
    )
    stored: list[StoredObject] = []
    offset = 0
    while offset < SCAN_LIMIT:
        page = await storage.objects.list_page(
            "Session",
            offset=offset,
            limit=_PAGE,
            date_from=record.created_at - SKEW,
            owner=record.partner_id,
        )
        stored.extend(page.items)
        if len(page.items) < _PAGE:
            break
        offset += _PAGE
    found = started_session(
        record.request,
        record.created_at,
        [o.document for o in stored],
        references_replaced=replaced,
    )
    return next((o for o in stored if o.document is found), None)
