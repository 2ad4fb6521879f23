"""The CDRs the platform builds for our finished sessions (CPO side, docs/cdrs.md "CDRs built by
the platform"), as use cases over the ports.

A finished Session of ours is queued by storage (:mod:`ocpikit.protocol.cdr_builds`); a build
reads the Session, our Location (address, connector, ``time_zone``) and the tariffs: those the
session's charging periods name (``tariff_id``), else the connector's ``tariff_ids`` in force at
the session's start (:mod:`ocpikit.operations.tariffs_in_force`). The engine prices it and the
builder (``ocpikit.tariffs.builder.build_cdr``, DIGEST §5.1/§5.6) fills the CDR; ``signed_data``
the session carries (e.g. set by its final PATCH) goes into the CDR unchanged (OCPI 2.2.1 cdrs
§10.4.1 ``signed_data``). The CDR, id = the session id, is stored as ours and queued for the
session's connection in the same transaction (:func:`~ocpikit.operations.own_objects.put_own_object`),
like a CDR the operator supplies. A CDR of that id already stored (the operator's own) is left
alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ocpikit.core.types import parse_datetime
from ocpikit.operations.own_objects import put_own_object
from ocpikit.operations.tariffs_in_force import tariffs_by_id, tariffs_in_force
from ocpikit.protocol.cdr_builds import CdrBuild, CdrBuildState, signed_data_fact
from ocpikit.protocol.parties import RoutingRules
from ocpikit.protocol.ports import ObjectKey, Storage
from ocpikit.protocol.webhooks import EventSink
from ocpikit.tariffs import PricingInputError
from ocpikit.tariffs.builder import build_cdr

__all__ = [
    "BuildFailed",
    "build_one",
    "keep_signed_data",
    "list_builds",
    "run_pending_builds",
    "session_tariffs",
]

log = logging.getLogger("ocpikit.cdr_builds")


class BuildFailed(Exception):
    """The session cannot become a CDR (the message says why)."""


def _start(session: Mapping[str, Any]) -> datetime | None:
    raw = session.get("start_date_time")
    try:
        return parse_datetime(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


async def session_tariffs(
    storage: Storage, session: Mapping[str, Any], location: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The tariffs of our session: those its charging periods name, else the connector's
    tariffs in force at its start."""
    cc, pid = str(session.get("country_code")), str(session.get("party_id"))
    named = [
        str(p["tariff_id"])
        for p in session.get("charging_periods") or ()
        if isinstance(p, dict) and p.get("tariff_id")
    ]
    if named:
        return await tariffs_by_id(storage, cc, pid, named, None)
    return await tariffs_in_force(
        storage,
        cc,
        pid,
        location=location,
        evse_uid=session.get("evse_uid"),
        connector_id=session.get("connector_id"),
        start=_start(session),
        owner=None,
    )


async def keep_signed_data(
    storage: Storage, session: ObjectKey, signed_data: Mapping[str, Any]
) -> None:
    """Keep the OCPI SignedData a charger signed for our ``session`` for the CDR built from it
    (:func:`~ocpikit.protocol.cdr_builds.signed_data_fact`); call it before the session is
    completed."""
    name = signed_data_fact(session.country_code, session.party_id, session.id)
    await storage.facts.set(name, json.dumps(dict(signed_data)))


