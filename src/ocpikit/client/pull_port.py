"""A pull as the backend API starts it (``POST /admin/api/partners/{id}/pull``): what
``ocpikit pull PARTNER MODULE`` does, as a function the composition root hands to the server
(:func:`ocpikit.server.admin.flows.flow_routes`), which imports no HTTP client."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from ocpikit.core.errors import OcpiError
from ocpikit.operations.flow_ports import PullPort
from ocpikit.protocol.ports import Partner, Storage
from ocpikit.protocol.pull_retry import RetryPolicy

__all__ = ["PullPort", "pull_port"]


def pull_port(
    storage: Storage, http: httpx.AsyncClient, pull_defaults: RetryPolicy | None = None
) -> PullPort:
    """Pulls into ``storage`` over ``http`` (the partner calls' client: its exchanges are
    logged like every other call when it has a traffic sink)."""
    from .partner import MODULE_OBJECTS, PartnerClient
    from .sync import HUB_MODULE, PULL_MODULES, pull_into_storage, pullable_modules, remember_auth

    async def pull(
        partner: Partner, module: str, since: datetime | None, full: bool
    ) -> list[dict[str, Any]]:
        client = PartnerClient(
            partner, http, on_auth_learned=remember_auth(storage), pull_defaults=pull_defaults
        )
        if module == "all":
            modules = pullable_modules(client)
        elif module in MODULE_OBJECTS and module in (*PULL_MODULES, HUB_MODULE):
            modules = [module]
        else:
            raise ValueError(f"cannot pull {module!r} (one of {', '.join(PULL_MODULES)}, all)")
        rows: list[dict[str, Any]] = []
        for name in modules:
            try:
                report = await pull_into_storage(client, storage, name, since=since, full=full)
                rows.append(report.as_dict())
            except OcpiError as exc:
                rows.append({"module": name, "error": exc.message, "status_code": exc.status_code})
        return rows

    return pull
