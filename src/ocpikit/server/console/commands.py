"""The Commands part of the Objects pages: send a command to a partner (OCPI 2.2.1 §13,
through :func:`ocpikit.operations.commands.send_command` as ``POST
/admin/api/partners/{id}/commands/{command}``) and watch its record until the partner's
CommandResult makes it final; the open commands in both directions."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import RedirectResponse, Response

from ocpikit.core.errors import InvalidOrMissingParameters, NoEndpoint
from ocpikit.core.versions import HEAD
from ocpikit.operations import commands
from ocpikit.operations.started_sessions import session_started_by
from ocpikit.protocol.commands import COMMAND_OBJECTS
from ocpikit.protocol.ports import CommandDirection, PartnerStatus, Storage
from ocpikit.server.admin.flows import command_record_json, operator_command_body
from ocpikit.server.console.web import Page, UserError

__all__ = ["command_page", "commands_page", "send_command"]


async def _templates(storage: Storage) -> dict[str, dict[str, Any]]:
    """A head body per command to start from: our first Token, a partner's first Location."""
    tokens = await storage.objects.list_page("Token", limit=1, owner=None)
    token = tokens.items[0].document if tokens.items else {"uid": "...", "type": "RFID"}
    locations = await storage.objects.list_page("Location", limit=20)
    location: dict[str, Any] = next(
        (i.document for i in locations.items if i.owner is not None), {}
    )
    evses = location.get("evses") or [{}]
    evse_uid = evses[0].get("uid", "...")
    connectors = evses[0].get("connectors") or [{}]
    where = {"location_id": location.get("id", "..."), "evse_uid": evse_uid}
    return {
        "START_SESSION": {"token": token, **where},
        "STOP_SESSION": {"session_id": "..."},
        "UNLOCK_CONNECTOR": {**where, "connector_id": connectors[0].get("id", "1")},
        "RESERVE_NOW": {
            "token": token,
            "expiry_date": "2030-01-01T00:00:00Z",
            "reservation_id": "R1",
            **where,
        },
        "CANCEL_RESERVATION": {"reservation_id": "R1"},
    }


async def commands_page(page: Page, status: int = 200, **extra: Any) -> Response:
    storage = page.platform.storage
    templates = await _templates(storage)
    partners = [p.id for p in await storage.partners.all(status=PartnerStatus.REGISTERED)]
    open_records = [command_record_json(r) for r in await commands.open_commands(storage)]
    chosen = extra.pop("command", "START_SESSION")
    body = extra.pop("body", None)
    if body is None:
        body = orjson.dumps(templates.get(chosen, {}), option=orjson.OPT_INDENT_2).decode()
    return page.render(
        "commands.html",
        status,
        partners=partners,
        names=sorted(COMMAND_OBJECTS),
        templates={
            k: orjson.dumps(v, option=orjson.OPT_INDENT_2).decode() for k, v in templates.items()
        },
        chosen=chosen,
        body=body,
        open_records=open_records,
        available=page.console.ports.flows is not None,
        **extra,
    )


async def send_command(page: Page) -> Response:
    flows = page.console.ports.flows
    if flows is None:
        raise UserError("Commands cannot be sent from this process", 503)
    partner = page.field("partner", required=True)
    command = page.field("command", required=True).upper()
    text = page.form.get("body", "")
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return await commands_page(
            page, 400, error=f"body: not JSON ({exc})", command=command, body=text
        )
    try:
        head = operator_command_body(HEAD, command, body)
    except InvalidOrMissingParameters as exc:
        return await commands_page(page, 400, error=exc.message, command=command, body=text)
    if await page.platform.storage.partners.get(partner) is None:
        raise UserError(f"partner: no partner {partner!r}", 404)
    try:
        record = await commands.send_command(flows, partner, command, head)
    except NoEndpoint as exc:
        return await commands_page(page, 400, error=exc.message, command=command, body=text)
    return RedirectResponse(f"/console/commands/sent/{record.id}", status_code=303)


async def command_page(page: Page) -> Response:
    try:
        direction = CommandDirection(page.request.path_params["direction"])
    except ValueError:
        raise UserError("direction: sent, received or relayed", 404) from None
    command_id = page.request.path_params["command_id"]
    record = await commands.command_record(page.platform.storage, direction, command_id)
    if record is None:
        raise UserError(f"No command {command_id!r}", 404)
    session = None
    if record.command == "START_SESSION" and direction is CommandDirection.SENT:
        found = await session_started_by(page.platform.storage, record)
        session = None if found is None else found.key.id
    out = command_record_json(record)
    pretty = {
        k: orjson.dumps(out[k], option=orjson.OPT_INDENT_2).decode()
        for k in ("request", "response", "result")
    }
    return page.render("command.html", record=out, pretty=pretty, session=session)
