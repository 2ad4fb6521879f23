"""The platform's use cases, one function each, over the protocol's ports (DESIGN §1).

Every edge calls these and has no second path into storage: the backend API
(``ocpikit.server.admin``), the CLI (``ocpikit.cli``), and the console and the OCPP bridge to
come. Nothing here imports a web framework, an HTTP client or a database driver; what needs a
partner on the wire takes it as an injected port (a registration ``FlowDriver``).

- :mod:`~ocpikit.operations.own_objects`: write, patch and delete our own objects, queueing
  each change for the partners that receive it in the same transaction (the outbox);
- :mod:`~ocpikit.operations.partners`: invite, register with, list and unregister partners;
- :mod:`~ocpikit.operations.parties`: the party directory (which connection reaches whom).
"""

from ocpikit.operations.own_objects import delete_own_object, patch_own_object, put_own_object
from ocpikit.operations.parties import party_directory
from ocpikit.operations.partners import (
    INVITE_TTL,
    SYNCED_MODULES,
    invite,
    invites,
    parse_duration,
    partner_overview,
    partner_summary,
    register_with,
    revoke_invite,
    sync_status,
    unregister,
)

__all__ = [
    "INVITE_TTL",
    "SYNCED_MODULES",
    "delete_own_object",
    "invite",
    "invites",
    "parse_duration",
    "partner_overview",
    "partner_summary",
    "party_directory",
    "patch_own_object",
    "put_own_object",
    "register_with",
    "revoke_invite",
    "sync_status",
    "unregister",
]
