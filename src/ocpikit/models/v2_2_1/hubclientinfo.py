"""OCPI 2.2.1 HubClientInfo objects (2.2.1 mod_hub_client_info §ClientInfo Object,
§ConnectionStatus)."""

from __future__ import annotations

from enum import StrEnum

from ocpikit.core.types import CiString2, CiString3, DateTime
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_2_1.types import Role

__all__ = ["OBJECTS", "ClientInfo", "ConnectionStatus"]


class ConnectionStatus(StrEnum):
    """State of the Hub's connection to a party (§ConnectionStatus; unchanged in 2.3.0)."""

    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class ClientInfo(OcpiModel):
    """A party connected to a Hub and the state of its connection (§ClientInfo Object)."""

    party_id: CiString3
    country_code: CiString2
    role: Role
    status: ConnectionStatus
    last_updated: DateTime


#: object name -> model, for the registry
OBJECTS: dict[str, type[OcpiModel]] = {"ClientInfo": ClientInfo}
