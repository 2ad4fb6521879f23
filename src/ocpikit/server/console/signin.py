"""Signing in and out of the console (docs/console.md "Sign-in"): with the admin token (user
name left empty) or as a user of ``[console] users`` with the password whose PBKDF2 hash is
configured. Failures count against the caller's address like a partner's failed token
(429 past the limit, :mod:`ocpikit.server.guard`)."""

from __future__ import annotations

import asyncio
import hmac
import time

from starlette.responses import RedirectResponse, Response

from ocpikit.server.console.passwords import verify_password
from ocpikit.server.console.session import COOKIE
from ocpikit.server.console.web import Page

__all__ = ["login", "login_form", "logout", "safe_next"]

HOME = "/console/partners"


def safe_next(target: str) -> str:
    """Where to go after signing in: a console path, never another site."""
    if target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


async def login_form(page: Page) -> Response:
    if page.session is not None:
        return RedirectResponse(safe_next(page.query("next")), status_code=303)
    return page.render("login.html", next=safe_next(page.query("next")))


async def _password_ok(page: Page, user: str, password: str) -> bool:
    if not user:
        expected = page.platform.settings.admin_token
        return bool(expected) and hmac.compare_digest(password.encode(), expected.encode())
    stored = page.console.config(page.platform).users.get(user)
    if stored is None:
        return False
    return await asyncio.to_thread(verify_password, password, stored)


async def login(page: Page) -> Response:
    request, platform = page.request, page.platform
    address = request.client.host if request.client is not None else None
    platform.guard.before_authentication(address)
    config = page.console.config(platform)
    user = page.field("user")
    target = safe_next(page.field("next"))
    if not await _password_ok(page, user, page.form.get("password", "")):
        platform.guard.authentication_failed(address)
        return page.render(
            "login.html", 401, next=target, error="Wrong user name or password", name=user
        )
    keys = await page.console.keys(platform)
    _, cookie = keys.issue(user or "admin", time.time(), config.session_ttl)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(config.session_ttl.total_seconds()),
        path="/console",
        httponly=True,
        samesite="strict",
        secure=config.secure,
    )
    return response


async def logout(page: Page) -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")
    return response
