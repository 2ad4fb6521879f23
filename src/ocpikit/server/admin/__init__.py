"""The backend API for the operator's own systems (CSMS, billing), under ``/admin/api``: one
module per group of endpoints (``objects``, ``partners``, ``flows``, ``openapi``), what they
share in ``common``.

Authenticated by the admin token (``Authorization: Bearer <token>``; ``Token <token>`` works
too). Plain JSON, not OCPI envelopes: this is not an OCPI interface. Errors are
``{"error": ..., "status_code": <OCPI code>}`` with the HTTP status of the code.

- ``PUT|PATCH|GET|DELETE /admin/api/{module}/{country_code}/{party_id}/{id}``: our own
  Locations, Tariffs, Sessions, CDRs and Tokens (and 2.3.0 Bookings and BookingLocations,
  modules ``bookings`` and ``booking_locations``). Bodies are head (2.3.0) JSON unless the
  request names a version (``?version=2.1.1`` or header ``OCPI-Version: 2.1.1``); answers use
  the same version.
- ``PATCH|GET /admin/api/locations/{id}/evses/{uid}`` and ``.../connectors/{connector_id}``:
  one EVSE's or Connector's fields (status included), pushed to partners as the smallest PATCH.
- ``GET /admin/api/{module}?owner=own|any|<partner id>&offset=&limit=&version=``: list ours, or
  what partners pushed to us.
- ``GET /admin/api/partners``; ``GET /admin/api/parties`` (the party directory);
  ``GET /admin/api/hub/parties`` (a hub's connected parties and their counters, as ``ocpikit
  hub parties``); ``GET /admin/api/hub/losses`` (as ``ocpikit hub losses``);
  ``POST /admin/api/invites`` (a token A).
- ``GET /admin/api/cdr-checks?verdict=...``, ``POST /admin/api/cdr-checks/{cdr_id}/resolution``:
  the checks of received CDRs and the operator's resolution of a dispute.
- Payments (2.3.0): ``/admin/api/terminals``, ``/admin/api/financial-advice-confirmations``,
  ``/admin/api/payments/confirmations`` and ``/admin/api/partners/{partner_id}/terminals/...``
  (``payments``).
- ``GET /admin/api/cdr-builds?state=...``, ``POST /admin/api/cdrs/{id}/credit``: the CDRs the
  platform builds for our finished sessions, and the correction of one of our CDRs.
- ``GET /admin/api/invoice-checks``: the Invoice Reconciliation records we hold (ours and
  partners') checked against our CDRs; ``GET /admin/api/session-estimates``: partners'
  sessions' reported cost against the engine's estimate.
- ``GET|DELETE /admin/api/partners/{id}``, ``GET|PATCH .../switches``, ``GET .../sync``,
  ``POST .../pull``; ``GET /admin/api/invites``, ``DELETE /admin/api/invites/{id}``;
  ``POST /admin/api/registrations``; ``GET /admin/api/outbox``,
  ``POST /admin/api/outbox/replay`` (``operational``).
- ``GET /admin/api/exchanges?direction=in|out&partner=&module=&object_id=&status=&since=``:
  the traffic log, both directions, redacted (``traffic``).
- ``GET /admin/api/openapi.json``: this description (no authentication).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ocpikit.server.admin import operational as op
from ocpikit.server.admin.cdr_builds import credit_cdr_endpoint, list_cdr_builds
from ocpikit.server.admin.cdr_checks import list_cdr_checks, resolve_cdr_check
from ocpikit.server.admin.common import MODULES, admin_endpoint
from ocpikit.server.admin.evses import get_evse, patch_evse_route
from ocpikit.server.admin.flows import flow_routes, get_command, list_clientinfo, list_commands
from ocpikit.server.admin.invoice_checks import list_invoice_check_rows
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
    list_hub_losses,
    list_hub_parties,
    list_parties,
    list_partners,
)
from ocpikit.server.admin.payments import payment_routes
from ocpikit.server.admin.session_estimates import list_session_estimate_rows
from ocpikit.server.admin.traffic import list_exchanges

__all__ = ["MODULES", "admin_routes", "flow_routes", "openapi"]


def operational_routes() -> list[BaseRoute]:
    """Partners, invites, registrations and the outbox (:mod:`.operational`)."""
    one = "/admin/api/partners/{partner_id}"
    return [
        Route(one, admin_endpoint(op.get_partner), methods=["GET"]),
        Route(one, admin_endpoint(op.delete_partner), methods=["DELETE"]),
        Route(f"{one}/switches", admin_endpoint(op.get_switches), methods=["GET"]),
        Route(f"{one}/switches", admin_endpoint(op.patch_switches), methods=["PATCH"]),
        Route(f"{one}/sync", admin_endpoint(op.get_sync), methods=["GET"]),
        Route("/admin/api/invites", admin_endpoint(op.list_invites), methods=["GET"]),
        Route(
            "/admin/api/invites/{invite_id}", admin_endpoint(op.delete_invite), methods=["DELETE"]
        ),
        Route("/admin/api/registrations", admin_endpoint(op.create_registration), methods=["POST"]),
        Route(
            "/admin/api/partners/{partner_id}/rotate",
            admin_endpoint(op.rotate_partner),
            methods=["POST"],
        ),
        Route("/admin/api/outbox", admin_endpoint(op.list_outbox), methods=["GET"]),
        Route("/admin/api/outbox/replay", admin_endpoint(op.replay_outbox), methods=["POST"]),
    ]


def admin_routes() -> list[BaseRoute]:
    """The backend API's routes (the flow routes come apart: :func:`flow_routes`)."""
    obj = "/admin/api/{module}/{country_code}/{party_id}/{id}"
    evse = "/admin/api/locations/{id}/evses/{uid}"
    connector = evse + "/connectors/{connector_id}"
    return [
        Route("/admin/api/openapi.json", admin_endpoint(openapi_json, auth=False), methods=["GET"]),
        Route("/admin/api/partners", admin_endpoint(list_partners), methods=["GET"]),
        *operational_routes(),
        Route("/admin/api/parties", admin_endpoint(list_parties), methods=["GET"]),
        Route("/admin/api/hub/parties", admin_endpoint(list_hub_parties), methods=["GET"]),
        Route("/admin/api/hub/losses", admin_endpoint(list_hub_losses), methods=["GET"]),
        Route("/admin/api/invites", admin_endpoint(create_invite), methods=["POST"]),
        *payment_routes(),
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
        Route("/admin/api/cdr-builds", admin_endpoint(list_cdr_builds), methods=["GET"]),
        Route(
            "/admin/api/invoice-checks", admin_endpoint(list_invoice_check_rows), methods=["GET"]
        ),
        Route(
            "/admin/api/session-estimates",
            admin_endpoint(list_session_estimate_rows),
            methods=["GET"],
        ),
        Route("/admin/api/cdrs/{id}/credit", admin_endpoint(credit_cdr_endpoint), methods=["POST"]),
        Route("/admin/api/exchanges", admin_endpoint(list_exchanges), methods=["GET"]),
        Route("/admin/api/{module}", admin_endpoint(list_objects), methods=["GET"]),
    ]
