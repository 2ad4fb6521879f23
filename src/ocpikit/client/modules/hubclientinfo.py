"""The HubClientInfo module at a partner (OCPI 2.2.1 ``mod_hub_client_info``; DIGEST §3.8):
a configuration module, so its requests carry no routing headers. A ClientInfo's Receiver URL
is ``{hubclientinfo}/{country_code}/{party_id}``: the party is the object's whole id."""

from __future__ import annotations

from ocpikit.core.versions import InterfaceRole
from ocpikit.protocol.addressing import join_url
from ocpikit.protocol.ports import ObjectKey

from .objects import ObjectsClient

__all__ = ["HubClientInfoClient"]


class HubClientInfoClient(ObjectsClient):
    module = "hubclientinfo"

    __slots__ = ()

    def object_url(self, key: ObjectKey, token_type: str | None = None) -> str:
        """``{receiver}/{country_code}/{party_id}`` (mod_hub_client_info §Receiver PUT)."""
        endpoint = self.driver.address.endpoint(self.module, InterfaceRole.RECEIVER)
        return join_url(endpoint, key.country_code, key.party_id)
