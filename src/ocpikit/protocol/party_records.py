"""The records of the party directory (see :mod:`ocpikit.protocol.parties` for its rules):
one row per remote party, role and connection that reaches it. Kept apart from the rules so
that the storage ports can name them without importing the rules.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Learned", "Path", "RemoteParty", "party_key"]


def party_key(country_code: str, party_id: str) -> str:
    """``CC-PID`` in upper case, as the operator names a party (CiStrings, types §CiString)."""
    return f"{country_code.upper()}-{party_id.upper()}"


class Path(enum.StrEnum):
    """How a party is reached."""

    DIRECT = "direct"  # the party registered with us itself
    HUB = "hub"  # through a hub connection


class Learned(enum.StrEnum):
    """Where the directory learned a party."""

    CREDENTIALS = "credentials"  # the connection's credentials roles
    HUBCLIENTINFO = "hubclientinfo"  # the hub listed it (pushed or pulled ClientInfo)
    TRAFFIC = "traffic"  # the hub forwarded an object of it


@dataclass(frozen=True, slots=True)
class RemoteParty:
    """One directory row: ``(country_code, party_id, role)`` reached over ``partner_id``."""

    country_code: str
    party_id: str
    role: str
    partner_id: str
    path: Path
    learned: Learned
    status: str | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> str:
        """``CC-PID`` in upper case, as the operator names a party."""
        return party_key(self.country_code, self.party_id)
