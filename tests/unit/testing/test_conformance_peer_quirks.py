"""The conformance runner against a fake CPO with the habits seen on a real third-party OCPI
server (docs/testing.md, "Tried against"), served over loopback HTTP with our own data:

- endpoint URLs listed with a trailing ``/`` (``…/locations/``): object URLs must not double it;
- one object answered as a list of one (``data: [Location]``);
- a ``Link`` whose scheme is forced to ``https`` (unusable against a plain-HTTP server), on a list
  of only two objects;
- CDRs without ``cdr_location.evse_uid``;
- ``null`` for unset optional fields (allowed: terminology §Cardinality);
- errors as bare ``{"detail": …}`` bodies, no OCPI envelope;
- no routing headers on its answers.

The fake is reached with the token of an existing registration, so nothing is registered.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ocpikit.testing import conformance
from ocpikit.testing.emulator.data import make_object

TOKEN = "fake-token-c"
PARTY = "BE-BEC"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ok(data: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"data": data, "status_code": 1000, "timestamp": now}
    return JSONResponse(body, headers=headers)


def _app(base: str) -> Starlette:
    location = make_object("locations", PARTY, 1, seed=3, version="2.2.1")
    location["state"] = None  # an unset optional field sent as null
    tariffs = [make_object("tariffs", PARTY, n, seed=3, version="2.2.1") for n in (1, 2)]
    cdr = make_object("cdrs", PARTY, 1, seed=3, version="2.2.1")
    del cdr["cdr_location"]["evse_uid"]
    lists = {"locations": [location], "tariffs": tariffs, "cdrs": [cdr]}
    root = f"{base}/ocpi/cpo/2.2.1"

    def authorized(request: Request) -> bool:
        import base64

        return (
            request.headers.get("authorization")
            == "Token " + base64.b64encode(TOKEN.encode()).decode()
        )

    async def versions(request: Request) -> JSONResponse:
        return _ok([{"version": "2.2.1", "url": f"{base}/ocpi/2.2.1/details"}])

    async def details(request: Request) -> JSONResponse:
        endpoints = [{"identifier": "credentials", "role": "SENDER", "url": f"{root}/credentials/"}]
        endpoints += [{"identifier": m, "role": "SENDER", "url": f"{root}/{m}/"} for m in lists]
        return _ok({"version": "2.2.1", "endpoints": endpoints})

    async def credentials(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"detail": "Your authorization token is invalid."}, 403)
        cc, pid = PARTY.split("-")
        role = {"role": "CPO", "country_code": cc, "party_id": pid}
        role["business_details"] = {"name": "Fake peer"}  # type: ignore[assignment]
        return _ok({"token": TOKEN, "url": f"{base}/ocpi/versions", "roles": [role]})

    async def listing(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"detail": "Your authorization token is invalid."}, 403)
        module = request.path_params["module"]
        items = lists[module]
        offset = int(request.query_params.get("offset", 0))
        limit = int(request.query_params.get("limit", 50))
        page = items[offset : offset + limit]
        headers = {"X-Total-Count": str(len(items)), "X-Limit": str(limit), "Link": ""}
        if offset + limit < len(items):
            nxt = f"{root}/{module}/?offset={offset + limit}&limit={limit}"
            headers["Link"] = f'<{nxt.replace("http://", "https://")}>; rel="next"'
        return _ok(page, headers)

    async def location_by_id(request: Request) -> JSONResponse:
        if request.path_params["lid"] != location["id"]:
            return JSONResponse({"detail": "Object not found."}, 404)
        uid = request.path_params.get("uid")
        if uid is None:
            return _ok([location])
        return _ok([e for e in location["evses"] if e["uid"] == uid])

    async def not_found(request: Request) -> JSONResponse:
        return JSONResponse({"detail": "Not Found"}, 404)

    return Starlette(
        routes=[
            Route("/ocpi/versions", versions),
            Route("/ocpi/2.2.1/details", details),
            Route("/ocpi/cpo/2.2.1/credentials/", credentials),
            Route("/ocpi/cpo/2.2.1/locations/{lid}/{uid}", location_by_id),
            Route("/ocpi/cpo/2.2.1/locations/{lid}", location_by_id),
            Route("/ocpi/cpo/2.2.1/{module}/", listing),
            Route("/{rest:path}", not_found),
        ]
    )


@pytest.fixture(scope="module")
def fake_peer() -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(_app(base), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"{base}/ocpi/versions"
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture(scope="module")
def report(fake_peer: str) -> dict[str, Any]:
    rep = conformance.run(
        versions_url=fake_peer,
        token=TOKEN,
        role="cpo",
        version="2.2.1",
        party="NL-TST",
        checks=[
            "pagination.*",
            "objects.*",
            "transport.not_found_404",
            "transport.routing_headers",
        ],
    )
    assert rep.info["registration"] != "registered by the run"
    return {r.id: r for r in rep.results}


def test_one_object_as_a_list_fails_ids_preserved_without_doubled_slashes(
    report: dict[str, Any],
) -> None:
    result = report["objects.ids_preserved"]
    assert result.status == "fail"
    assert "answered a list of 1 instead of one object" in result.message
    assert "locations/BEC-LOC-0001" in result.request and "//BEC" not in result.request


def test_unusable_link_on_a_two_object_list_fails_link_works_only(
    report: dict[str, Any],
) -> None:
    result = report["pagination.link_works"]
    assert result.status == "fail"
    assert "tariffs: the Link https://" in result.message and "no answer" in result.message
    # the broken Link is reported once, not again as a page limit problem
    assert report["pagination.limit_honoured"].status == "pass"


def test_cdr_without_evse_uid_fails_objects_valid(report: dict[str, Any]) -> None:
    result = report["objects.valid"]
    assert result.status == "fail"
    assert "cdr_location.evse_uid" in result.message


def test_null_optional_fields_are_reported_not_failed(report: dict[str, Any]) -> None:
    result = report["objects.no_nulls"]
    assert result.status == "pass"
    assert "locations" in result.message and "state" in result.message


def test_not_found_without_envelope_says_so(report: dict[str, Any]) -> None:
    result = report["transport.not_found_404"]
    assert result.status == "fail"
    assert "HTTP 404 without an OCPI envelope" in result.message
    assert "//CF-NO-SUCH" not in result.request


def test_missing_routing_headers_are_named(report: dict[str, Any]) -> None:
    result = report["transport.routing_headers"]
    assert result.status == "fail"
    assert "OCPI-to no OCPI-to-* headers" in result.message and "(HTTP " in result.message
