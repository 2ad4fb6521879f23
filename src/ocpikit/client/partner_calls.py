"""The client side of the ports that ``ocpikit.operations``' partner-facing use cases (commands,
charging profiles, real-time authorization, the sweep) are given: partner calls over
:class:`~ocpikit.client.partner.PartnerClient` (which implements
:class:`~ocpikit.protocol.partner_calls.PartnerCalls`), webhook events POSTed by
:class:`~ocpikit.client.webhooks.WebhookSender`, wired into one
:class:`~ocpikit.operations.flow_ports.FlowPorts`. Wiring only: the use cases are in
:mod:`ocpikit.operations.commands` and :mod:`ocpikit.operations.authorization`.
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.operations.flow_ports import FlowPorts
from ocpikit.protocol.parties import RoutingRules
from ocpikit.protocol.partner_calls import PartnerCalls, PartnerReach, PaymentCalls, PaymentReach
from ocpikit.protocol.ports import Partner, Storage
from ocpikit.protocol.webhooks import StoredEvents

from .partner import PartnerClient
from .sync import remember_auth
from .webhooks import WebhookSender

__all__ = ["flow_ports", "partner_reach", "payment_reach"]


def partner_reach(storage: Storage, http: httpx.AsyncClient, clock: Clock) -> PartnerReach:
    """A :class:`PartnerClient` per partner over the shared ``http`` pool; the Authorization
    encoding a 401 retry learns is persisted (:func:`~ocpikit.client.sync.remember_auth`)."""
    learn = remember_auth(storage)

    def reach(partner: Partner) -> PartnerCalls:
        return PartnerClient(partner, http, clock=clock, on_auth_learned=learn)

    return reach


def payment_reach(storage: Storage, http: httpx.AsyncClient, clock: Clock) -> PaymentReach:
    """The Payments calls of a :class:`PartnerClient` per partner (as :func:`partner_reach`)."""
    learn = remember_auth(storage)

    def reach(partner: Partner) -> PaymentCalls:
        return PartnerClient(partner, http, clock=clock, on_auth_learned=learn).payments

    return reach


def flow_ports(
    storage: Storage,
    http: httpx.AsyncClient,
    *,
    base_url: str,
    clock: Clock = SYSTEM_CLOCK,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    lease: float = 30.0,
    webhook_http: httpx.AsyncClient | None = None,
    rules: RoutingRules | None = None,
) -> FlowPorts:
    """The ports of the flows: partner calls on ``http``; with a ``webhook_url``, events are
    queued in the CommandStore and POSTed (signed with ``webhook_secret``) on ``webhook_http``
    (default ``http``); without one no event is queued."""
    webhooks = (
        WebhookSender(webhook_http or http, webhook_url, secret=webhook_secret, clock=clock)
        if webhook_url
        else None
    )
    return FlowPorts(
        storage=storage,
        reach=partner_reach(storage, http, clock),
        base_url=base_url,
        clock=clock,
        events=StoredEvents(storage.commands, clock.now) if webhook_url else None,
        webhooks=webhooks,
        lease=timedelta(seconds=lease),
        rules=rules,
        payments=payment_reach(storage, http, clock),
    )