async def build_one(
    storage: Storage,
    session: Mapping[str, Any],
    *,
    cdr_id: str | None = None,
    now: datetime | None = None,
    decimals: int = 2,
) -> dict[str, Any]:
    """The head CDR of our finished ``session`` (head document), amounts rounded half-up to
    ``decimals``; raises :class:`BuildFailed`."""
    cc, pid = str(session.get("country_code")), str(session.get("party_id"))
    loc = await storage.objects.get(ObjectKey("Location", cc, pid, str(session.get("location_id"))))
    location = loc.document if loc is not None and loc.owner is None else None
    tariffs = await session_tariffs(storage, session, location)
    if not tariffs:
        raise BuildFailed(
            "no tariff: the charging periods name none we hold and the connector has none in "
            "force at the session's start"
        )
    try:
        built = build_cdr(
            dict(session), tariffs, cdr_id=cdr_id, location=location, now=now, decimals=decimals
        )
    except (PricingInputError, ValueError, TypeError, KeyError) as exc:
        raise BuildFailed(str(exc)) from None
    for warning in built.warnings:
        log.info("CDR of session %s: %s", session.get("id"), warning)
    doc = built.cdr.dump()
    if session.get("signed_data") is not None:
        doc["signed_data"] = session["signed_data"]
    else:
        signed = await storage.facts.get(signed_data_fact(cc, pid, str(session.get("id"))))
        if signed:
            doc["signed_data"] = json.loads(signed)
    return doc


async def _build(
    storage: Storage, build: CdrBuild, rules: RoutingRules | None, decimals: int
) -> tuple[CdrBuildState, str | None, str | None]:
    skey = ObjectKey("Session", build.country_code, build.party_id, build.session_id)
    stored = await storage.objects.get(skey)
    if stored is None or stored.owner is not None:
        return CdrBuildState.SKIPPED, None, "the session is no longer held"
    ckey = ObjectKey("CDR", build.country_code, build.party_id, build.session_id)
    existing = await storage.objects.get(ckey)
    if existing is not None:
        return CdrBuildState.SKIPPED, existing.key.id, "a CDR of this id is already stored"
    try:
        doc = await build_one(storage, stored.document, decimals=decimals)
    except BuildFailed as exc:
        return CdrBuildState.FAILED, None, str(exc)
    await put_own_object(storage, ckey, doc, rules=rules)
    return CdrBuildState.BUILT, ckey.id, None


async def run_pending_builds(
    storage: Storage,
    events: EventSink | None = None,
    *,
    mode: str = "auto",
    rules: RoutingRules | None = None,
    limit: int = 50,
    decimals: int = 2,
) -> int:
    """Build the CDRs of up to ``limit`` queued sessions (leased, so no other process builds
    them meanwhile), store and queue each for its receivers, queue a ``cdr.built`` webhook
    event; the number handled. ``mode`` is ``[cdrs] build``: "off" marks each skipped (the
    operator's systems supply the CDRs). Amounts are rounded
    half-up to ``decimals`` (``[cdrs] decimals``; the spec leaves rounding to the parties)."""
    handled = 0
    for build in await storage.cdr_builds.claim(limit=limit):
        state: CdrBuildState
        cdr_id: str | None
        error: str | None
        if mode != "auto":
            state, cdr_id, error = CdrBuildState.SKIPPED, None, '[cdrs] build = "off"'
        else:
            state, cdr_id, error = await _build(storage, build, rules, decimals)
        if not await storage.cdr_builds.finish(build.seq, state, cdr_id=cdr_id, error=error):
            continue
        handled += 1
        if error and state is CdrBuildState.FAILED:
            log.warning("no CDR for session %s: %s", build.session_id, error)
        if events is not None and mode == "auto":
            await events.emit(
                "cdr.built",
                {
                    "session_id": build.session_id,
                    "country_code": build.country_code,
                    "party_id": build.party_id,
                    "state": state.value,
                    "cdr_id": cdr_id,
                    "error": error,
                },
            )
    return handled


async def list_builds(
    storage: Storage, *, states: list[str] | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """The builds as JSON; raises ValueError for an unknown state."""
    wanted = []
    for s in states or ():
        try:
            wanted.append(CdrBuildState(s))
        except ValueError:
            raise ValueError(
                f"state {s!r}: one of {', '.join(x.value for x in CdrBuildState)}"
            ) from None
    return [b.to_json() for b in await storage.cdr_builds.listing(states=wanted, limit=limit)]
