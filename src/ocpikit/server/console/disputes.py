"""The Disputes page: the checks of received CDRs and their verdicts (docs/cdrs.md "CDR checks
in the platform"), with the operator's resolution, accepted or contested with a note, over
:mod:`ocpikit.operations.cdr_checks` as ``/admin/api/cdr-checks``."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ocpikit.operations.cdr_checks import list_checks, resolve_check
from ocpikit.protocol.cdr_checks import Verdict
from ocpikit.server.console.web import Page, UserError

__all__ = ["disputes_page", "resolve_dispute"]

#: the verdict filters the page offers: ``disputes`` (disputed and unverifiable) or one verdict
FILTERS = ("disputes", "all", *(v.value for v in Verdict))


async def disputes_page(page: Page, **extra: Any) -> Response:
    shown = page.query("verdict", "disputes") or "disputes"
    if shown not in FILTERS:
        raise UserError(f"verdict: one of {', '.join(FILTERS)}")
    verdicts = [] if shown in ("disputes", "all") else [shown]
    rows = await list_checks(
        page.platform.storage,
        verdicts=verdicts,
        partner=page.query("partner") or None,
        disputes=shown == "disputes",
        limit=500,
    )
    return page.render("disputes.html", rows=rows, shown=shown, filters=FILTERS, **extra)


async def resolve_dispute(page: Page) -> Response:
    cdr_id = page.request.path_params["cdr_id"]
    resolution = page.field("resolution", required=True)
    party_text = page.field("party")
    party = None
    if party_text:
        cc, sep, pid = party_text.partition("-")
        if not sep or not cc or not pid:
            raise UserError("party: CC-PID")
        party = (cc, pid)
    try:
        await resolve_check(
            page.platform.storage, cdr_id, resolution, page.field("note") or None, party=party
        )
    except LookupError as exc:
        raise UserError(str(exc), 404) from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return await disputes_page(page, message=f"CDR {cdr_id}: {resolution}")
