"""What every console page shares: the session check, the CSRF and Origin checks of a POST,
form parsing with a size bound, rendering with Jinja2 (autoescape on for every template),
security headers, and errors as pages (a bad input is a 400 page naming it, never a 500).

A page handler receives a :class:`Page` and returns a response; it raises :class:`UserError`
(or an :class:`~ocpikit.core.errors.OcpiError` of the operations it calls) for input it
refuses.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import jinja2
from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ocpikit.core.errors import OcpiError
from ocpikit.core.types import format_datetime
from ocpikit.server.console.ports import ConsolePorts
from ocpikit.server.console.session import (
    COOKIE,
    ConsoleConfig,
    ConsoleSession,
    SessionKeys,
    console_config,
    session_secret,
)
from ocpikit.server.platform import Platform

__all__ = ["MAX_FORM_BYTES", "Console", "Page", "UserError"]

log = logging.getLogger("ocpikit.console")

#: the largest form body a console POST reads (a command body, a switch value)
MAX_FORM_BYTES = 64 * 1024

#: the console's pages in navigation order: (path, title)
NAVIGATION = (
    ("/console/partners", "Partners"),
    ("/console/sync", "Sync"),
    ("/console/queue", "Queue"),
    ("/console/traffic", "Traffic"),
    ("/console/objects", "Objects"),
    ("/console/commands", "Commands"),
    ("/console/disputes", "Disputes"),
)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class UserError(Exception):
    """Input the console refuses: shown on the page, with ``status`` (400 unless said)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _when(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return format_datetime(value)
    return str(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ocpikit.server.console", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    return env


@dataclass
class Page:
    """One request to a console page: who is signed in, the form of a POST."""

    request: Request
    platform: Platform
    console: Console
    session: ConsoleSession | None
    form: Mapping[str, str] = field(default_factory=dict)

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        return self.console.render(self, template, status, **values)

    def field(self, name: str, *, required: bool = False, default: str = "") -> str:
        """A form field, stripped; UserError naming it when required and empty."""
        value = self.form.get(name, default).strip()
        if required and not value:
            raise UserError(f"{name}: required")
        return value

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default).strip()


class Console:
    """The console's shared state in one app: the Jinja environment, the ``[console]``
    config and the session keys (read once per process)."""

    def __init__(self, ports: ConsolePorts) -> None:
        self.ports = ports
        self.env = _environment()
        self._keys: SessionKeys | None = None
        self._config: ConsoleConfig | None = None

    def config(self, platform: Platform) -> ConsoleConfig:
        if self._config is None:
            try:
                self._config = console_config(platform.settings.extra, platform.settings.base_url)
            except ValueError as exc:  # `serve` checks it first; an embedding app may not
                raise UserError(f"Configuration error: {exc}", 500) from None
        return self._config

    async def keys(self, platform: Platform) -> SessionKeys:
        """The keys sign with the platform's secret bound to the admin token: a new admin
        token signs every session out (a stolen cookie dies with the token it was won by)."""
        if self._keys is None:
            secret = await session_secret(platform.storage)
            bound = hmac.new(secret, platform.settings.admin_token.encode(), hashlib.sha256)
            self._keys = SessionKeys(bound.digest())
        return self._keys

    def still_allowed(self, platform: Platform, user: str) -> bool:
        """A session's user must still be configured (``admin``: the admin token's)."""
        return user == "admin" or user in self.config(platform).users

    def render(self, page: Page, template: str, status: int = 200, **values: Any) -> Response:
        csrf = self._keys.csrf(page.session) if self._keys and page.session else ""
        html = self.env.get_template(template).render(
            nav=NAVIGATION,
            path=page.request.url.path,
            user=page.session.user if page.session else None,
            csrf=csrf,
            **values,
        )
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def endpoint(
        self,
        handler: Callable[[Page], Awaitable[Response]],
        *,
        public: bool = False,
        fragment: bool = False,
    ) -> Callable[[Request], Awaitable[Response]]:
        """A Starlette endpoint: session (unless ``public``), Origin and CSRF checks of a POST,
        then ``handler``; refused input and failures become error pages."""

        async def run(request: Request) -> Response:
            platform: Platform = request.app.state.platform
            page = Page(request, platform, self, None)
            try:
                keys = await self.keys(platform)
                page.session = keys.read(request.cookies.get(COOKIE), time.time())
                if page.session is not None and not self.still_allowed(platform, page.session.user):
                    page.session = None
                if page.session is None and not public:
                    return _signed_out(request, fragment)
                if request.method == "POST":
                    _check_origin(request, platform)
                    page.form = await _read_form(request)
                    if not public and not keys.csrf_ok(page.session, page.form.get("csrf")):  # type: ignore[arg-type]
                        raise UserError(
                            "This form expired or did not come from the console (CSRF token "
                            "missing or wrong): reload the page and try again",
                            403,
                        )
                return await handler(page)
            except UserError as exc:
                return self._error(page, exc.message, exc.status, fragment)
            except OcpiError as exc:
                status = exc.http_status if 400 <= exc.http_status < 500 else 502
                return self._error(page, exc.message, status, fragment)
            except Exception:
                log.exception("console %s %s failed", request.method, request.url.path)
                return self._error(page, "Internal error (see the server log)", 500, fragment)

        return run

    def _error(self, page: Page, message: str, status: int, fragment: bool) -> Response:
        if fragment:
            return HTMLResponse(
                f'<tr class="error"><td colspan="12">{escape(message)}</td></tr>',
                status_code=status,
                headers=SECURITY_HEADERS,
            )
        return self.render(page, "error.html", status, message=message)


def _signed_out(request: Request, fragment: bool) -> Response:
    if fragment or request.method != "GET":
        return HTMLResponse("Signed out: sign in again", status_code=401, headers=SECURITY_HEADERS)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?next={quote(target, safe='')}", status_code=303)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _check_origin(request: Request, platform: Platform) -> None:
    """A POST whose ``Origin`` header names another site is refused (when the header is
    there: the request's own origin or the platform's public one pass)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    allowed = {_origin_of(str(request.url)), _origin_of(platform.settings.base_url)}
    if origin.lower() not in allowed:
        raise UserError(f"Cross-site request refused (Origin {origin})", 403)


async def _read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, first value of each field."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise UserError(f"The form is larger than {MAX_FORM_BYTES} bytes", 413)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and kind != "application/x-www-form-urlencoded":
        raise UserError("Forms are sent as application/x-www-form-urlencoded", 415)
    text = body.decode("utf-8", errors="replace")
    form: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        form.setdefault(name, value)
    return form
