"""The port through which the platform's use cases (``ocpikit.operations``) call a registered
partner's modules: send a command, set, get or clear a charging profile, POST an asynchronous
result to a ``response_url``, ask an eMSP to authorize a token. Every call is in head form and
in the partner's negotiated version on the wire; ``ocpikit.client``'s ``PartnerClient``
implements it (``ocpikit.client.partner_calls`` wires it), tests may pass a fake.

Errors (DESIGN §6): a call raises the :class:`~ocpikit.core.errors.OcpiError` of what went wrong:
the partner's error envelope as its status code's error (2003
:class:`~ocpikit.core.errors.UnknownLocation`, 2004 :class:`~ocpikit.core.errors.UnknownToken`,
...), a transport failure wrapped, :class:`~ocpikit.core.errors.NoEndpoint` when the
partner has no endpoint for the module (or, from :class:`PartnerReach`, no negotiated version or
token).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ocpikit.core.headers import PartyRef
from ocpikit.protocol.ports import Partner

__all__ = ["PartnerCalls", "PartnerReach", "PaymentCalls", "PaymentReach"]


class PartnerCalls(Protocol):
    """The module calls the use cases make to one partner (DIGEST §3.5-§3.7)."""

    async def send_command(
        self, command: str, request: Mapping[str, Any], *, to_party: PartyRef | None = None
    ) -> dict[str, Any]:
        """POST a command (head StartSession, ... with its ``response_url``) to the CPO's
        Commands Receiver; the head CommandResponse. ``to_party``: the CPO when the partner is
        a hub (``OCPI-to-*``; else the partner's own party)."""
        ...

    async def set_charging_profile(
        self, session_id: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PUT a head SetChargingProfile to the ChargingProfiles Receiver; the head
        ChargingProfileResponse."""
        ...

    async def get_active_profile(
        self, session_id: str, *, duration: int, response_url: str
    ) -> dict[str, Any]:
        """GET the ActiveChargingProfile (the result comes later, to ``response_url``)."""
        ...

    async def clear_profile(self, session_id: str, *, response_url: str) -> dict[str, Any]:
        """DELETE the charging profile of a session."""
        ...

    async def post_result(
        self, response_url: str, result: Mapping[str, Any], *, module: str = "commands"
    ) -> None:
        """POST an asynchronous result (a head CommandResult, or a charging-profile result
        with ``module="chargingprofiles"``) to a ``response_url`` the partner gave us."""
        ...

    async def authorize(
        self,
        token_uid: str,
        *,
        token_type: str | None = None,
        location: Mapping[str, Any] | None = None,
        to_party: PartyRef | None = None,
    ) -> dict[str, Any]:
        """``POST {tokens}/{uid}/authorize`` at the eMSP with head LocationReferences; the
        head AuthorizationInfo. ``to_party``: the eMSP when the partner is a hub."""
        ...


class PartnerReach(Protocol):
    """The calls to one registered partner; raises
    :class:`~ocpikit.core.errors.NoEndpoint` when it cannot be called at all."""

    def __call__(self, partner: Partner) -> PartnerCalls: ...


class PaymentCalls(Protocol):
    """A CPO's calls to a Payment Terminal Provider's Payments Sender (2.3.0 mod_payments;
    DIGEST §3.9), head Terminal bodies."""

    async def activate(self, terminal: Mapping[str, Any]) -> dict[str, Any]:
        """``POST {terminals}/activate``: the activated Terminal."""
        ...

    async def deactivate(self, terminal_id: str) -> dict[str, Any]:
        """``POST {terminals}/{terminal_id}/deactivate``: the Terminal as it was, when sent."""
        ...

    async def update(
        self, terminal_id: str, fields: Mapping[str, Any], *, patch: bool
    ) -> dict[str, Any]:
        """``PUT`` or ``PATCH {terminals}/{terminal_id}``: the Terminal, when sent."""
        ...


class PaymentReach(Protocol):
    """The Payments calls to one registered PTP; raises
    :class:`~ocpikit.core.errors.NoEndpoint` when it has no Payments Sender."""

    def __call__(self, partner: Partner) -> PaymentCalls: ...
