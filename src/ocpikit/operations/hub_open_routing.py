"""Open routing without a store: a GET of a Sender list without ``OCPI-to-*``, answered by asking
every connected sender party live over its connection and merging their lists into one page
(OCPI 2.2.1 transport_and_format §Open routing request, §Pagination; docs/hubs.md "ocpikit as a
hub", ``[hub] store = false``).

Plan, for a request at ``offset``/``limit`` with ``date_from``/``date_to``:

1. Ask every sender party at once for its count under the same date filters (``offset=0``,
   ``limit=1``: the answer's ``X-Total-Count``); a request at ``offset=0`` asks the first party
   for ``limit`` items instead, which is the whole page when it has enough (the others' items
   are not read for nothing).
2. The merged list is the parties' lists one after the other, parties in a stable order
   (connection id, then party), each in its own order; ``X-Total-Count`` is the sum.
3. The window ``[offset, offset + limit)`` is cut into each party's slice; what step 1 did
   not bring is fetched (every party at once, following a party that returns less than
   asked, e.g. a lower ``X-Limit``, until its slice is complete or it returns nothing).

Items are converted from each party's version to the requester's through head; an item that
does not convert is left out and named. A party that does not answer (4002, 4003, an error
answer, a count it does not send) is left out of the list and named in ``status_message``.

Invariants: every item of every answering party is on exactly one page of a walk that follows
the ``Link`` headers (while nothing changes at the parties); never more than ``limit`` items.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ocpikit.convert import convert
from ocpikit.core.errors import OcpiError
from ocpikit.core.headers import PartyRef
from ocpikit.core.pagination import PageParams, make_page
from ocpikit.core.types import format_datetime
from ocpikit.core.versions import InterfaceRole, Version
from ocpikit.protocol.handlers import Call, Reply
from ocpikit.protocol.hub_routing import Forward, Forwarded, HubForwarder, version_of
from ocpikit.protocol.ports import Partner

__all__ = ["Source", "merged_page"]

log = logging.getLogger("ocpikit.hub")

#: the most requests the hub sends one party to complete its slice of one page
MAX_ROUNDS = 20


@dataclass(slots=True)
class Source:
    """One sender party of the merged list: its connection and party, what it answered."""

    partner: Partner
    party: PartyRef
    total: int = 0
    first: list[Any] = field(default_factory=list)
    failed: str | None = None


def _query(params: PageParams, offset: int, limit: int) -> dict[str, str]:
    query = {"offset": str(offset), "limit": str(limit)}
    if params.date_from is not None:
        query["date_from"] = format_datetime(params.date_from)
    if params.date_to is not None:
        query["date_to"] = format_datetime(params.date_to)
    return query


async def _ask(
    forwarder: HubForwarder,
    source: Source,
    call: Call,
    params: PageParams,
    offset: int,
    limit: int,
) -> Forwarded:
    return await forwarder.forward(
        Forward(
            partner=source.partner,
            module=call.op.module.value,
            role=InterfaceRole.SENDER,
            method="GET",
            query=_query(params, offset, limit),
            from_party=call.from_party,
            to_party=source.party,
        )
    )


async def _count(
    forwarder: HubForwarder, source: Source, call: Call, params: PageParams, limit: int
) -> None:
    """Step 1: the party's count and first items (``failed`` says why not)."""
    try:
        answer = await _ask(forwarder, source, call, params, 0, limit)
    except OcpiError as exc:
        source.failed = f"{exc.status_code} {exc.message}"
        return
    if answer.status_code >= 2000 or answer.http_status >= 400:
        source.failed = f"{answer.status_code} {answer.status_message or ''}".strip()
    elif not isinstance(answer.data, list):
        source.failed = "no list in its answer"
    elif answer.total_count is None:
        source.failed = "no X-Total-Count in its answer"
    else:
        source.total, source.first = answer.total_count, answer.data


