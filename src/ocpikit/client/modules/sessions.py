"""The Sessions module at a partner (OCPI 2.2.1 ``mod_sessions``; DIGEST §3.2): the CPO's
Sender list (always asked with a ``date_from``), the eMSP's Receiver for our Sessions, and the
Charging Preferences of a session (2.2+)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocpikit.protocol.addressing import join_url

from .objects import SENDER, ObjectsClient

__all__ = ["SessionsClient"]


class SessionsClient(ObjectsClient):
    module = "sessions"

    __slots__ = ()

    async def charging_preferences(
        self, session_id: str, preferences: Mapping[str, Any]
    ) -> str | None:
        """PUT ChargingPreferences to the CPO's Sender; returns the ChargingPreferencesResponse
        (``mod_sessions`` §Set Charging Preferences)."""
        driver = self.driver
        reply = await driver.request(
            "PUT",
            join_url(
                driver.address.endpoint(self.module, SENDER), session_id, "charging_preferences"
            ),
            module=self.module,
            body=dict(preferences),
            to_party=driver.address.their_party(self.module, SENDER),
            object_id=session_id,
        )
        data = reply.envelope.data
        return data if isinstance(data, str) else None
