"""The OCPI platform as an ASGI app (the server package is the only one importing starlette).

:class:`OcpiApp` is the entry: OCPI URLs (``/ocpi/...``) are looked up in the route table
(:mod:`ocpikit.server.routes`, :mod:`ocpikit.server.routing`) and run straight from the ASGI
scope (:mod:`ocpikit.server.adapter`); everything else (the backend API, lifespan) goes to a
Starlette app. Every response on an OCPI URL is an OCPI envelope, including 404/405 from
routing, malformed JSON (400) and unexpected failures (500): the framework's own error bodies
never reach a partner (:mod:`ocpikit.server.pipeline`).

Layout of the package (each imports only those listed after it): ``app`` → ``admin``,
``registry`` → ``routes`` → ``endpoints.*`` → ``pipeline`` → ``platform``, ``replies``, ``exchange_record`` →
``auth``, ``exchange_log``, ``metrics``, ``guard``, ``adapter``, ``routing``, ``query``, ``message_ids``, ``settings``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ocpikit.afir.supplement import SupplementError, parse_supplement
from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.errors import MethodNotAllowed, NotFound, OcpiError, ServerError
from ocpikit.core.headers import MessageIds
from ocpikit.operations.pace import REQUESTS
from ocpikit.protocol.decisions import Decisions
from ocpikit.protocol.hub_routing import HubForwarder
from ocpikit.protocol.partner_registration import FlowDriver
from ocpikit.protocol.ports import Storage
from ocpikit.server.adapter import Answer, OcpiRequest, send_answer
from ocpikit.server.admin import admin_routes
from ocpikit.server.admin.probes import PROBE_PATHS, probe_routes
from ocpikit.server.message_ids import message_id
from ocpikit.server.nap import nap_routes
from ocpikit.server.open_data import open_data_routes, parse_open_data
from ocpikit.server.pipeline import Endpoint, RequestContext, run_endpoint
from ocpikit.server.platform import Platform
from ocpikit.server.replies import error_body
from ocpikit.server.routes import ocpi_routes
from ocpikit.server.routing import Match, Router
from ocpikit.server.settings import ConfigError, Settings

__all__ = ["OcpiApp", "admin_app", "create_app", "platform_of"]


# --- error mapping for routing failures of the Starlette app (non-OCPI paths) -------------------
async def _http_exception(request: Request, exc: Exception) -> Response:
    platform: Platform = request.app.state.platform
    assert isinstance(exc, HTTPException)
    err: OcpiError
    if exc.status_code == 405:
        err = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
    elif exc.status_code == 404:
        err = NotFound(f"No OCPI endpoint at {request.url.path}")
    else:
        err = ServerError(f"HTTP {exc.status_code}", http_status=exc.status_code)
    ids = MessageIds.from_headers(request.headers.items(), factory=message_id)
    return Response(
        error_body(err, platform.clock),
        status_code=err.http_status,
        headers=ids.to_headers(),
        media_type="application/json",
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    platform: Platform = request.app.state.platform
    return Response(
        error_body(ServerError("Internal error"), platform.clock),
        status_code=500,
        media_type="application/json",
    )


class OcpiApp:
    """The platform's ASGI entry (see the module docstring). The hot path of a partner's
    request thus skips the framework's middleware stack, Request/Response objects and a linear
    regex scan of some 60 routes. ``/locations/`` and ``/locations`` are the same endpoint
    (DIGEST §3.0)."""

    def __init__(self, platform: Platform, app: Starlette, *, admin_here: bool = True) -> None:
        self.platform = platform
        self.app = app
        self.admin_here = admin_here
        self.router: Router[Endpoint] = Router(ocpi_routes())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
            scope = dict(scope)
            scope["path"] = path
            raw = scope.get("raw_path")
            if isinstance(raw, bytes):
                scope["raw_path"] = raw.rstrip(b"/") or b"/"
        root: str = scope.get("root_path", "")
        local = path[len(root) :] if root and path.startswith(root) else path
        if not (local == "/ocpi" or local.startswith("/ocpi/")):
            if self.admin_here or not _is_admin(local):
                await self.app(scope, receive, send)
                return
            local = "/ocpi" + local  # the backend API lives on its own listener: a 404 here
        method: str = scope["method"]
        match, route, params = self.router.match(local, "GET" if method == "HEAD" else method)
        limits = self.platform.settings.limits
        request = OcpiRequest(
            scope,
            receive,
            path,
            params,
            max_body=limits.max_body_bytes,
            body_timeout=limits.body_timeout,
        )
        REQUESTS.enter()  # background work of this loop gives way meanwhile (operations.pace)
        try:
            if route is None:
                status, body, headers = await self._no_route(request, match, method, path)
            else:
                status, body, headers = await route.endpoint(self.platform, request)
            await send_answer(send, status, body, headers, method == "HEAD")
        finally:
            REQUESTS.leave()

    async def _no_route(self, request: OcpiRequest, match: Match, method: str, path: str) -> Answer:
        """404 (no route has the path) or 405 (none has it with this method), as envelopes."""

        async def fail(context: RequestContext) -> Answer:
            if match is Match.PARTIAL:
                raise MethodNotAllowed(f"{method} is not allowed on {path}")
            raise NotFound(f"No OCPI endpoint at {path}")

        return await run_endpoint(self.platform, request, None, fail)


def create_app(
    settings: Settings,
    storage: Storage,
    *,
    decisions: Decisions | None = None,
    clock: Clock = SYSTEM_CLOCK,
    driver: FlowDriver | None = None,
    log_exchanges: bool = True,
    extra_routes: list[BaseRoute] | None = None,
    admin_here: bool = True,
    hub_forwarder: HubForwarder | None = None,
) -> ASGIApp:
    """The platform's ASGI app; ``driver`` sends the registration callbacks
    (``ocpikit.client.registration.drive``), ``extra_routes`` are more backend API routes.
    ``admin_here`` False: the backend API is not served by this app (:func:`admin_app` serves
    it on a listener of its own). ``hub_forwarder`` sends what a HUB party forwards
    (``ocpikit.client.hub_forward``)."""
    platform = Platform(
        settings,
        storage,
        decisions=decisions,
        clock=clock,
        driver=driver,
        log_exchanges=log_exchanges,
        hub_forwarder=hub_forwarder,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await platform.exchange_log.close()
        if platform.hub is not None:
            await platform.hub.counters.close()

    routes = probe_routes() + _afir_routes(settings) + admin_routes() + list(extra_routes or [])
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_exception, Exception: _server_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.platform = platform
    return OcpiApp(platform, app, admin_here=admin_here)


def _afir_routes(settings: Settings) -> list[BaseRoute]:
    """The NAP feeds, the AFIR backend API and OCPI open data (docs/afir.md); their config
    sections (``[afir]``, ``[open_data]``) are checked here, at start."""
    try:
        parse_supplement(settings.extra.get("afir"))
        open_data = parse_open_data(settings.extra.get("open_data"))
    except (SupplementError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    return nap_routes() + open_data_routes(open_data)


def _is_admin(path: str) -> bool:
    """The backend API and the operator console (on the admin listener when there is one)."""
    return any(path == p or path.startswith(p + "/") for p in ("/admin", "/console"))


def admin_app(app: ASGIApp) -> ASGIApp:
    """The backend API of ``app`` (an app of :func:`create_app`) alone, for a listener of its
    own (``[admin] host``/``port``): ``/admin/...`` is served, anything else is a 404."""
    assert isinstance(app, OcpiApp)
    backend = app.app

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not (
            _is_admin(scope["path"]) or scope["path"] in PROBE_PATHS
        ):
            body = b'{"error": "not found", "status_code": 2000}'
            await send_answer(send, 404, body, {}, scope["method"] == "HEAD")
            return
        await backend(scope, receive, send)

    return serve


def platform_of(app: ASGIApp) -> Platform:
    """The platform behind an app of :func:`create_app`."""
    assert isinstance(app, OcpiApp)
    return app.platform
