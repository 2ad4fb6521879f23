"""The Payments module at a partner (2.3.0 mod_payments; DIGEST §3.9), both sides:

- at a CPO's Receiver, what a Payment Terminal Provider POSTs: its Terminals and
  FinancialAdviceConfirmations (:meth:`PaymentsClient.post`);
- at a PTP's Sender, what a CPO asks: activate a terminal of its station, deactivate one,
  update one (PUT) or assign it Locations and EVSEs (PATCH).

The module URL splits into ``/terminals`` and ``/financial-advice-confirmations``; no
client-owned-object segments. Payments exists in 2.3.0 only, the head version: bodies are
sent and read as head JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocpikit.core.errors import RemoteProtocolError
from ocpikit.protocol.addressing import join_url

from ..driver import RequestDriver
from .objects import RECEIVER, SENDER

__all__ = ["PAYMENT_PATHS", "PaymentsClient"]

MODULE = "payments"

#: head object name -> its sub-resource of the module URL
PAYMENT_PATHS = {
    "Terminal": "terminals",
    "FinancialAdviceConfirmation": "financial-advice-confirmations",
}


class PaymentsClient:
    """Payments calls to one partner."""

    __slots__ = ("driver",)

    def __init__(self, driver: RequestDriver) -> None:
        self.driver = driver

    async def post(self, kind: str, wire: bytes) -> None:
        """POST a Terminal or FinancialAdviceConfirmation (head JSON) to the CPO's Receiver."""
        driver = self.driver
        await driver.request(
            "POST",
            join_url(driver.address.endpoint(MODULE, RECEIVER), PAYMENT_PATHS[kind]),
            module=MODULE,
            content=wire,
            to_party=driver.address.their_party(MODULE, RECEIVER),
        )

    async def _terminal_call(
        self, method: str, *path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        driver = self.driver
        reply = await driver.request(
            method,
            join_url(driver.address.endpoint(MODULE, SENDER), "terminals", *path),
            module=MODULE,
            body=dict(body) if body is not None else None,
            to_party=driver.address.their_party(MODULE, SENDER),
        )
        data = reply.envelope.data
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise RemoteProtocolError("payments: data is not a Terminal")
        return data

    async def activate(self, terminal: Mapping[str, Any]) -> dict[str, Any]:
        """``POST {terminals}/activate`` (a Terminal with its ``reference``; ``terminal_id``
        optional): the PTP's activated Terminal."""
        return await self._terminal_call("POST", "activate", body=terminal)

    async def deactivate(self, terminal_id: str) -> dict[str, Any]:
        """``POST {terminals}/{terminal_id}/deactivate``: the Terminal as it was, when sent."""
        return await self._terminal_call("POST", terminal_id, "deactivate")

    async def update(
        self, terminal_id: str, fields: Mapping[str, Any], *, patch: bool
    ) -> dict[str, Any]:
        """``PUT`` (location data, ``customer_reference``, ``invoice_base_url``) or ``PATCH``
        (``location_ids``, ``evse_uids``) of one terminal at the PTP."""
        return await self._terminal_call("PATCH" if patch else "PUT", terminal_id, body=fields)
