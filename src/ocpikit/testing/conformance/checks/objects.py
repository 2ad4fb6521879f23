"""Stage ``objects``: every object of every Sender list valid against the version's models,
unset fields absent rather than ``null``, and ids served exactly as they are (a GET by id gives
the id of the list, in the same case). Models: ``ocpikit.models.model_for(version, kind)``;
spec: the object descriptions of each module and types §CiString (case-insensitive to compare,
but kept as written)."""

from __future__ import annotations

from ..context import Context
from ..pure import KIND, join_url, model_problems, null_paths, object_key, stored_differences
from ..registry import Failed, Skipped, check
from ._util import listing, one_object_problem
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
    ("terminology", "Cardinality"),
    "where objects send null for unset fields (allowed for optional fields; reported, not failed)",
)
async def no_nulls(ctx: Context) -> str:
    """OCPI 2.2.1 terminology §Cardinality: an unset optional field "might be null, or the field
    might be omitted", so ``null`` is no fault; a ``null`` in a required field is one, and
    ``objects.valid`` reports it (the models refuse it). This check only says where nulls are
    sent, as a hint for partners that read strictly."""
    count = 0
    with_nulls: list[str] = []
    for walk in await _walks(ctx):
        for page in walk.pages:
            for obj in page.items:
                count += 1
                nulls = null_paths(obj)
                if nulls:
                    key = object_key(walk.module, obj) or "(no string id)"
                    with_nulls.append(f"{walk.module} {key} at {listing(nulls, 2)}")
    if not count:
        raise Skipped("the lists are empty")
    if not with_nulls:
        return f"{count} objects without nulls"
    return (
        f"{len(with_nulls)} of {count} objects send null for unset optional fields "
        f"(allowed): {listing(with_nulls, 2)}"
    )


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
    base = ctx.endpoint("locations", "SENDER") or ""
    checked = 0
    for listed in walks[0].items[:_CHECKED_BY_ID]:
        if not isinstance(listed, dict) or not isinstance(listed.get("id"), str):
            continue
        oid = listed["id"]
        ex = await ctx.client.call("GET", join_url(base, oid), token=ctx.token, module="locations")
        problem = one_object_problem(ex, f"location {oid}")
        if problem:
            raise Failed(problem, ex, "HTTP 200, status 1000, data: the Location object")
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
                "GET", join_url(base, oid, uid), token=ctx.token, module="locations"
            )
            problem = one_object_problem(evse, f"EVSE {oid}/{uid}")
            if problem:
                raise Failed(problem, evse, "HTTP 200, status 1000, data: the EVSE object")
            got = evse.data.get("uid")
            if got != uid:
                raise Failed(
                    f"EVSE {oid}/{uid} read by uid gives uid {got!r}", evse, f"uid {uid!r}"
                )
        checked += 1
    return f"{checked} locations (and an EVSE each) read by id, ids exact"
