"""Stage ``objects``: every object of every Sender list valid against the version's models,
unset fields absent rather than ``null``, and ids served exactly as they are (a GET by id gives
the id of the list, in the same case). Models: ``ocpikit.models.model_for(version, kind)``;
spec: the object descriptions of each module and types §CiString (case-insensitive to compare,
but kept as written)."""

from __future__ import annotations

from ..context import Context
from ..pure import KIND, model_problems, null_paths, object_key, stored_differences
from ..registry import Failed, Skipped, check
from ._util import listing
from .pagination import _walks

_CHECKED_BY_ID = 3


@check(
    "objects.valid",
    "objects",
    ("transport_and_format", "Response format"),
    "every object of every list is valid against the version's model",
)
async def valid(ctx: Context) -> str:
    count = 0
    for walk in await _walks(ctx):
        kind = KIND[walk.module]
        for page in walk.pages:
            for obj in page.items:
                count += 1
                problems = model_problems(ctx.version, kind, obj)
                if problems:
                    raise Failed(
                        f"{walk.module}: {kind} {object_key(walk.module, obj) or '(no string id)'}: {listing(problems, 3)}",
                        page.exchange,
                        f"a valid {ctx.version} {kind}",
                    )
    if not count:
        raise Skipped("the lists are empty")
    return f"{count} objects valid"


@check(
    "objects.no_nulls",
    "objects",
    ("types", "Types"),
    "unset fields are absent, not null",
)
async def no_nulls(ctx: Context) -> str:
    count = 0
    for walk in await _walks(ctx):
        for page in walk.pages:
            for obj in page.items:
                count += 1
                nulls = null_paths(obj)
                if nulls:
                    raise Failed(
                        f"{walk.module}: {object_key(walk.module, obj) or '(no string id)'} has null at {listing(nulls, 4)}",
                        page.exchange,
                        "unset fields left out",
                    )
    if not count:
        raise Skipped("the lists are empty")
    return f"{count} objects without nulls"


@check(
    "objects.ids_preserved",
    "objects",
    ("mod_locations", "Sender Interface"),
    "a Location read by its id is the listed object with the same id, same case",
    v211=("mod_locations", "CPO Interface"),
)
async def ids_preserved(ctx: Context) -> str:
    walks = [w for w in await _walks(ctx) if w.module == "locations"]
    if not walks or not walks[0].items:
        raise Skipped(
            "no Locations Sender list with objects (ids of pushed objects: write.ids_preserved)"
        )
    base = ctx.endpoint("locations", "SENDER")
    checked = 0
    for listed in walks[0].items[:_CHECKED_BY_ID]:
        if not isinstance(listed, dict) or not isinstance(listed.get("id"), str):
            continue
        oid = listed["id"]
        ex = await ctx.client.call("GET", f"{base}/{oid}", token=ctx.token, module="locations")
        if ex.status_code != 1000 or not isinstance(ex.data, dict):
            raise Failed(
                f"GET of location {oid} answered status {ex.status_code}", ex, "the Location"
            )
        if ex.data.get("id") != oid:
            raise Failed(
                f"location {oid} read by id has id {ex.data.get('id')!r}", ex, f"id {oid!r}"
            )
        diffs = stored_differences(listed, ex.data)
        if diffs:
            raise Failed(
                f"location {oid} differs from the listed one: {listing(diffs, 3)}",
                ex,
                "the same object",
            )
        evses = listed.get("evses") or []
        if evses and isinstance(evses[0], dict) and isinstance(evses[0].get("uid"), str):
            uid = evses[0]["uid"]
            evse = await ctx.client.call(
                "GET", f"{base}/{oid}/{uid}", token=ctx.token, module="locations"
            )
            got = evse.data.get("uid") if isinstance(evse.data, dict) else None
            if evse.status_code != 1000 or got != uid:
                raise Failed(
                    f"EVSE {oid}/{uid} read by uid gives uid {got!r}", evse, f"uid {uid!r}"
                )
        checked += 1
    return f"{checked} locations (and an EVSE each) read by id, ids exact"
