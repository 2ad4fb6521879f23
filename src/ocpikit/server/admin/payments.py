"""The backend API of Payments (2.3.0 mod_payments; docs/payments.md), over
:mod:`ocpikit.operations.payments`.

As Payment Terminal Provider:

- ``PUT /admin/api/terminals/{country_code}/{party_id}/{terminal_id}``: publish our terminal
  serving that CPO party (head Terminal; queued to the CPO);
- ``POST /admin/api/financial-advice-confirmations/{country_code}/{party_id}``: confirm to that
  CPO party what was captured for a session paid at a terminal (head
  FinancialAdviceConfirmation; queued to the CPO).

As CPO (the routes that call a PTP come with the flow routes, :func:`terminal_flow_routes`):

- ``POST /admin/api/partners/{partner_id}/terminals/activate`` (a Terminal with ``reference``),
  ``POST .../terminals/{terminal_id}/deactivate``, ``POST .../terminals/{terminal_id}/assign``
  (``location_ids``, ``evse_uids``: the PTP's PATCH) and ``POST .../terminals/{terminal_id}/
  update`` (the PTP's PUT);
- ``GET /admin/api/payments/confirmations``: the confirmations received, each with our CDR it
  pays.

Both: ``GET /admin/api/terminals?own=true|false`` and
``GET /admin/api/financial-advice-confirmations?own=true|false`` (ours as PTP, or received).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ocpikit.core.errors import InvalidOrMissingParameters
from ocpikit.core.types import format_datetime
from ocpikit.operations import payments
from ocpikit.operations.flow_ports import FlowPorts
from ocpikit.server.admin.common import admin_endpoint, json_response, read_body
from ocpikit.server.platform import Platform

__all__ = ["payment_routes", "terminal_flow_routes"]


async def _object_body(request: Request) -> dict[str, Any]:
    body = await read_body(request)
    if not isinstance(body, dict):
        raise InvalidOrMissingParameters("The body must be a JSON object")
    return body


def _own(request: Request) -> bool:
    text = request.query_params.get("own", "true").lower()
    if text not in ("true", "false"):
        raise InvalidOrMissingParameters("own: true or false", path="own")
    return text == "true"


async def list_terminals(request: Request, platform: Platform) -> Response:
    rows = await payments.payment_objects(platform.storage, payments.TERMINAL, own=_own(request))
    return json_response(rows)


async def list_confirmations(request: Request, platform: Platform) -> Response:
    rows = await payments.payment_objects(platform.storage, payments.FAC, own=_own(request))
    return json_response(rows)


async def put_terminal(request: Request, platform: Platform) -> Response:
    p = request.path_params
    body = await _object_body(request)
    sent = body.get("terminal_id")
    if sent is not None and str(sent).upper() != p["terminal_id"].upper():
        raise InvalidOrMissingParameters("terminal_id differs from the URL", path="terminal_id")
    stored = await payments.put_own_terminal(
        platform.storage,
        p["country_code"],
        p["party_id"],
        {**body, "terminal_id": p["terminal_id"]},
        now=format_datetime(platform.clock.now()),
    )
    return json_response(stored.document, 201 if stored.created else 200)


async def post_confirmation(request: Request, platform: Platform) -> Response:
    p = request.path_params
    stored = await payments.confirm_payment(
        platform.storage,
        p["country_code"],
        p["party_id"],
        await _object_body(request),
        now=format_datetime(platform.clock.now()),
    )
    return json_response(stored.document, 201)


async def paid_cdrs(request: Request, platform: Platform) -> Response:
    return json_response(await payments.confirmations(platform.storage))


def payment_routes() -> list[BaseRoute]:
    """The routes that need no partner call (before the generic object routes)."""
    return [
        Route("/admin/api/terminals", admin_endpoint(list_terminals), methods=["GET"]),
        Route(
            "/admin/api/terminals/{country_code}/{party_id}/{terminal_id}",
            admin_endpoint(put_terminal),
            methods=["PUT"],
        ),
        Route(
            "/admin/api/financial-advice-confirmations",
            admin_endpoint(list_confirmations),
            methods=["GET"],
        ),
        Route(
            "/admin/api/financial-advice-confirmations/{country_code}/{party_id}",
            admin_endpoint(post_confirmation),
            methods=["POST"],
        ),
        Route("/admin/api/payments/confirmations", admin_endpoint(paid_cdrs), methods=["GET"]),
    ]


def terminal_flow_routes(ports: FlowPorts) -> list[BaseRoute]:
    """A CPO's calls to a PTP's terminals (POST only: they are actions at the PTP)."""

    async def activate(request: Request, platform: Platform) -> Response:
        answer = await payments.activate_terminal(
            ports, request.path_params["partner_id"], await _object_body(request)
        )
        return json_response(answer, 201)

    async def deactivate(request: Request, platform: Platform) -> Response:
        p = request.path_params
        await payments.deactivate_terminal(ports, p["partner_id"], p["terminal_id"])
        return json_response({"deactivated": p["terminal_id"]})

    def update(patch: bool) -> Any:
        async def handler(request: Request, platform: Platform) -> Response:
            p = request.path_params
            answer = await payments.update_terminal(
                ports, p["partner_id"], p["terminal_id"], await _object_body(request), patch=patch
            )
            return json_response(answer)

        return handler

    base = "/admin/api/partners/{partner_id}/terminals"
    return [
        Route(f"{base}/activate", admin_endpoint(activate), methods=["POST"]),
        Route(f"{base}/{{terminal_id}}/deactivate", admin_endpoint(deactivate), methods=["POST"]),
        Route(f"{base}/{{terminal_id}}/assign", admin_endpoint(update(True)), methods=["POST"]),
        Route(f"{base}/{{terminal_id}}/update", admin_endpoint(update(False)), methods=["POST"]),
    ]
