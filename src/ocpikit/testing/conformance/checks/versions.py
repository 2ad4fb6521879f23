"""Stage ``versions``: the versions list and the version details (version_information_endpoint
§Version information endpoint, §Version details endpoint)."""

from __future__ import annotations

from ..context import Context
from ..pure import duplicate_endpoints, is_absolute_url, missing_modules, model_problems
from ..registry import Failed, Skipped, check
from ._util import expect_ok, listing

_DOC = "version_information_endpoint"


@check(
    "versions.endpoint",
    "versions",
    (_DOC, "Version information endpoint"),
    "GET versions answers 1000 with a list of {version, url}",
    v211=(_DOC, "Version information endpoint"),
)
async def versions_endpoint(ctx: Context) -> str:
    ex = await ctx.versions()
    expect_ok(ex, "GET versions")
    data = ex.data
    if not isinstance(data, list) or not data:
        raise Failed("data is not a non-empty list of versions", ex, "data: Version[] (+)")
    bad = [
        f"[{i}]: {p}"
        for i, v in enumerate(data)
        for p in model_problems(ctx.version or "2.2.1", "Version", v)
    ]
    if bad:
        raise Failed(f"invalid Version objects: {listing(bad)}", ex, "Version {version, url}")
    return f"{len(data)} versions: {', '.join(str(v.get('version')) for v in data)}"


@check(
    "versions.details",
    "versions",
    (_DOC, "Version details endpoint"),
    "GET version details answers 1000 with the version asked and valid endpoints",
)
async def version_details(ctx: Context) -> str:
    ex = await ctx.details()
    expect_ok(ex, "GET version details")
    data = ex.data
    if not isinstance(data, dict):
        raise Failed("data is not an object", ex, "data: VersionDetails")
    if data.get("version") != ctx.version:
        raise Failed(f"version is {data.get('version')!r}", ex, f"version {ctx.version!r}")
    bad = model_problems(ctx.version, "VersionDetails", data)
    if bad:
        raise Failed(
            f"invalid VersionDetails: {listing(bad)}", ex, "Endpoint {identifier, role, url}"
        )
    return f"{ctx.version}: {len(ctx.endpoints)} endpoints"


@check(
    "versions.absolute_urls",
    "versions",
    (_DOC, "Version details endpoint"),
    "every version and endpoint URL is absolute",
)
async def absolute_urls(ctx: Context) -> str:
    ex = await ctx.versions()
    listed = ex.data if isinstance(ex.data, list) else []
    bad = [
        f"version {v.get('version')}: {v.get('url')!r}"
        for v in listed
        if isinstance(v, dict) and not is_absolute_url(v.get("url"))
    ]
    if bad:
        raise Failed(f"relative URLs: {listing(bad)}", ex, "absolute http(s) URLs")
    endpoints = await ctx.need_details()
    bad = [
        f"{e.get('identifier')}: {e.get('url')!r}"
        for e in endpoints
        if not is_absolute_url(e.get("url"))
    ]
    if bad:
        raise Failed(f"relative URLs: {listing(bad)}", ctx.details_ex, "absolute http(s) URLs")
    return f"{len(listed)} version URLs and {len(endpoints)} endpoint URLs are absolute"


@check(
    "versions.unique_endpoints",
    "versions",
    (_DOC, "Version details endpoint"),
    "each module/role pair is listed once",
)
async def unique_endpoints(ctx: Context) -> str:
    endpoints = await ctx.need_details()
    dups = duplicate_endpoints(endpoints, ctx.version)
    if dups:
        raise Failed(
            f"listed more than once: {listing(dups)}", ctx.details_ex, "unique module/role pairs"
        )
    return "module/role pairs are unique"


@check(
    "versions.role_modules",
    "versions",
    ("terminology", "Typical OCPI implementations per Role"),
    "the version details list the modules the role needs",
    v211=(_DOC, "Version details endpoint"),
)
async def role_modules(ctx: Context) -> str:
    endpoints = await ctx.need_details()
    if ctx.role == "hub" and ctx.version == "2.1.1":
        raise Skipped("2.1.1 has no hubs")
    missing = missing_modules(endpoints, ctx.role, ctx.version)
    if missing:
        raise Failed(
            f"the {ctx.role.upper()} role needs {', '.join(missing)}",
            ctx.details_ex,
            f"endpoints for {', '.join(missing)}",
        )
    return f"{ctx.role.upper()}: the modules it needs are listed; Sender lists: {', '.join(ctx.sender_lists()) or 'none'}"
