"""What operations watch the platform by (docs/operations.md):

- ``GET /health``: the process is alive and serving: always 200 ``{"status": "ok"}``;
- ``GET /ready``: 200 ``{"status": "ready"}`` when the database answers and its schema is at
  the newest migration, else 503 ``{"status": "not ready", "problems": [...]}``
  (:meth:`~ocpikit.protocol.ports.Storage.readiness`);
- ``GET /metrics``: the Prometheus text format (:mod:`ocpikit.server.metrics`). It names
  partners and their traffic, so it needs the admin token (``Authorization: Bearer ...``) unless
  ``[metrics] public = true``.

Neither health nor readiness needs a token (load balancers and orchestrators probe them);
neither says more than ready or not and why.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ocpikit.server.admin.common import admin_endpoint, check_admin_token, json_response
from ocpikit.server.metrics import CONTENT_TYPE
from ocpikit.server.platform import Platform

__all__ = ["PROBE_PATHS", "probe_routes"]

#: the paths of this module (served on the backend API's own listener too)
PROBE_PATHS = frozenset({"/health", "/ready", "/metrics"})


async def health(request: Request, platform: Platform) -> Response:
    return json_response({"status": "ok"})


async def ready(request: Request, platform: Platform) -> Response:
    problems = await platform.storage.readiness()
    if problems:
        return json_response({"status": "not ready", "problems": problems}, 503)
    return json_response({"status": "ready"})


async def metrics(request: Request, platform: Platform) -> Response:
    if not platform.settings.metrics_public:
        check_admin_token(request, platform)
    return Response(await platform.metrics.render(), media_type=CONTENT_TYPE)


def probe_routes() -> list[BaseRoute]:
    return [
        Route("/health", admin_endpoint(health, auth=False), methods=["GET"]),
        Route("/ready", admin_endpoint(ready, auth=False), methods=["GET"]),
        Route("/metrics", admin_endpoint(metrics, auth=False), methods=["GET"]),
    ]
