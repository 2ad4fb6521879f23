"""The backend API's CDR checks (docs/cdrs.md "CDR checks in the platform"), over
:mod:`ocpikit.operations.cdr_checks`:

- ``GET /admin/api/cdr-checks?verdict=disputed&verdict=...&partner=P&since=T&limit=N``: the
  checks of received CDRs (``verdict=disputes``: disputed and unverifiable), each as in
  ``ocpikit cdr disputes --json``;
- ``POST /admin/api/cdr-checks/{cdr_id}/resolution`` with
  ``{"resolution": "accepted"|"contested", "note": "...", "party": "CC-PID"}``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.errors import InvalidOrMissingParameters, NotFound
from ocpikit.core.types import parse_datetime
from ocpikit.operations.cdr_checks import list_checks, resolve_check
from ocpikit.server.admin.common import json_response, read_body
from ocpikit.server.platform import Platform

__all__ = ["list_cdr_checks", "resolve_cdr_check"]


async def list_cdr_checks(request: Request, platform: Platform) -> Response:
    q = request.query_params
    verdicts = q.getlist("verdict")
    disputes = "disputes" in verdicts
    verdicts = [v for v in verdicts if v != "disputes"]
    since = None
    if q.get("since"):
        try:
            since = parse_datetime(q["since"])
        except ValueError:
            raise InvalidOrMissingParameters("since: an ISO 8601 time", path="since") from None
    try:
        limit = int(q.get("limit", "1000"))
    except ValueError:
        raise InvalidOrMissingParameters("limit: a number", path="limit") from None
    try:
        rows = await list_checks(
            platform.storage,
            verdicts=verdicts,
            partner=q.get("partner"),
            since=since,
            disputes=disputes,
            limit=max(1, min(limit, 10000)),
        )
    except ValueError as exc:
        raise InvalidOrMissingParameters(str(exc), path="verdict") from None
    return json_response(rows)


async def resolve_cdr_check(request: Request, platform: Platform) -> Response:
    body = await read_body(request)
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("The body must be a JSON object")
    resolution, note, party = body.get("resolution"), body.get("note"), body.get("party")
    if not isinstance(resolution, str):
        raise InvalidOrMissingParameters("resolution: accepted or contested", path="resolution")
    if note is not None and not isinstance(note, str):
        raise InvalidOrMissingParameters("note: a string", path="note")
    pair = None
    if party is not None:
        if not isinstance(party, str) or "-" not in party:
            raise InvalidOrMissingParameters("party: CC-PID", path="party")
        cc, _, pid = party.partition("-")
        pair = (cc, pid)
    try:
        row = await resolve_check(
            platform.storage, request.path_params["cdr_id"], resolution, note, party=pair
        )
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    except ValueError as exc:
        raise InvalidOrMissingParameters(str(exc), path="resolution") from None
    return json_response(row)
