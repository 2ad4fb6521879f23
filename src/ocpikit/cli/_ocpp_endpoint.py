"""The OCPP endpoint wired into the app ``ocpikit serve`` runs (:mod:`ocpikit.ocpp_bridge`):
``/ocpp/{charge_point_id}`` on the platform's port, the bridge on the platform's storage and
flow ports (the same partner calls, webhooks and routing rules as the backend API's)."""

from __future__ import annotations

import os
from typing import Any

from ocpikit.core.versions import Role
from ocpikit.protocol.ports import Storage
from ocpikit.server.settings import Settings

__all__ = ["with_ocpp_endpoint"]


def with_ocpp_endpoint(
    app: Any, settings: Settings, storage: Storage, *, force: bool = False
) -> tuple[Any, str | None]:
    """``app`` with the OCPP endpoint when ``[ocpp] enabled`` (or ``force``, or
    ``OCPIKIT_OCPP=true``), and the line ``ocpikit serve`` prints about it; ``ValueError``
    names a bad ``[ocpp]`` key."""
    from ocpikit.ocpp_bridge import ocpp_config

    cpo_parties = [(p.country_code, p.party_id) for p in settings.parties if Role.CPO in p.roles]
    config = ocpp_config(settings.extra, cpo_parties)
    env = os.environ.get("OCPIKIT_OCPP", "").strip().lower() in ("1", "true", "yes", "on")
    if not (config.enabled or force or env):
        return app, None
    from ocpikit.cli._platform import partner_http
    from ocpikit.cli.flows import platform_flows
    from ocpikit.client.http import http_client
    from ocpikit.ocpp_bridge.asgi import with_ocpp
    from ocpikit.ocpp_bridge.bridge import Bridge

    ports = platform_flows(settings, storage, partner_http(settings), http_client())
    bridge = Bridge(ports, config)
    ws = settings.base_url.replace("http", "ws", 1)
    line = (
        f"OCPP:         {ws}/ocpp/{{charge_point_id}} (ocpp1.6, ocpp2.0.1; "
        f"{len(config.charge_points)} charge points configured)"
    )
    return with_ocpp(app, bridge), line
