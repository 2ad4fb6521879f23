"""The ChargingProfiles module at a partner (OCPI 2.2.1 ``mod_charging_profiles``; DIGEST §3.7;
2.2+ only): requests to the CPO's Receiver, whose answers come later to our ``response_url``,
and, as CPO, the results and ActiveChargingProfiles we send to the party that asked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocpikit.core.errors import RemoteProtocolError
from ocpikit.core.versions import V2_2_1
from ocpikit.protocol.addressing import NoEndpoint, join_url

from ..driver import RequestDriver
from .objects import RECEIVER, SENDER

__all__ = ["ChargingProfilesClient"]

MODULE = "chargingprofiles"


class ChargingProfilesClient:
    """Charging profiles of sessions at one partner."""

    __slots__ = ("driver",)

    def __init__(self, driver: RequestDriver) -> None:
        self.driver = driver

    async def set(self, session_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """PUT a SetChargingProfile; returns the ChargingProfileResponse."""
        return await self._ask("PUT", session_id, body=dict(request))

    async def get_active(
        self, session_id: str, *, duration: int, response_url: str
    ) -> dict[str, Any]:
        """GET the ActiveChargingProfile (it comes later, to ``response_url``)."""
        return await self._ask(
            "GET", session_id, params={"duration": str(duration), "response_url": response_url}
        )

    async def clear(self, session_id: str, *, response_url: str) -> dict[str, Any]:
        """DELETE the charging profile of a session."""
        return await self._ask("DELETE", session_id, params={"response_url": response_url})

    async def put_active(self, session_id: str, profile: Mapping[str, Any]) -> None:
        """As CPO: push an ActiveChargingProfile to the party that set one (Sender PUT)."""
        driver = self.driver
        await driver.request(
            "PUT",
            join_url(driver.address.endpoint(MODULE, SENDER), session_id),
            module=MODULE,
            body=dict(profile),
            to_party=driver.address.their_party(MODULE, SENDER),
            object_id=session_id,
        )

    async def post_result(self, response_url: str, result: Mapping[str, Any]) -> None:
        """As CPO: POST a charging-profile result to the ``response_url`` we were given."""
        await self.driver.request(
            "POST",
            response_url,
            module=MODULE,
            body=dict(result),
            to_party=self.driver.address.their_party(MODULE, SENDER),
        )

    async def _ask(
        self,
        method: str,
        session_id: str,
        *,
        body: dict[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        driver = self.driver
        if driver.version < V2_2_1:
            raise NoEndpoint("chargingprofiles exists from OCPI 2.2 on")
        reply = await driver.request(
            method,
            join_url(driver.address.endpoint(MODULE, RECEIVER), session_id),
            module=MODULE,
            body=body,
            params=params,
            to_party=driver.address.their_party(MODULE, RECEIVER),
            object_id=session_id,
        )
        data = driver.one_object(reply.envelope.data, "ChargingProfileResponse")
        if not isinstance(data, dict):
            raise RemoteProtocolError("chargingprofiles: data is not a ChargingProfileResponse")
        return data
