"""The operator console at ``/console`` (docs/console.md): server-rendered pages (Jinja2,
autoescape on) over the operations layer, the same functions the backend API uses; a small
stylesheet and a vanilla script shipped as package data. No build step, nothing fetched from
elsewhere.

Pages: ``partners`` (and ``partners/{id}``), ``sync``, ``queue``, ``traffic`` (with the live
tail fragment and one exchange), ``objects``, ``commands``, ``disputes``; ``login`` and
``logout``. Every page but ``login`` needs a session (:mod:`~.session`); every POST carries the
session's CSRF token and, when the browser sends ``Origin``, comes from this site (:mod:`~.web`).

The composition root mounts :func:`console_routes` next to the backend API's flow routes
(``ocpikit.cli.console``), with the ports that need the client package (:class:`ConsolePorts`).
"""

from __future__ import annotations

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ocpikit.server.console import (
    commands,
    disputes,
    objects,
    partners,
    queue,
    signin,
    traffic,
)
from ocpikit.server.console.ports import ConsolePorts, PullPort
from ocpikit.server.console.web import Console

__all__ = ["ConsolePorts", "PullPort", "console_routes"]

#: the static files the console serves, with their media types
STATIC = {"console.css": "text/css", "console.js": "text/javascript"}


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        return Response("not found", status_code=404, media_type="text/plain")
    body = files("ocpikit.server.console").joinpath("static", name).read_bytes()
    return Response(
        body,
        media_type=STATIC[name],
        headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
    )


async def _home(request: Request) -> Response:
    return RedirectResponse(signin.HOME, status_code=303)


def console_routes(ports: ConsolePorts | None = None) -> list[BaseRoute]:
    """The console's routes; ``ports``: what needs the client package (None: commands and
    pulls say they are not available)."""
    c = Console(ports or ConsolePorts())
    get, post = ["GET"], ["POST"]
    return [
        Route("/console", _home, methods=get),
        Route("/console/static/{name}", _static, methods=get),
        Route("/console/login", c.endpoint(signin.login_form, public=True), methods=get),
        Route("/console/login", c.endpoint(signin.login, public=True), methods=post),
        Route("/console/logout", c.endpoint(signin.logout), methods=post),
        Route("/console/partners", c.endpoint(partners.partners_page), methods=get),
        Route("/console/partners/invite", c.endpoint(partners.create_invite), methods=post),
        Route("/console/partners/register", c.endpoint(partners.register_partner), methods=post),
        Route("/console/partners/{partner_id}", c.endpoint(partners.partner_page), methods=get),
        Route(
            "/console/partners/{partner_id}/switches",
            c.endpoint(partners.save_switches),
            methods=post,
        ),
        Route(
            "/console/partners/{partner_id}/rotate",
            c.endpoint(partners.rotate_partner),
            methods=post,
        ),
        Route(
            "/console/partners/{partner_id}/unregister",
            c.endpoint(partners.unregister_partner),
            methods=post,
        ),
        Route("/console/sync", c.endpoint(partners.sync_page), methods=get),
        Route("/console/sync/{partner_id}/pull", c.endpoint(partners.trigger_pull), methods=post),
        Route("/console/queue", c.endpoint(queue.queue_page), methods=get),
        Route("/console/queue/{action}", c.endpoint(queue.queue_action), methods=post),
        Route("/console/traffic", c.endpoint(traffic.traffic), methods=get),
        Route(
            "/console/traffic/tail", c.endpoint(traffic.traffic_tail, fragment=True), methods=get
        ),
        Route("/console/traffic/{exchange_id}", c.endpoint(traffic.exchange_detail), methods=get),
        Route("/console/objects", c.endpoint(objects.objects_page), methods=get),
        Route("/console/commands", c.endpoint(commands.commands_page), methods=get),
        Route("/console/commands", c.endpoint(commands.send_command), methods=post),
        Route(
            "/console/commands/{direction}/{command_id}",
            c.endpoint(commands.command_page),
            methods=get,
        ),
        Route("/console/disputes", c.endpoint(disputes.disputes_page), methods=get),
        Route(
            "/console/disputes/{cdr_id}/resolution",
            c.endpoint(disputes.resolve_dispute),
            methods=post,
        ),
    ]
