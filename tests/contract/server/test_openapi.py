"""The backend API's OpenAPI document: valid OpenAPI 3.1 (openapi-spec-validator), and in step
with the routes the server registers, both ways, so it cannot drift again."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from ocpikit.operations.flow_ports import FlowPorts
from ocpikit.server.admin import MODULES, flow_routes, openapi
from ocpikit.server.app import create_app

from .conftest import Node

pytestmark = pytest.mark.anyio

#: what the backend API does not describe: the OCPI routes (their own spec) and the catch-alls
_OPERATIONS = ("get", "put", "post", "patch", "delete")


async def _no_pull(*args: Any) -> list[dict[str, Any]]:
    return []


def _registered(node: Node) -> set[tuple[str, str]]:
    """Every ``(path, method)`` the app serves outside ``/ocpi``, with the flow routes wired as
    ``ocpikit serve`` wires them; ``{module}`` expanded to the backend's modules."""
    ports = FlowPorts(node.storage, reach=None, base_url=node.settings.base_url)  # type: ignore[arg-type]
    app = create_app(node.settings, node.storage, extra_routes=flow_routes(ports, pull=_no_pull))
    served: set[tuple[str, str]] = set()
    for route in app.app.routes:  # type: ignore[attr-defined]
        assert isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}:
            paths = (
                [route.path.replace("{module}", m) for m in MODULES]
                if "{module}" in route.path
                else [route.path]
            )
            served.update((path, method.lower()) for path in paths)
    return served


def _documented() -> set[tuple[str, str]]:
    doc = orjson.loads(openapi("http://platform.test"))
    return {
        (path, method)
        for path, item in doc["paths"].items()
        for method in item
        if method in _OPERATIONS
    }


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = orjson.loads(openapi("http://platform.test"))
    assert doc["openapi"] == "3.1.0"
    validate(doc)


async def test_every_registered_route_is_documented_and_nothing_else(cpo: Node) -> None:
    served, documented = _registered(cpo), _documented()
    assert served - documented == set(), "routes the document leaves out"
    assert documented - served == set(), "documented operations no route serves"


def test_the_cli_operations_are_all_there() -> None:
    documented = _documented()
    for path, method in [
        ("/admin/api/partners/{partner_id}/commands/{command}", "post"),
        ("/admin/api/partners/{partner_id}/chargingprofiles/{session_id}", "post"),
        ("/admin/api/authorize", "post"),
        ("/admin/api/commands/{command_id}/result", "post"),
        ("/admin/api/hubclientinfo", "get"),
        ("/admin/api/parties", "get"),
        ("/admin/api/hub/parties", "get"),
        ("/admin/api/outbox", "get"),
        ("/admin/api/outbox/replay", "post"),
        ("/admin/api/exchanges", "get"),
        ("/admin/api/partners/{partner_id}/sync", "get"),
        ("/admin/api/partners/{partner_id}/pull", "post"),
        ("/admin/api/partners/{partner_id}/switches", "patch"),
        ("/admin/api/partners/{partner_id}", "delete"),
        ("/admin/api/invites", "get"),
        ("/admin/api/registrations", "post"),
        ("/admin/api/cdr-checks", "get"),
        ("/metrics", "get"),
        ("/ready", "get"),
    ]:
        assert (path, method) in documented, (path, method)
