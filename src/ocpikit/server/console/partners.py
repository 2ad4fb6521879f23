"""The Partners and Sync pages: each connection with its versions, roles, endpoints, profile
and switches (editable), token state, status and last exchange; invite (the token A is shown
once, in the answer to the form, and never again), register with a partner from its versions
URL and token A, unregister; per partner and module the last pull, the objects held, an
unfinished pull and the last failed exchange; trigger a pull. Over
:mod:`ocpikit.operations.partners` and :mod:`ocpikit.server.registry`, as the backend API
and the CLI."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response

from ocpikit.core.errors import OcpiError
from ocpikit.core.types import format_datetime
from ocpikit.operations import partners as ops
from ocpikit.operations.parties import party_directory
from ocpikit.protocol.ports import Partner
from ocpikit.protocol.profiles import PROFILES, profile_of
from ocpikit.server.console.traffic import (
    TrafficFilter,
    exchange_row,
    last_exchange,
    matching,
    module_of,
)
from ocpikit.server.console.web import Page, UserError
from ocpikit.server.registry import invite, register_with, rotate

__all__ = [
    "create_invite",
    "partner_page",
    "partners_page",
    "register_partner",
    "rotate_partner",
    "save_switches",
    "sync_page",
    "trigger_pull",
    "unregister_partner",
]

#: the failed exchanges of a partner the Sync page looks through (newest first) per partner
FAILURES_READ = 200

_SWITCH_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _token_state(partner: Partner) -> str:
    if partner.outbound_token:
        return "we hold their token" + (
            "; ours issued" if partner.status.value == "REGISTERED" else ""
        )
    return "no token of theirs yet"


async def _partner_or_404(page: Page) -> Partner:
    partner_id = page.request.path_params["partner_id"]
    partner = await page.platform.storage.partners.get(partner_id)
    if partner is None:
        raise UserError(f"No partner {partner_id!r}", 404)
    return partner


async def partners_page(page: Page, **extra: Any) -> Response:
    storage = page.platform.storage
    rows = []
    for partner in await storage.partners.all():
        row = ops.partner_summary(partner)
        row["profile"] = profile_of(partner.settings)
        row["token_state"] = _token_state(partner)
        row["last_exchange"] = await last_exchange(storage, partner.id)
        rows.append(row)
    return page.render(
        "partners.html",
        partners=rows,
        invites=await ops.invites(storage),
        parties=await party_directory(storage, page.platform.settings.routing),
        our_parties=[p.key for p in page.platform.settings.parties],
        profiles=sorted(PROFILES),
        **extra,
    )


async def partner_page(page: Page, **extra: Any) -> Response:
    partner = await _partner_or_404(page)
    storage = page.platform.storage
    recent = await matching(storage, TrafficFilter(partner=partner.id), limit=20)
    return page.render(
        "partner.html",
        partner=ops.partner_switches(partner),
        token_state=_token_state(partner),
        sync=await ops.sync_status(storage, partner.id),
        exchanges=[exchange_row(e) for e in recent],
        profiles=sorted(PROFILES),
        **extra,
    )


async def create_invite(page: Page) -> Response:
    ttl_text = page.field("ttl", default="7d") or "7d"
    try:
        ttl = ops.parse_duration(ttl_text)
    except ValueError as exc:
        raise UserError(f"ttl: {exc}") from None
    party = page.field("party") or None
    try:
        created = await invite(
            page.platform.settings,
            page.platform.storage,
            party,
            now=page.platform.clock.now(),
            ttl=ttl,
            expected_party=page.field("for") or None,
        )
    except (KeyError, ValueError) as exc:
        raise UserError(f"party: {exc}") from None
    return page.render("invite.html", created=created)


async def register_partner(page: Page) -> Response:
    versions_url = page.field("versions_url", required=True)
    token = page.field("token", required=True)
    if not versions_url.lower().startswith(("http://", "https://")):
        raise UserError("versions_url: an http(s) URL of the partner's versions endpoint")
    profile = page.field("profile") or None
    if profile is not None and profile not in PROFILES:
        raise UserError(f"profile: one of {', '.join(sorted(PROFILES))}")
    driver = page.platform.registration.driver
    if driver is None:
        raise UserError("This process cannot register with partners (no HTTP driver)", 503)
    try:
        partner = await register_with(
            page.platform.settings,
            page.platform.storage,
            driver,
            versions_url,
            token,
            page.field("party") or None,
            {"profile": profile} if profile else None,
        )
    except (KeyError, ValueError) as exc:
        raise UserError(str(exc)) from None
    return await partners_page(page, message=f"Registered with {partner.id} ({partner.version})")


async def rotate_partner(page: Page) -> Response:
    """New tokens both ways with a credentials PUT to the partner (``ocpikit rotate``)."""
    partner = await _partner_or_404(page)
    driver = page.platform.registration.driver
    if driver is None:
        raise UserError("This process cannot call partners (no HTTP driver)", 503)
    try:
        await rotate(page.platform.settings, page.platform.storage, driver, partner.id)
    except OcpiError as exc:
        raise UserError(f"Rotating failed: {exc.message}", 502) from None
    return await partners_page(page, message=f"New tokens exchanged with {partner.id}")


async def unregister_partner(page: Page) -> Response:
    partner = await _partner_or_404(page)
    if page.field("confirm") != "yes":
        raise UserError("Tick the box to confirm: the partner's tokens stop working at once")
    await ops.unregister(page.platform.storage, partner.id)
    return await partners_page(page, message=f"Unregistered {partner.id}")


def _switch_value(text: str) -> Any:
    """A switch value: JSON when it is JSON, else the text (as ``ocpikit partners set``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


async def save_switches(page: Page) -> Response:
    partner = await _partner_or_404(page)
    profile = page.field("profile") or None
    name = page.field("name")
    switches: dict[str, Any] = {}
    if name:
        if not _SWITCH_NAME.fullmatch(name):
            raise UserError("name: a switch name such as max_attempts")
        value = page.field("value")
        switches[name] = None if page.field("unset") == "yes" or not value else _switch_value(value)
    if profile is None and not switches:
        raise UserError("Choose a profile or name a switch")
    try:
        saved = await ops.set_partner_switches(
            page.platform.storage, partner.id, profile=profile, switches=switches
        )
    except ops.UnknownProfile as exc:
        raise UserError(f"profile: {exc}") from None
    if saved is None:
        raise UserError(f"No partner {partner.id!r}", 404)
    return await partner_page(page, message="Switches saved")


async def sync_page(page: Page, **extra: Any) -> Response:
    storage = page.platform.storage
    rows = []
    for partner in await storage.partners.all():
        status = await ops.sync_status(storage, partner.id)
        failures = await matching(
            storage,
            TrafficFilter(partner=partner.id, status="error"),
            limit=FAILURES_READ,
            scan=FAILURES_READ * 5,
        )
        modules = []
        for module in ops.SYNCED_MODULES:
            state = status.get(module, {"last_sync": None, "objects": 0})
            resume = await storage.partners.get_pull_resume(partner.id, module)
            failed = [e for e in failures if module_of(e.url) == module]
            modules.append(
                {
                    "module": module,
                    **state,
                    "unfinished": None
                    if resume is None
                    else f"{resume.offset} read since {format_datetime(resume.started_at)}",
                    "last_error": exchange_row(failed[0]) if failed else None,
                }
            )
        rows.append({"id": partner.id, "status": partner.status.value, "modules": modules})
    return page.render(
        "sync.html",
        partners=rows,
        modules=ops.SYNCED_MODULES,
        can_pull=page.console.ports.pull is not None,
        **extra,
    )


async def trigger_pull(page: Page) -> Response:
    partner = await _partner_or_404(page)
    module = page.field("module", default="all") or "all"
    if module != "all" and module not in ops.SYNCED_MODULES and module != "hubclientinfo":
        raise UserError(f"module: all or one of {', '.join(ops.SYNCED_MODULES)}")
    pull = page.console.ports.pull
    if pull is None:
        raise UserError("Pulls are not available in this process", 503)
    reports = await pull(partner.id, module)
    return await sync_page(page, pulled=partner.id, reports=reports)
