"""The HubClientInfo module at a partner (OCPI 2.2.1 ``mod_hub_client_info``; DIGEST §3.8):
a configuration module, so its requests carry no routing headers."""

from __future__ import annotations

from .objects import ObjectsClient

__all__ = ["HubClientInfoClient"]


class HubClientInfoClient(ObjectsClient):
    module = "hubclientinfo"

    __slots__ = ()
