"""Matching a request path and method against the OCPI route table.

A route is a path of literal segments and ``{param}`` segments, one method and an endpoint. A
lookup answers a :class:`Match` (as starlette's routing does): FULL (path and method match: the
route and its parameters), PARTIAL (the path exists but not with this method: a 405), NONE (a
404). Routes are tried in table order; the first FULL match wins.

Plan of the speed trick: routes are bucketed by segment count (and, for module URLs, by side and
module), and the answer for a ``(path, method)`` is remembered in a bounded memo (emptied when
full): partners push the same objects again and again (a Session's PUT, then its PATCHes), so a
repeated URL is one dictionary probe. Invariant: :meth:`Router.match` answers what
:meth:`Router.walk` (the reference: the walk over the bucket) answers, with a fresh parameter
dict on every call.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["MATCH_MEMO_MAX", "Match", "Route", "Router", "compile_route"]

EndpointT = TypeVar("EndpointT")

#: matches remembered by :class:`Router` (path and method); the memo is emptied when full
MATCH_MEMO_MAX = 4096


class Match(enum.Enum):
    """How a route table answers a path and method."""

    NONE = 0  # no route has this path: 404
    PARTIAL = 1  # a route has this path, none this method: 405
    FULL = 2  # a route has this path and method


@dataclass(frozen=True, slots=True)
class Route(Generic[EndpointT]):
    #: path segments after the leading "/": a literal, or None for a {param}
    segments: tuple[str | None, ...]
    params: tuple[str, ...]
    method: str
    endpoint: EndpointT
    module: str | None


def compile_route(
    path: str, method: str, endpoint: EndpointT, module: str | None
) -> Route[EndpointT]:
    """The route of ``path`` (``/ocpi/{version}/credentials``) for ``method``."""
    segments: list[str | None] = []
    params: list[str] = []
    for part in path.strip("/").split("/"):
        if part.startswith("{") and part.endswith("}"):
            segments.append(None)
            params.append(part[1:-1])
        else:
            segments.append(part)
    return Route(tuple(segments), tuple(params), method, endpoint, module)


def _bucket_key(segments: Sequence[str | None]) -> tuple[Any, ...]:
    """Routes are bucketed by segment count and, for module URLs, side and module."""
    if len(segments) >= 4:
        return (len(segments), segments[2], segments[3])
    return (len(segments),)


class Router(Generic[EndpointT]):
    """Looks up routes; see the module's plan and invariant."""

    def __init__(self, routes: Sequence[Route[EndpointT]]) -> None:
        self._buckets: dict[tuple[Any, ...], list[Route[EndpointT]]] = {}
        for route in routes:  # in match order within each bucket
            self._buckets.setdefault(_bucket_key(route.segments), []).append(route)
        self._memo: dict[
            tuple[str, str], tuple[Match, Route[EndpointT] | None, dict[str, str]]
        ] = {}

    def match(
        self, path: str, method: str
    ) -> tuple[Match, Route[EndpointT] | None, dict[str, str]]:
        """How the table answers ``method`` on ``path``: the route and its parameters on a
        FULL match (``None`` and no parameters otherwise). The parameters are a fresh dict on
        every call."""
        found = self._memo.get((path, method))
        if found is None:
            found = self.walk(path, method)
            if len(self._memo) >= MATCH_MEMO_MAX:
                self._memo.clear()
            self._memo[(path, method)] = found
        kind, route, params = found
        return kind, route, dict(params)

    def walk(self, path: str, method: str) -> tuple[Match, Route[EndpointT] | None, dict[str, str]]:
        """The reference lookup: the first route of the path's bucket that matches."""
        parts = path[1:].split("/")
        path_found = False
        for route in self._buckets.get(_bucket_key(parts), ()):
            for want, got in zip(route.segments, parts, strict=True):
                if (want is not None and want != got) or not got:
                    break
            else:
                if route.method != method:
                    path_found = True
                    continue
                values = [
                    got for want, got in zip(route.segments, parts, strict=True) if want is None
                ]
                return Match.FULL, route, dict(zip(route.params, values, strict=True))
        return (Match.PARTIAL if path_found else Match.NONE), None, {}

    @property
    def memo_size(self) -> int:
        """How many answers the memo holds (bounded by :data:`MATCH_MEMO_MAX`)."""
        return len(self._memo)
