"""The Queue page: outbox depth per partner and its oldest waiting entry, the dead letters with
their reasons; replay or drop one, one partner's, or all (:mod:`ocpikit.operations.outbox`,
shared with ``ocpikit outbox``)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ocpikit.operations import outbox
from ocpikit.server.console.web import Page, UserError

__all__ = ["queue_action", "queue_page"]

DEAD_ROWS = 200
WAITING_ROWS = 50


async def queue_page(page: Page, **extra: Any) -> Response:
    storage = page.platform.storage
    overview = await outbox.queue_overview(storage)
    dead = await outbox.dead_letters(storage, limit=DEAD_ROWS)
    waiting = [
        e for e in await storage.outbox.entries(limit=WAITING_ROWS * 2) if e.state.value != "dead"
    ][:WAITING_ROWS]
    return page.render(
        "queue.html",
        overview=overview,
        dead=[outbox.entry_summary(e) for e in dead],
        waiting=[outbox.entry_summary(e) for e in waiting],
        **extra,
    )


def _target(page: Page) -> tuple[int | None, str | None, str]:
    """Which dead letters a form names: ``id``, ``partner``, or ``all=yes``."""
    entry_text, partner = page.field("id"), page.field("partner")
    if entry_text:
        if not entry_text.isdigit():
            raise UserError("id: the number of a dead letter")
        return int(entry_text), None, f"dead letter {entry_text}"
    if partner:
        return None, partner, f"dead letters of {partner}"
    if page.field("all") == "yes":
        return None, None, "all dead letters"
    raise UserError("Name a dead letter (id), a partner, or tick all")


async def queue_action(page: Page) -> Response:
    action = page.request.path_params["action"]
    entry_id, partner, what = _target(page)
    if action == "replay":
        n = await outbox.replay(page.platform.storage, entry_id=entry_id, partner_id=partner)
        return await queue_page(page, message=f"Replayed {n} of {what}")
    if action == "drop":
        if entry_id is None and page.field("confirm") != "yes":
            raise UserError("Tick the box to confirm dropping more than one dead letter")
        n = await outbox.drop(page.platform.storage, entry_id=entry_id, partner_id=partner)
        return await queue_page(page, message=f"Dropped {n} of {what}")
    raise UserError(f"No queue action {action!r}", 404)
