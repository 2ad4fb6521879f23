"""The backend API for the operator's own systems (CSMS, billing), under ``/admin/api``: one
module per group of endpoints (``objects``, ``partners``, ``flows``, ``openapi``), what they
share in ``common``.

Authenticated by the admin token (``Authorization: Bearer <token>``; ``Token <token>`` works
too). Plain JSON, not OCPI envelopes: this is not an OCPI interface. Errors are
``{"error": ..., "status_code": <OCPI code>}`` with the HTTP status of the code.

- ``PUT|PATCH|GET|DELETE /admin/api/{module}/{country_code}/{party_id}/{id}``: our own
  Locations, Tariffs, Sessions, CDRs and Tokens. Bodies are head (2.3.0) JSON unless the
  request names a version (``?version=2.1.1`` or header ``OCPI-Version: 2.1.1``); answers use
  the same version.
- ``PATCH|GET /admin/api/locations/{id}/evses/{uid}`` and ``.../connectors/{connector_id}``:
  one EVSE's or Connector's fields (status included), pushed to partners as the smallest PATCH.
- ``GET /admin/api/{module}?owner=own|any|<partner id>&offset=&limit=&version=``: list ours, or
  what partners pushed to us.
- ``GET /admin/api/partners``; ``GET /admin/api/parties`` (the party directory);
  ``GET /admin/api/hub/parties`` (a hub's connected parties, as ``ocpikit hub parties``);
  ``POST /admin/api/invites`` (a token A).
- ``GET /admin/api/cdr-checks?verdict=...``, ``POST /admin/api/cdr-checks/{cdr_id}/resolution``:
  the checks of received CDRs and the operator's resolution of a dispute.
- ``GET /admin/api/openapi.json``: this description (no authentication).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ocpikit.server.admin.cdr_checks import list_cdr_checks, resolve_cdr_check
from ocpikit.server.admin.common import MODULES, admin_endpoint
from ocpikit.server.admin.evses import get_evse, patch_evse_route
from ocpikit.server.admin.flows import flow_routes, get_command, list_clientinfo, list_commands
from ocpikit.server.admin.objects import (
    delete_object,
    get_object,
    list_objects,
    patch_object,
    put_object,
)
from ocpikit.server.admin.openapi import openapi, openapi_json
from ocpikit.server.admin.partners import (
    create_invite,
    list_hub_parties,
    list_parties,
    list_partners,
)

__all__ = ["MODULES", "admin_routes", "flow_routes", "openapi"]


def admin_routes() -> list[BaseRoute]:
    """The backend API's routes (the flow routes come apart: :func:`flow_routes`)."""
    obj = "/admin/api/{module}/{country_code}/{party_id}/{id}"
    evse = "/admin/api/locations/{id}/evses/{uid}"
    connector = evse + "/connectors/{connector_id}"
    return [
        Route("/admin/api/openapi.json", admin_endpoint(openapi_json, auth=False), methods=["GET"]),
        Route("/admin/api/partners", admin_endpoint(list_partners), methods=["GET"]),
        Route("/admin/api/parties", admin_endpoint(list_parties), methods=["GET"]),
        Route("/admin/api/hub/parties", admin_endpoint(list_hub_parties), methods=["GET"]),
        Route("/admin/api/invites", admin_endpoint(create_invite), methods=["POST"]),
        Route(evse, admin_endpoint(patch_evse_route), methods=["PATCH"]),
        Route(evse, admin_endpoint(get_evse), methods=["GET"]),
        Route(connector, admin_endpoint(patch_evse_route), methods=["PATCH"]),
        Route(connector, admin_endpoint(get_evse), methods=["GET"]),
        Route(obj, admin_endpoint(put_object), methods=["PUT"]),
        Route(obj, admin_endpoint(patch_object), methods=["PATCH"]),
        Route(obj, admin_endpoint(get_object), methods=["GET"]),
        Route(obj, admin_endpoint(delete_object), methods=["DELETE"]),
        Route("/admin/api/commands", admin_endpoint(list_commands), methods=["GET"]),
        Route(
            "/admin/api/commands/{direction}/{command_id}",
            admin_endpoint(get_command),
            methods=["GET"],
        ),
        Route("/admin/api/hubclientinfo", admin_endpoint(list_clientinfo), methods=["GET"]),
        Route("/admin/api/cdr-checks", admin_endpoint(list_cdr_checks), methods=["GET"]),
        Route(
            "/admin/api/cdr-checks/{cdr_id}/resolution",
            admin_endpoint(resolve_cdr_check),
            methods=["POST"],
        ),
        Route("/admin/api/{module}", admin_endpoint(list_objects), methods=["GET"]),
    ]