async def _slice(
    forwarder: HubForwarder,
    source: Source,
    call: Call,
    params: PageParams,
    start: int,
    end: int,
) -> list[Any]:
    """Items ``[start, end)`` of one party's list: from step 1's answer where it has them,
    the rest asked for, as often as the party's own page size needs."""
    got = list(source.first[start:end])
    rounds = 0
    while start + len(got) < end and rounds < MAX_ROUNDS:
        rounds += 1
        offset = start + len(got)
        try:
            answer = await _ask(forwarder, source, call, params, offset, end - offset)
        except OcpiError as exc:
            source.failed = f"{exc.status_code} {exc.message}"
            return got
        if answer.status_code >= 2000 or not isinstance(answer.data, list) or not answer.data:
            source.failed = source.failed or f"stopped answering at offset {offset}"
            return got
        got.extend(answer.data[: end - offset])
    return got


def _converted(items: Sequence[Any], kind: str, source: Version, target: Version) -> list[bytes]:
    out: list[bytes] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if source == target:
            out.append(orjson.dumps(item))
            continue
        try:
            converted, _ = convert(item, kind, source, target)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s left out of a merged %s page: %s", kind, target, exc)
            continue
        out.append(orjson.dumps(converted))
    return out


async def merged_page(
    forwarder: HubForwarder, call: Call, kind: str, sources: Sequence[Source]
) -> Reply:
    """The page ``call`` asks for of the merged list of ``sources`` (module docstring);
    ``sources`` in the merged list's order."""
    params = PageParams.from_query(call.query)
    first = params.limit if params.offset == 0 else 1
    await asyncio.gather(
        *(_count(forwarder, s, call, params, first if n == 0 else 1) for n, s in enumerate(sources))
    )
    answering = [s for s in sources if s.failed is None]
    total = sum(s.total for s in answering)
    window: list[tuple[Source, int, int]] = []
    start_of, end_of = params.offset, params.offset + params.limit
    position = 0
    for source in answering:
        lo, hi = max(start_of - position, 0), min(end_of - position, source.total)
        if lo < hi:
            window.append((source, lo, hi))
        position += source.total
    slices = await asyncio.gather(
        *(_slice(forwarder, s, call, params, lo, hi) for s, lo, hi in window)
    )
    items: list[bytes] = []
    for (source, _, _), got in zip(window, slices, strict=True):
        items.extend(_converted(got, kind, version_of(source.partner), call.version))
    skipped = [
        f"{s.party.country_code}-{s.party.party_id} ({s.failed})"
        for s in sources
        if s.failed is not None
    ]
    meta = make_page(items, params=params, total_count=total, url=call.url)
    reply = Reply(raw_items=items, headers=meta.headers())
    if skipped:
        reply.status_message = ("not answering, left out: " + "; ".join(skipped))[:500]
    return reply


def sender_sources(
    partners: Sequence[Partner],
    module: str,
    caller_id: str,
    roles: Mapping[str, str | None],
    party: PartyRef | None = None,
) -> list[Source]:
    """The parties a merged list of ``module`` asks, in its order: every other registered
    connection that sends the module (a 2.2+ Sender endpoint; in 2.1.1 an endpoint and the
    role that sends it: CPOs send all but Tokens, eMSPs Tokens), each of its parties, by
    connection id and party; only ``party`` when named."""
    from ocpikit.protocol.ports import PartnerStatus

    out: list[Source] = []
    for partner in sorted(partners, key=lambda p: p.id):
        if partner.id == caller_id or partner.status is not PartnerStatus.REGISTERED:
            continue
        if not _sends(partner, module, roles.get(partner.id)):
            continue
        for role in sorted(partner.roles, key=lambda r: (r.country_code, r.party_id)):
            ref = PartyRef(role.country_code, role.party_id)
            if party is not None and ref != party:
                continue
            if all(s.party != ref for s in out):
                out.append(Source(partner, ref))
    return out


def _sends(partner: Partner, module: str, role: str | None) -> bool:
    for e in partner.endpoints:
        if e.identifier.lower() != module:
            continue
        if e.role is not None:
            if e.role.upper() == InterfaceRole.SENDER.value:
                return True
            continue
        is_cpo = (role or "").upper() == "CPO"
        return not is_cpo if module == "tokens" else is_cpo
    return False
