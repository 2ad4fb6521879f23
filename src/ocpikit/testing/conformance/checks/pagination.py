"""Stage ``pagination``: every Sender list of the role, read whole by following ``Link`` as
given, then by small pages, by offset and by date window (transport_and_format §Pagination,
§Paginated Request, §Paginated Response).

- ``date_from`` is inclusive and ``date_to`` exclusive from 2.2 on; 2.1.1 says only "after" and
  "before", so an object exactly on the boundary may be in or out there.
- The small pages hold 3 objects (1 when the whole list has only 2 or 3), so that even a short
  list is read over more than one page and its ``Link`` is checked and followed.
- The whole list is the reference: a small page, an offset or a window must give the same
  objects in the same order (the spec advises oldest first; any order is fine if it is stable).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..context import Context, Walk
from ..pure import dedupe, duplicates, object_key, parse_time, same_sequence
from ..registry import Failed, Skipped, check
from ._util import listing, status_of

_TF = "transport_and_format"
_SMALL = 3


async def _walks(ctx: Context) -> list[Walk]:
    await ctx.ready()
    modules = ctx.sender_lists()
    if not modules:
        raise Skipped(f"the {ctx.role.upper()} role offers no Sender list here")
    return [await ctx.walk(m) for m in modules]


def small_limit(whole: int) -> int:
    """The page size of the small walk: ``_SMALL``, or 1 for a list of 2 or 3 objects, so that
    a list that short still has a second page, a ``Link`` to check and to follow."""
    return 1 if 1 < whole <= _SMALL else _SMALL


async def _small(ctx: Context, module: str) -> Walk:
    key = f"small:{module}"
    if key not in ctx.notes:
        whole = len((await ctx.walk(module)).distinct())
        params = {**ctx.base_params(module), "limit": str(small_limit(whole))}
        ctx.notes[key] = await ctx.walk_list(module, params, max_pages=3)
    walk: Walk = ctx.notes[key]
    return walk


def _need_complete(walk: Walk) -> None:
    if walk.error:
        raise Skipped(f"{walk.module}: the list could not be read whole ({walk.error})")
    if not walk.complete:
        raise Skipped(f"{walk.module}: longer than the runner reads ({len(walk.pages)} pages)")


async def _each(ctx: Context, fn: Callable[[Walk], Awaitable[str | None]]) -> str:
    notes = []
    skipped = []
    for walk in await _walks(ctx):
        try:
            note = await fn(walk)
        except Skipped as exc:
            skipped.append(exc.reason)
            continue
        if note:
            notes.append(note)
    if not notes and skipped:
        raise Skipped("; ".join(skipped))
    return "; ".join(notes + skipped)


@check(
    "pagination.pages_valid",
    "pagination",
    (_TF, "Paginated Response"),
    "every page of every Sender list answers HTTP 200, status 1000, a list",
)
async def pages_valid(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        if walk.error:
            raise Failed(
                f"{walk.module}: {walk.error}",
                walk.error_exchange,
                "HTTP 200, status 1000, data a list",
            )
        return f"{walk.module}: {len(walk.pages)} pages, {len(walk.items)} objects"

    return await _each(ctx, one)


@check(
    "pagination.headers",
    "pagination",
    (_TF, "Paginated Response"),
    "every page carries X-Total-Count and X-Limit as whole numbers",
)
async def headers(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        for page in walk.pages:
            for name, value in (("X-Total-Count", page.total), ("X-Limit", page.limit)):
                if value is None or value < 0:
                    raw = page.exchange.header(name)
                    raise Failed(
                        f"{walk.module} at offset {page.offset}: {name} {'missing' if raw is None else repr(raw)}",
                        page.exchange,
                        f"{name}: a whole number",
                    )
        return f"{walk.module}: ok"

    return await _each(ctx, one)


@check(
    "pagination.total_count",
    "pagination",
    (_TF, "Paginated Response"),
    "X-Total-Count is the number of objects the list holds, on every page",
)
async def total_count(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        _need_complete(walk)
        count = len(walk.distinct())
        for page in walk.pages:
            if page.total is not None and page.total != count:
                raise Failed(
                    f"{walk.module} at offset {page.offset}: X-Total-Count {page.total}, the list holds {count}",
                    page.exchange,
                    f"X-Total-Count: {count}",
                )
        return f"{walk.module}: {count}"

    return await _each(ctx, one)


@check(
    "pagination.x_limit",
    "pagination",
    (_TF, "Paginated Response"),
    "no page holds more objects than its X-Limit",
)
async def x_limit(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        for page in walk.pages:
            if page.limit is not None and len(page.items) > page.limit:
                raise Failed(
                    f"{walk.module} at offset {page.offset}: {len(page.items)} objects, X-Limit {page.limit}",
                    page.exchange,
                    "at most X-Limit objects",
                )
        return f"{walk.module}: ok"

    return await _each(ctx, one)


@check(
    "pagination.limit_honoured",
    "pagination",
    (_TF, "Paginated Request"),
    f"?limit={_SMALL} (or 1) gives pages of at most that many objects",
)
async def limit_honoured(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        small = await _small(ctx, walk.module)
        limit = int(small.params.get("limit", _SMALL))
        if small.error and not _link_failed(small):
            raise Failed(
                f"{walk.module}: {small.error}", small.error_exchange, "a page of the list"
            )
        for page in small.pages:
            if len(page.items) > limit:
                raise Failed(
                    f"{walk.module}: {len(page.items)} objects for limit={limit}",
                    page.exchange,
                    f"at most {limit} objects",
                )
        return f"{walk.module}: ok"

    return await _each(ctx, one)


def _link_failed(walk: Walk) -> bool:
    """The walk stopped at a page its last ``Link`` pointed to (``link_works`` reports that)."""
    reached = [p.link for p in walk.pages if p.link]
    ex = walk.error_exchange
    return bool(walk.error and ex is not None and reached and ex.url == reached[-1])


def _not_last(walk: Walk) -> list[int]:
    """Indexes of the pages that more objects follow."""
    later = [i for i, p in enumerate(walk.pages) if p.items]
    return [i for i in range(len(walk.pages)) if any(j > i for j in later) and walk.pages[i].items]


@check(
    "pagination.link_next",
    "pagination",
    (_TF, "Paginated Response"),
    'every page but the last carries Link: <url>; rel="next"',
)
async def link_next(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        small = await _small(ctx, walk.module)
        for w in (walk, small):
            for i, page in enumerate(w.pages):
                if page.link_error:
                    raise Failed(
                        f"{w.module} at offset {page.offset}: malformed Link: {page.link_error}",
                        page.exchange,
                        'Link: <url>; rel="next"',
                    )
                if i in _not_last(w) and page.link is None:
                    raise Failed(
                        f"{w.module} at offset {page.offset}: no Link although more objects follow",
                        page.exchange,
                        'Link: <url>; rel="next"',
                    )
        links = sum(1 for w in (walk, small) for p in w.pages if p.link)
        return f"{walk.module}: {links} links"

    return await _each(ctx, one)


def _filters(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if k in ("date_from", "date_to")}


@check(
    "pagination.link_works",
    "pagination",
    (_TF, "Paginated Response"),
    "each Link, used exactly as given, answers the next page and keeps the filters",
)
async def link_works(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        small = await _small(ctx, walk.module)
        followed = 0
        for w in (walk, small):
            if _link_failed(w) and w.error_exchange is not None:
                raise Failed(
                    f"{w.module}: the Link {w.error_exchange.url} did not give a page: "
                    f"{status_of(w.error_exchange)}",
                    w.error_exchange,
                    "the next page, HTTP 200 and status 1000",
                )
            for page in w.pages:
                if page.reached_by == "link":
                    followed += 1
                if page.link is None:
                    continue
                kept = dict(parse_qsl(urlsplit(page.link).query))
                for name, value in _filters(w.params).items():
                    if name not in kept or parse_time(kept[name]) != parse_time(value):
                        raise Failed(
                            f"{w.module}: the Link drops {name}={value}",
                            page.exchange,
                            "a Link that keeps the request's filters",
                        )
        if not followed:
            raise Skipped(f"{walk.module}: no Link to follow (one page)")
        return f"{walk.module}: {followed} links followed"

    return await _each(ctx, one)


def _first_repeat(walk: Walk) -> Any:
    seen: set[str] = set()
    for page in walk.pages:
        for obj in page.items:
            key = object_key(walk.module, obj)
            if key is None:
                continue
            if key in seen:
                return page.exchange
            seen.add(key)
    return None


@check(
    "pagination.no_duplicates",
    "pagination",
    (_TF, "Pagination"),
    "no object shows up twice across the pages of a list",
)
async def no_duplicates(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        small = await _small(ctx, walk.module)
        for w in (walk, small):
            dups = duplicates(w.keys)
            if dups:
                page = _first_repeat(w)
                raise Failed(
                    f"{w.module}: served more than once: {listing(dups, 3)}",
                    page,
                    "each object once",
                )
        return f"{walk.module}: no repeats"

    return await _each(ctx, one)


@check(
    "pagination.stable_order",
    "pagination",
    (_TF, "Pagination"),
    f"pages of {_SMALL} (or 1) give the same objects in the same order as the whole list",
)
async def stable_order(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        _need_complete(walk)
        small = await _small(ctx, walk.module)
        got = dedupe(small.keys)
        want = walk.distinct()[: len(got)]
        at = same_sequence(got, want)
        if at is not None:
            raise Failed(
                f"{walk.module}: small pages give {_keys(got[at : at + 3])} at position {at}; "
                f"the whole list has {_keys(want[at : at + 3])}",
                _page_at(small, at),
                "the same objects in the same order",
            )
        return f"{walk.module}: {len(got)} objects in the same order"

    return await _each(ctx, one)


def _keys(keys: list[str | None]) -> str:
    return ", ".join(k or "(no id)" for k in keys) or "nothing"


def _page_at(walk: Walk, position: int) -> Any:
    count = 0
    for page in walk.pages:
        count += len(page.items)
        if count > position:
            return page.exchange
    return walk.pages[-1].exchange if walk.pages else None


@check(
    "pagination.offset_applied",
    "pagination",
    (_TF, "Paginated Request"),
    "?offset=N gives the list from its N-th object",
)
async def offset_applied(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        _need_complete(walk)
        keys = walk.distinct()
        if len(keys) < 3:
            raise Skipped(f"{walk.module}: fewer than 3 objects")
        n = min(len(keys) // 2, 50)
        url = ctx.endpoint(walk.module, "SENDER")
        assert url is not None
        params = {**ctx.base_params(walk.module), "offset": str(n), "limit": "2"}
        ex = await ctx.client.call("GET", url, token=ctx.token, module=walk.module, params=params)
        if ex.status_code != 1000 or not isinstance(ex.data, list):
            raise Failed(f"{walk.module}: offset={n} did not answer a list", ex, "a page")
        got = [object_key(walk.module, o) for o in ex.data]
        if not got or same_sequence(got, keys[n : n + 2]) is not None:
            raise Failed(
                f"{walk.module}: offset={n} starts with {_keys(got) if got else 'nothing'}",
                ex,
                f"objects {n}.. of the whole list: {_keys(keys[n : n + 2])}",
            )
        return f"{walk.module}: offset={n} ok"

    return await _each(ctx, one)


def _inside(name: str, moment: Any, cut: Any, loose: bool) -> bool | None:
    """Whether ``moment`` is in the window; None on the boundary in 2.1.1 (either is fine)."""
    if loose and moment == cut:
        return None
    return bool(moment >= cut) if name == "date_from" else bool(moment < cut)


def _window_problem(
    module: str, name: str, cut: Any, loose: bool, sub: Walk, stamped: dict[str, Any]
) -> str:
    """Objects of the filtered list outside the window (by their own ``last_updated``), or
    objects of the whole list inside it that the filtered list lacks (beyond the objects
    it served without an id, which may be them)."""
    wrong = [
        object_key(module, o) or "(no id)"
        for o in sub.items
        if _stamp(o) is not None and _inside(name, _stamp(o), cut, loose) is False
    ]
    got = {k for k in sub.keys if k is not None}
    lost = sorted(
        k for k, (_, t) in stamped.items() if _inside(name, t, cut, loose) and k not in got
    )
    unknown = sum(1 for k in sub.keys if k is None)
    parts = []
    if wrong:
        parts.append(f"objects outside the window: {listing(wrong, 3)}")
    if len(lost) > unknown:
        parts.append(f"objects of the window missing: {listing(lost, 3)}")
    return "; ".join(parts)


def _stamp(obj: Any) -> Any:
    return parse_time(obj.get("last_updated")) if isinstance(obj, dict) else None


@check(
    "pagination.date_filters",
    "pagination",
    (_TF, "Paginated Request"),
    "date_from (inclusive) and date_to (exclusive) select by last_updated",
)
async def date_filters(ctx: Context) -> str:
    async def one(walk: Walk) -> str:
        _need_complete(walk)
        stamped = {}
        for obj in walk.items:
            key, moment = object_key(walk.module, obj), _stamp(obj)
            if key is not None and moment is not None:
                stamped[key] = (obj["last_updated"], moment)
        if not stamped:
            raise Skipped(f"{walk.module}: no objects with last_updated")
        ordered = sorted(stamped.values(), key=lambda s: s[1])
        raw, cut = ordered[len(ordered) // 2]
        loose = ctx.version == "2.1.1"
        for name in ("date_from", "date_to"):
            params = {**ctx.base_params(walk.module), name: raw}
            sub = await ctx.walk_list(walk.module, params)
            if sub.error:
                raise Failed(
                    f"{walk.module}: {name}={raw}: {sub.error}", sub.error_exchange, "a page"
                )
            problem = _window_problem(walk.module, name, cut, loose, sub, stamped)
            if problem:
                raise Failed(
                    f"{walk.module}: {name}={raw}: {problem}",
                    sub.pages[0].exchange if sub.pages else None,
                    f"the objects with last_updated {'>=' if name == 'date_from' else '<'} {raw}",
                )
        return f"{walk.module}: windows at {raw} ok"

    return await _each(ctx, one)
