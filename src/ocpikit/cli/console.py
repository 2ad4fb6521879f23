"""Composition of the operator console (``/console``, docs/console.md) into ``ocpikit serve``,
and ``ocpikit console hash-password`` (the PBKDF2 hash of a ``[console] users`` password).

The console's routes are mounted next to the backend API's flow routes by
:func:`ocpikit.cli.flows.flow_app`; the ports that need the client package (commands over the
flows' ports, a pull over ``ocpikit.client.sync``) are built here.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

from ocpikit.cli._platform import partner_http
from ocpikit.protocol.ports import Storage
from ocpikit.server.settings import Settings

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from ocpikit.operations.flow_ports import FlowPorts
    from ocpikit.server.console import PullPort

__all__ = ["console_routes_for", "pull_port", "register"]


def pull_port(settings: Settings, storage: Storage) -> PullPort:
    """A pull of one module (or ``all``) from a registered partner into storage, as
    ``ocpikit pull``: one report per module, a failure as ``{"module", "error"}``."""

    async def pull(partner_id: str, module: str) -> list[dict[str, Any]]:
        from ocpikit.client.background import background_config
        from ocpikit.client.partner import PartnerClient
        from ocpikit.client.sync import pull_into_storage, pullable_modules, remember_auth
        from ocpikit.core.errors import OcpiError

        partner = await storage.partners.get(partner_id)
        if partner is None:
            return [{"module": module, "error": f"no partner {partner_id!r}"}]
        try:
            defaults = background_config(settings.extra).pull_defaults
        except ValueError as exc:
            return [{"module": module, "error": str(exc)}]
        rows: list[dict[str, Any]] = []
        async with partner_http(settings) as http:
            client = PartnerClient(
                partner, http, on_auth_learned=remember_auth(storage), pull_defaults=defaults
            )
            modules = pullable_modules(client) if module == "all" else [module]
            for name in modules:
                try:
                    report = await pull_into_storage(client, storage, name)
                    rows.append({**report.as_dict(), "module": name})
                except OcpiError as exc:
                    rows.append({"module": name, "error": exc.message})
        return rows

    return pull


def console_routes_for(settings: Settings, storage: Storage, flows: FlowPorts) -> list[BaseRoute]:
    """The console's routes with this platform's ports."""
    from ocpikit.server.console import ConsolePorts, console_routes

    return console_routes(ConsolePorts(flows=flows, pull=pull_port(settings, storage)))


# --- CLI ----------------------------------------------------------------------------------------
def register(sub: Any) -> None:
    p = sub.add_parser("console", help="the operator console (/console): user passwords")
    csub = p.add_subparsers(dest="console_command", metavar="ACTION", required=True)
    h = csub.add_parser(
        "hash-password",
        help="print the PBKDF2 hash of a password for [console] users (read from stdin when "
        "not a terminal, else asked twice)",
    )
    h.set_defaults(handler=run_hash_password)


def run_hash_password(args: argparse.Namespace) -> int:
    from ocpikit.server.console.passwords import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("ocpikit: the passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("ocpikit: the password is empty", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0
