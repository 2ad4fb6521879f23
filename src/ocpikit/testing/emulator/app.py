"""The emulated partner as one ASGI application: its OCPI endpoints behind the fault injector,
the control API and, for a CPO with charge points, their OCPP endpoint, on one port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route, WebSocketRoute

from .configuration import credentials, version_details, versions
from .control import ROUTES as CONTROL_ROUTES
from .injection import FaultInjector
from .receivers import receiver
from .senders import sender
from .state import Emulator

__all__ = ["build_app"]

_ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def build_app(emulator: Emulator) -> Any:
    """The ASGI application serving ``emulator``; its lifespan owns the outbound HTTP client
    (no proxies from the environment: the platform is on loopback) and, for a CPO with
    charge points, runs them (they connect to ``/ocpp/{id}`` once the server listens)."""
    routes = _routes()
    if emulator.config.chargepoints and emulator.fleet is None:
        from .fleet import Fleet

        emulator.fleet = Fleet(emulator)
    if emulator.fleet is not None:
        from .central import ocpp_endpoint

        routes.append(WebSocketRoute("/ocpp/{cp_id}", ocpp_endpoint))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=15, trust_env=False) as http:
            app.state.http = http
            if emulator.fleet is not None:
                emulator.spawn(emulator.fleet.run(http))
            yield
            for task in list(emulator.tasks):
                task.cancel()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emulator
    return FaultInjector(app, emulator)


def _routes() -> list[BaseRoute]:
    return [
        Route("/ocpi/versions", versions, methods=["GET"]),
        Route("/ocpi/{version}", version_details, methods=["GET"]),
        Route("/ocpi/{version}/credentials", credentials, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/ocpi/{version}/sender/{module}", sender, methods=_ALL),
        Route("/ocpi/{version}/sender/{module}/{rest:path}", sender, methods=_ALL),
        Route("/ocpi/{version}/receiver/{module}", receiver, methods=_ALL),
        Route("/ocpi/{version}/receiver/{module}/{rest:path}", receiver, methods=_ALL),
        *CONTROL_ROUTES,
    ]
