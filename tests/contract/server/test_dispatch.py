"""The OCPI route dispatch (``server.app.OcpiApp``): every answer an envelope, 404 vs 405,
trailing slashes, HEAD, percent-encoded parameters, and the backend API left to Starlette."""

from __future__ import annotations

import pytest

from .conftest import Node
from .test_modules import _location, _tokens

pytestmark = pytest.mark.anyio


def _envelope(body: dict[str, object], status_code: int) -> None:
    assert body["status_code"] == status_code
    assert isinstance(body["timestamp"], str) and body["timestamp"].endswith("Z")


async def test_unknown_paths_and_methods_answer_with_the_envelope(cpo: Node, emsp: Node) -> None:
    to_cpo, _ = await _tokens(cpo, emsp)
    async with cpo.client(to_cpo) as http:
        r = await http.post("/ocpi/2.2.1/cpo/locations", json={})  # a Sender list: GET only
        assert r.status_code == 405
        _envelope(r.json(), 2000)
        assert r.headers["content-type"] == "application/json"
        assert r.headers["X-Request-ID"] and r.headers["X-Correlation-ID"]
        r = await http.get("/ocpi/2.2.1/cpo/nosuchmodule")
        assert r.status_code == 404
        _envelope(r.json(), 2000)
        r = await http.get("/ocpi/2.2.1/cpo/locations/A/B/C/D")  # too deep
        assert r.status_code == 404
        r = await http.get("/ocpi/9.9.9/cpo/locations")  # not a version we offer
        assert r.status_code == 404
        _envelope(r.json(), 2000)
        r = await http.get("/nothing-here")  # outside /ocpi: Starlette, same envelope
        assert r.status_code == 404
        _envelope(r.json(), 2000)
        r = await http.get("/ocpi")
        assert r.status_code == 404
        _envelope(r.json(), 2000)


async def test_ids_are_echoed_and_slashes_and_head_work(cpo: Node, emsp: Node) -> None:
    to_cpo, _ = await _tokens(cpo, emsp)
    ids = {"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
    async with cpo.client(to_cpo) as http:
        plain = await http.get("/ocpi/2.2.1/cpo/locations", params={"limit": 2}, headers=ids)
        slash = await http.get("/ocpi/2.2.1/cpo/locations/", params={"limit": 2}, headers=ids)
        assert plain.status_code == slash.status_code == 200
        assert plain.json()["data"] == slash.json()["data"]
        assert plain.headers["X-Request-ID"] == "req-1"
        assert plain.headers["X-Correlation-ID"] == "corr-1"
        head = await http.head("/ocpi/2.2.1/cpo/locations", params={"limit": 2})
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) > 0
        assert head.headers["X-Total-Count"] == plain.headers["X-Total-Count"]
        # the next link keeps the request's other parameters as spelled
        r = await http.get("/ocpi/2.2.1/cpo/locations?limit=1&date_from=2025-01-06T08%3A00%3A00Z")
        link = r.headers["Link"]
        assert "date_from=2025-01-06T08%3A00%3A00Z" in link and "offset=1" in link
        assert link.startswith("<http://cpo.test/ocpi/2.2.1/cpo/locations?")


async def test_percent_encoded_ids_reach_the_handler_decoded(cpo: Node, emsp: Node) -> None:
    _, to_emsp = await _tokens(cpo, emsp)
    async with emsp.client(to_emsp) as http:
        body = _location(loc_id="L 1/x")
        r = await http.put("/ocpi/2.2.1/emsp/locations/NL/CPO/L%201%2Fx", json=body)
        # uvicorn/httpx decode %2F into the path: "L 1/x" is two segments, no such route
        assert r.status_code == 404
        body = _location(loc_id="L 1")
        r = await http.put("/ocpi/2.2.1/emsp/locations/NL/CPO/L%201", json=body)
        assert r.status_code in (200, 201), r.text
        r = await http.get("/ocpi/2.2.1/emsp/locations/NL/CPO/L%201")
        assert r.json()["data"]["id"] == "L 1"


async def test_the_backend_api_is_still_served_by_starlette(cpo: Node) -> None:
    async with cpo.client() as http:
        r = await http.get("/admin/api/partners", headers={"Authorization": "Bearer admin-secret"})
        assert r.status_code == 200
        r = await http.get("/admin/api/openapi.json")
        assert r.status_code == 200 and "paths" in r.json()
