"""The National Access Point feeds (AFIR, Regulation (EU) 2023/1804 Art. 20) and the AFIR
data check, over HTTP:

- ``GET /nap/static?format=datex2-json|datex2-xml&profile=mobilithek|datex2-3.7``: the static
  table publication of every published location (as ``ocpikit afir export``);
- ``GET /nap/status``: the full status publication (Mobilithek profile, ``snapshotPull``);
  ``GET /nap/status?since=<RFC 3339>``: the delta of status and price changes since then
  (``deltaPull``), a full snapshot when ``since`` is older than six hours; the header
  ``X-Nap-Until`` is the ``since`` of the next poll. A repeated request within one second
  gets the same document (deltas at most once per second, Mobilithek guideline; it also
  bounds what an anonymous caller can make the platform build);
- ``GET /admin/api/afir/check[?location=ID]``: the AFIR data check (admin token);
- ``GET /admin/api/afir/supplement``, ``PUT /admin/api/afir/supplement/{location_id}``: the
  per-location supplement the backend API keeps (merged over the config's ``[afir]``).

The NAP feeds need no token: they carry only what ``publish = true`` without
``publish_allowed_to`` makes public. Errors are the backend API's plain JSON.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ocpikit.afir.check import check_locations
from ocpikit.afir.export import ExportError, render_static
from ocpikit.afir.mobilithek import Dataset
from ocpikit.afir.source import (
    load_dataset,
    own_documents,
    store_supplement,
    stored_supplement,
)
from ocpikit.afir.status import Window, delta_window, status_publication
from ocpikit.afir.supplement import Supplement, SupplementError, parse_supplement
from ocpikit.core.errors import InvalidOrMissingParameters, NotFound
from ocpikit.core.types import format_datetime
from ocpikit.server.admin.common import admin_endpoint, json_response, read_body
from ocpikit.server.platform import Platform

__all__ = ["nap_routes"]

_MEMO_SECONDS = 1.0
_MEMO_MAX = 256


def _config_supplement(platform: Platform) -> Supplement:
    try:
        return parse_supplement(platform.settings.extra.get("afir"))
    except SupplementError as exc:
        raise InvalidOrMissingParameters(f"configuration: {exc}") from None


async def _dataset(platform: Platform, locations: list[dict[str, Any]] | None = None) -> Dataset:
    return await load_dataset(
        platform.storage,
        _config_supplement(platform),
        platform.clock.now(),
        locations=locations,
    )


def nap_static_endpoint() -> BaseRoute:
    memo = _Memo()

    async def nap_static(request: Request, platform: Platform) -> Response:
        fmt = request.query_params.get("format", "datex2-json")
        profile = request.query_params.get("profile")
        key, tick = f"{fmt} {profile}", time.monotonic()
        hit = memo.get(key, tick)
        if hit is None:
            try:
                body, media = render_static(await _dataset(platform), fmt, profile)
            except ExportError as exc:
                raise InvalidOrMissingParameters(str(exc)) from None
            memo.put(key, tick, body, media)
        else:
            body, media = hit
        return Response(body, media_type=media)

    return Route("/nap/static", admin_endpoint(nap_static, auth=False), methods=["GET"])


def _since(request: Request) -> datetime | None:
    text = request.query_params.get("since")
    if text is None:
        return None
    try:
        since = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidOrMissingParameters(f"since: not an RFC 3339 time: {text!r}") from None
    if since.tzinfo is None:
        raise InvalidOrMissingParameters("since: needs a time zone (Z or +hh:mm)")
    return since


class _Memo:
    """The documents built in the last second, by request (bounded): the anonymous feeds
    build each answer at most once a second however often they are asked."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[float, bytes, str]] = {}

    def get(self, key: str, now: float) -> tuple[bytes, str] | None:
        self.entries = {k: v for k, v in self.entries.items() if now - v[0] < _MEMO_SECONDS}
        hit = self.entries.get(key)
        return (hit[1], hit[2]) if hit else None

    def put(self, key: str, now: float, body: bytes, until: str) -> None:
        if len(self.entries) >= _MEMO_MAX:
            self.entries.pop(next(iter(self.entries)))
        self.entries[key] = (now, body, until)


async def _status_body(platform: Platform, window: Window) -> bytes:
    if window.since is None:
        ds = await _dataset(platform)
        return orjson.dumps(status_publication(ds, window))
    tariffs = await own_documents(platform.storage, "Tariff", since=window.changed_from)
    changed = frozenset(
        (str(t["country_code"]).upper(), str(t["party_id"]).upper(), str(t["id"]).upper())
        for t in tariffs
    )
    # a changed tariff touches every location using it: read them all; else only the changed
    locations = None if changed else await _changed_locations(platform, window)
    ds = await _dataset(platform, locations)
    return orjson.dumps(status_publication(ds, window, changed_tariffs=changed))


async def _changed_locations(platform: Platform, window: Window) -> list[dict[str, Any]]:
    assert window.changed_from is not None
    return await own_documents(platform.storage, "Location", since=window.changed_from)


def nap_status_endpoint() -> BaseRoute:
    memo = _Memo()

    async def nap_status(request: Request, platform: Platform) -> Response:
        since = _since(request)
        key = request.query_params.get("since", "")
        tick = time.monotonic()
        hit = memo.get(key, tick)
        if hit is None:
            window = delta_window(since, platform.clock.now())
            body, until = await _status_body(platform, window), format_datetime(window.until)
            memo.put(key, tick, body, until)
        else:
            body, until = hit
        return Response(body, media_type="application/json", headers={"X-Nap-Until": until})

    return Route("/nap/status", admin_endpoint(nap_status, auth=False), methods=["GET"])


async def afir_check(request: Request, platform: Platform) -> Response:
    ds = await _dataset(platform)
    wanted = request.query_params.get("location")
    locations = [loc for loc in ds.locations if wanted is None or loc["id"] == wanted]
    if wanted is not None and not locations:
        raise NotFound(f"Unknown Location {wanted!r}")
    return json_response(check_locations(locations, ds.supplement, ds.tariffs))


async def get_supplement(request: Request, platform: Platform) -> Response:
    supplement = await stored_supplement(platform.storage, _config_supplement(platform))
    return json_response(
        {
            "common": dict(supplement.common),
            "party": {k: dict(v) for k, v in supplement.parties.items()},
            "location": {k: dict(v) for k, v in supplement.locations.items()},
        }
    )


async def put_supplement(request: Request, platform: Platform) -> Response:
    body = await read_body(request)
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("The body must be a JSON object of supplement keys")
    try:
        merged = await store_supplement(
            platform.storage,
            _config_supplement(platform),
            request.path_params["location_id"],
            body,
        )
    except SupplementError as exc:
        raise InvalidOrMissingParameters(str(exc)) from None
    return json_response(merged)


def nap_routes() -> list[BaseRoute]:
    """The NAP feeds and the AFIR backend API routes."""
    return [
        nap_static_endpoint(),
        nap_status_endpoint(),
        Route("/admin/api/afir/check", admin_endpoint(afir_check), methods=["GET"]),
        Route("/admin/api/afir/supplement", admin_endpoint(get_supplement), methods=["GET"]),
        Route(
            "/admin/api/afir/supplement/{location_id}",
            admin_endpoint(put_supplement),
            methods=["PUT"],
        ),
    ]
