"""The emulated partner as one ASGI application: its OCPI endpoints behind the fault injector,
and the control API, on one port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

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
    (no proxies from the environment: the platform is on loopback)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=15, trust_env=False) as http:
            app.state.http = http
            yield
            for task in list(emulator.tasks):
                task.cancel()

    routes = [
        Route("/ocpi/versions", versions, methods=["GET"]),
        Route("/ocpi/{version}", version_details, methods=["GET"]),
        Route("/ocpi/{version}/credentials", credentials, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/ocpi/{version}/sender/{module}", sender, methods=_ALL),
        Route("/ocpi/{version}/sender/{module}/{rest:path}", sender, methods=_ALL),
        Route("/ocpi/{version}/receiver/{module}", receiver, methods=_ALL),
        Route("/ocpi/{version}/receiver/{module}/{rest:path}", receiver, methods=_ALL),
        *CONTROL_ROUTES,
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emulator
    return FaultInjector(app, emulator)
