"""The OCPI route table: every URL the platform serves under ``/ocpi``, in match order (the
first route whose path and method both match wins; a path match with no method match is a
405). Module URLs come from the endpoint table: one route per operation and role implementing
it (``/ocpi/{version}/{cpo|emsp}/{module}{path}``), and the HUB party's routes, one per method
and path shape of a module (``/ocpi/{version}/hub/{module}{path}``)."""

from __future__ import annotations

from ocpikit.core.versions import Role
from ocpikit.protocol.endpoints import INTERFACES, OPERATIONS, side_of
from ocpikit.protocol.hub_routing import hub_route_groups
from ocpikit.server.endpoints.credentials import credentials_endpoint
from ocpikit.server.endpoints.hub import hub_endpoint
from ocpikit.server.endpoints.modules import module_endpoint
from ocpikit.server.endpoints.versions import details_endpoint, versions_endpoint
from ocpikit.server.pipeline import Endpoint
from ocpikit.server.routing import Route, compile_route

__all__ = ["ocpi_routes"]


def ocpi_routes() -> list[Route[Endpoint]]:
    """The table, built from the endpoint table (see the module docstring)."""
    routes: list[Route[Endpoint]] = [
        compile_route("/ocpi/versions", "GET", versions_endpoint, "versions")
    ]
    for method in ("GET", "POST", "PUT", "DELETE"):
        routes.append(
            compile_route(
                "/ocpi/{version}/credentials", method, credentials_endpoint, "credentials"
            )
        )
    routes.append(compile_route("/ocpi/{version}", "GET", details_endpoint, "versions"))
    for op in OPERATIONS:
        roles = {
            itf.implemented_by
            for itf in INTERFACES
            if itf.module is op.module and itf.role is op.role
        }
        for role in sorted(roles - {Role.HUB}):
            path = f"/ocpi/{{version}}/{side_of(role)}/{op.module.value}{op.path}"
            routes.append(
                compile_route(path, op.method, module_endpoint(op, role), op.module.value)
            )
    for module, method, path, ops in hub_route_groups():
        routes.append(
            compile_route(
                f"/ocpi/{{version}}/{side_of(Role.HUB)}/{module.value}{path}",
                method,
                hub_endpoint(module, ops),
                module.value,
            )
        )
    return routes
