"""OCPI 2.3.0 HubClientInfo objects (2.3.0 mod_hub_client_info §ClientInfo Object).

The module text is unchanged from 2.2.1, but ``ClientInfo.role`` is the 2.3.0 Role (no ``HUB``),
so ClientInfo is written out again; ConnectionStatus is imported from 2.2.1.
"""

from __future__ import annotations

from ocpikit.core.types import CiString2, CiString3, DateTime
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.hubclientinfo import ConnectionStatus
from ocpikit.models.v2_3_0.types import Role

__all__ = ["OBJECTS", "ClientInfo", "ConnectionStatus"]


class ClientInfo(OcpiModel):
    """A party connected to a Hub and the state of its connection (§ClientInfo Object)."""

    party_id: CiString3
    country_code: CiString2
    role: Role
    status: ConnectionStatus
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {"ClientInfo": ClientInfo}
