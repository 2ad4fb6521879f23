"""OCPI open data: anonymous, read-only, rate-limited access to our published Locations and
the Tariffs they use, for NAPs and apps that take OCPI directly (``[open_data] enabled =
true``; off by default: every path below is then a 404).

- ``GET /open/ocpi/versions``, ``GET /open/ocpi/{version}``: versions and endpoints (the
  ``locations`` and ``tariffs`` SENDER interfaces only);
- ``GET /open/ocpi/{version}/locations[?offset&limit&date_from&date_to]``,
  ``GET /open/ocpi/{version}/locations/{location_id}``;
- ``GET /open/ocpi/{version}/tariffs[...]``, ``GET /open/ocpi/{version}/tariffs/{tariff_id}``.

Invariants: a Location is served only with ``publish = true`` and no ``publish_allowed_to``
(OCPI 2.3.0 mod_locations §Location: the list restricts who may see it, so it never goes to
anonymous callers); anything else is "not found" (HTTP 404, as an unknown object: nothing tells it exists). A
Tariff is served only when an open Location's connector refers to it (Tariffs have no publish
flag; one used only at closed locations stays closed). Answers are OCPI envelopes, paginated
as any OCPI list (transport §Pagination). Each caller address has a token bucket
(``requests_per_second``, ``burst``): over it, HTTP 429 with ``Retry-After``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ocpikit.afir.common import is_open_data
from ocpikit.afir.source import own_documents
from ocpikit.core.envelope import error as error_envelope
from ocpikit.core.envelope import success
from ocpikit.core.errors import NotFound, OcpiError, TooManyRequests
from ocpikit.core.pagination import PageParams, link_header, next_page_url
from ocpikit.core.types import parse_datetime
from ocpikit.core.versions import Version
from ocpikit.protocol.handlers.base import head_to_version
from ocpikit.protocol.rate_limit import KeyedBuckets, retry_after
from ocpikit.server.platform import Platform

__all__ = ["OpenDataSettings", "open_data_routes", "parse_open_data"]

_PREFIX = "/open/ocpi"


@dataclass(frozen=True, slots=True)
class OpenDataSettings:
    """``[open_data]``: ``enabled`` (default false), ``requests_per_second`` (2) and
    ``burst`` (10) per caller address."""

    enabled: bool = False
    requests_per_second: float = 2.0
    burst: float = 10.0


def parse_open_data(table: Any) -> OpenDataSettings:
    if table is None:
        return OpenDataSettings()
    if not isinstance(table, Mapping):
        raise ValueError("[open_data] must be a table")
    enabled = table.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ValueError("open_data.enabled: expected true or false")
    try:
        rate = float(table.get("requests_per_second", 2.0))
        burst = float(table.get("burst", 10.0))
    except (TypeError, ValueError):
        raise ValueError("open_data.requests_per_second/burst: expected numbers") from None
    return OpenDataSettings(enabled, rate, burst)


def _answer(
    platform: Platform, body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def _open_locations(platform: Platform) -> list[dict[str, Any]]:
    return [loc for loc in await own_documents(platform.storage, "Location") if is_open_data(loc)]


async def _open_tariffs(platform: Platform) -> list[dict[str, Any]]:
    used = {
        (str(loc["country_code"]).upper(), str(loc["party_id"]).upper(), str(t))
        for loc in await _open_locations(platform)
        for evse in loc.get("evses") or []
        for con in evse.get("connectors") or []
        for t in con.get("tariff_ids") or []
    }
    return [
        t
        for t in await own_documents(platform.storage, "Tariff")
        if (str(t["country_code"]).upper(), str(t["party_id"]).upper(), str(t["id"])) in used
    ]


class _OpenData:
    def __init__(self, settings: OpenDataSettings) -> None:
        self.settings = settings
        self.buckets = KeyedBuckets(settings.requests_per_second, settings.burst)

    def endpoint(self, fn: Any) -> Any:
        async def run(request: Request) -> Response:
            platform: Platform = request.app.state.platform
            try:
                if not self.settings.enabled:
                    raise NotFound("Open data is not enabled on this platform")
                address = request.client.host if request.client else "-"
                wait = self.buckets.take(address, time.monotonic())
                if wait is not None:
                    raise TooManyRequests("Rate limit exceeded", retry_after=retry_after(wait))
                response: Response = await fn(request, platform)
                return response
            except OcpiError as exc:
                body = error_envelope(exc, clock=platform.clock).to_json()
                answer = _answer(platform, body, exc.http_status)
                answer.headers.update(getattr(exc, "response_headers", {}))
                return answer

        return run


def _version(request: Request, platform: Platform) -> Version:
    text = request.path_params["version"]
    version = platform.version(text)
    if version is None:
        raise NotFound(f"Version {text!r} is not offered")
    return version


async def versions(request: Request, platform: Platform) -> Response:
    base = f"{platform.settings.base_url}{_PREFIX}"
    data = [{"version": str(v), "url": f"{base}/{v}"} for v in platform.settings.versions]
    return _answer(platform, success(data, clock=platform.clock).to_json())


async def version_details(request: Request, platform: Platform) -> Response:
    version = _version(request, platform)
    base = f"{platform.settings.base_url}{_PREFIX}/{version}"
    endpoints = []
    for module in ("locations", "tariffs"):
        entry = {"identifier": module, "url": f"{base}/{module}"}
        if version >= Version("2.2"):
            entry["role"] = "SENDER"
        endpoints.append(entry)
    data = {"version": str(version), "endpoints": endpoints}
    return _answer(platform, success(data, clock=platform.clock).to_json())


def _listing(kind: str) -> Any:
    async def listing(request: Request, platform: Platform) -> Response:
        version = _version(request, platform)
        params = PageParams.from_query(request.query_params)
        docs = await (_open_locations if kind == "Location" else _open_tariffs)(platform)
        docs = [d for d in docs if params.matches(parse_datetime(str(d["last_updated"])))]
        page = docs[params.offset : params.offset + params.limit]
        data = [head_to_version(d, version, kind) for d in page]
        headers = {"X-Total-Count": str(len(docs)), "X-Limit": str(params.limit)}
        if params.offset + len(page) < len(docs):
            url = next_page_url(
                str(request.url), offset=params.offset + len(page), limit=params.limit
            )
            headers["Link"] = link_header(url)
        return _answer(platform, success(data, clock=platform.clock).to_json(), headers=headers)

    return listing


def _single(kind: str) -> Any:
    async def single(request: Request, platform: Platform) -> Response:
        version = _version(request, platform)
        wanted = request.path_params["object_id"]
        docs = await (_open_locations if kind == "Location" else _open_tariffs)(platform)
        for doc in docs:
            if str(doc["id"]) == wanted:
                data = head_to_version(doc, version, kind)
                return _answer(platform, success(data, clock=platform.clock).to_json())
        raise NotFound(f"No open {kind} {wanted!r}")

    return single


def open_data_routes(settings: OpenDataSettings) -> list[BaseRoute]:
    """The open data routes (each a 404 while ``enabled`` is false)."""
    od = _OpenData(settings)
    return [
        Route(f"{_PREFIX}/versions", od.endpoint(versions), methods=["GET"]),
        Route(f"{_PREFIX}/{{version}}", od.endpoint(version_details), methods=["GET"]),
        Route(
            f"{_PREFIX}/{{version}}/locations", od.endpoint(_listing("Location")), methods=["GET"]
        ),
        Route(
            f"{_PREFIX}/{{version}}/locations/{{object_id}}",
            od.endpoint(_single("Location")),
            methods=["GET"],
        ),
        Route(f"{_PREFIX}/{{version}}/tariffs", od.endpoint(_listing("Tariff")), methods=["GET"]),
        Route(
            f"{_PREFIX}/{{version}}/tariffs/{{object_id}}",
            od.endpoint(_single("Tariff")),
            methods=["GET"],
        ),
    ]
