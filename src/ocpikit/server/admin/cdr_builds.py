"""The backend API's CDRs built by the platform and their corrections (docs/cdrs.md "CDRs
built by the platform"):

- ``GET /admin/api/cdr-builds?state=pending|built|skipped|failed&limit=N``: the finished
  sessions of ours and what became of their CDR (:mod:`ocpikit.operations.cdr_builds`);
- ``POST /admin/api/cdrs/{id}/credit`` with ``{"party": "CC-PID", "credit_id": ...,
  "new_id": ..., "cdr": {head CDR} | absent, "rebuild": true|false}``: a Credit CDR of our CDR
  ``id`` and the new CDR (given, else rebuilt from the session; ``rebuild: false`` credits only),
  both stored and queued for the partners (:mod:`ocpikit.operations.cdr_credits`); 201 with
  ``{"credit": ..., "cdr": ...}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.errors import InvalidOrMissingParameters, NotFound
from ocpikit.core.types import ci_equal
from ocpikit.operations.cdr_builds import list_builds
from ocpikit.operations.cdr_credits import CreditRefused, credit_cdr
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.admin.common import json_response, read_body
from ocpikit.server.platform import Platform

__all__ = ["credit_cdr_endpoint", "list_cdr_builds"]


async def list_cdr_builds(request: Request, platform: Platform) -> Response:
    q = request.query_params
    try:
        limit = int(q.get("limit", "1000"))
    except ValueError:
        raise InvalidOrMissingParameters("limit: a number", path="limit") from None
    try:
        rows = await list_builds(
            platform.storage, states=q.getlist("state"), limit=max(1, min(limit, 10000))
        )
    except ValueError as exc:
        raise InvalidOrMissingParameters(str(exc), path="state") from None
    return json_response(rows)


def _party(platform: Platform, party: Any) -> tuple[str, str]:
    """Our party the CDR belongs to: the ``party`` named (CC-PID), else our only one."""
    ours = platform.settings.parties
    if party is None:
        if len(ours) != 1:
            raise InvalidOrMissingParameters("party: CC-PID (we are several parties)", path="party")
        return ours[0].country_code, ours[0].party_id
    if not isinstance(party, str) or "-" not in party:
        raise InvalidOrMissingParameters("party: CC-PID", path="party")
    cc, _, pid = party.partition("-")
    if not any(ci_equal(p.country_code, cc) and ci_equal(p.party_id, pid) for p in ours):
        raise NotFound(f"{party} is not one of our parties")
    return cc, pid


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidOrMissingParameters(f"{name}: a non-empty string", path=name)
    return value


async def credit_cdr_endpoint(request: Request, platform: Platform) -> Response:
    body = await read_body(request) if await request.body() else {}
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("The body must be a JSON object")
    cc, pid = _party(platform, body.get("party"))
    replacement = body.get("cdr")
    if replacement is not None and not isinstance(replacement, dict):
        raise InvalidOrMissingParameters("cdr: a CDR object (head, 2.3.0)", path="cdr")
    rebuild = body.get("rebuild", True)
    if not isinstance(rebuild, bool):
        raise InvalidOrMissingParameters("rebuild: true or false", path="rebuild")
    try:
        done = await credit_cdr(
            platform.storage,
            ObjectKey("CDR", cc, pid, request.path_params["id"]),
            now=platform.clock.now(),
            credit_id=_optional_text(body, "credit_id"),
            new_id=_optional_text(body, "new_id"),
            replacement=replacement,
            rebuild=rebuild,
            rules=platform.settings.routing,
        )
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    except CreditRefused as exc:
        raise InvalidOrMissingParameters(str(exc), path=exc.field) from None
    return json_response(done, 201)
