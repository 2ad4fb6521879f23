"""What every backend API endpoint shares: the admin token check, errors as plain JSON, the
requested version and module, the JSON body (see :mod:`ocpikit.server.admin`)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.errors import InvalidJson, InvalidOrMissingParameters, NotFound, OcpiError
from ocpikit.core.json_bounds import check_json_bounds
from ocpikit.core.versions import HEAD, SUPPORTED_VERSIONS, Version
from ocpikit.server.platform import Platform

__all__ = [
    "MODULES",
    "Conflict",
    "Forbidden",
    "admin_endpoint",
    "backend_module",
    "check_admin_token",
    "json_response",
    "platform_of_request",
    "read_body",
    "requested_version",
]

#: backend module path -> (head object name, id field)
MODULES: dict[str, tuple[str, str]] = {
    "locations": ("Location", "id"),
    "tariffs": ("Tariff", "id"),
    "sessions": ("Session", "id"),
    "cdrs": ("CDR", "id"),
    "tokens": ("Token", "uid"),
    "bookings": ("Booking", "id"),
    "booking_locations": ("BookingLocation", "id"),
    "invoicereconciliation": ("InvoiceReconciliationRecord", "id"),
}

failure_log = logging.getLogger("ocpikit.server")


class Forbidden(OcpiError):
    """The admin token is missing or wrong (HTTP 401)."""

    default_status_code = 2000
    default_http_status = 401


def json_response(data: Any, status: int = 200) -> Response:
    """Plain JSON (not an OCPI envelope)."""
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def platform_of_request(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def check_admin_token(request: Request, platform: Platform) -> None:
    """``Bearer <admin token>`` (or ``Token <admin token>``), compared in constant time. Failed
    checks count against the caller's address like a partner's (429 past the limit,
    ``ocpikit.server.guard``)."""
    address = request.client.host if request.client is not None else None
    platform.guard.before_authentication(address)
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not hmac.compare_digest(
        value.strip().encode(), platform.settings.admin_token.encode()
    ):
        platform.guard.authentication_failed(address)
        raise Forbidden("Admin token missing or wrong")


def requested_version(request: Request) -> Version:
    """The version of the request's JSON: ``?version=`` or ``OCPI-Version``, else head."""
    text = request.query_params.get("version") or request.headers.get("ocpi-version")
    if not text:
        return HEAD
    v = Version(text)
    if v not in SUPPORTED_VERSIONS:
        raise InvalidOrMissingParameters(f"version: unsupported {text!r}", path="version")
    return v


def backend_module(request: Request) -> tuple[str, str]:
    """``(head object name, id field)`` of the URL's module; 404 for an unknown one."""
    module = request.path_params["module"]
    if module not in MODULES:
        raise NotFound(f"No backend module {module!r}; known: {sorted(MODULES)}")
    return MODULES[module]


def admin_endpoint(
    fn: Callable[[Request, Platform], Awaitable[Response]], *, auth: bool = True
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running ``fn`` after the admin token check (unless ``auth`` is
    False), with errors as ``{"error", "status_code"}`` JSON."""

    async def endpoint(request: Request) -> Response:
        platform = platform_of_request(request)
        try:
            if auth:
                check_admin_token(request, platform)
            return await fn(request, platform)
        except OcpiError as exc:
            response = json_response(
                {"error": exc.message, "status_code": exc.status_code}, exc.http_status
            )
            response.headers.update(getattr(exc, "response_headers", {}))
            return response
        except Exception:
            failure_log.exception("%s %s answered HTTP 500", request.method, request.url.path)
            return json_response({"error": "Internal error", "status_code": 3000}, 500)

    return endpoint


async def read_body(request: Request) -> Any:
    """The JSON body; 2001 "Invalid JSON" when it is not JSON, 2001 naming the field when it
    breaks a bound (``ocpikit.core.json_bounds``)."""
    raw = await request.body()
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidJson() from None
    check_json_bounds(value, raw)
    return value


class Conflict(OcpiError):
    """The request contradicts the state of a flow (HTTP 409)."""

    default_status_code = 2000
    default_http_status = 409
