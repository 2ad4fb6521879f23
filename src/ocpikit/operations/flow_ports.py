"""What the use cases that talk to partners (:mod:`~ocpikit.operations.commands`,
:mod:`~ocpikit.operations.authorization`) are given by the edge that wires them: the storage,
the partner-calls port, where events go, the clock. ``ocpikit.client.partner_calls.flow_ports``
builds one over httpx; a test builds one over fakes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.protocol.parties import RoutingRules
from ocpikit.protocol.partner_calls import PartnerReach, PaymentReach
from ocpikit.protocol.ports import Partner, Storage
from ocpikit.protocol.webhooks import EventDelivery, EventSink

__all__ = ["DEFAULT_LEASE", "FlowPorts", "PullPort"]

PullPort = Callable[[Partner, str, datetime | None, bool], Awaitable[list[dict[str, Any]]]]
"""``pull(partner, module or "all", since, full)``: one report row per module, as
``ocpikit pull --json`` prints them; ValueError for a module that cannot be pulled
(``ocpikit.client.pull_port`` builds one over httpx)."""

#: how long a sweep holds a record it works on (its deadline moved forward): another process
#: sweeping the same database skips it meanwhile
DEFAULT_LEASE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class FlowPorts:
    """``reach``: the calls to a registered partner. ``base_url``: our public base URL (the
    response URLs we give partners point at it). ``events``: where webhook events are queued
    and ``webhooks``: what POSTs them (both None when no webhook URL is configured)."""

    storage: Storage
    reach: PartnerReach
    base_url: str
    clock: Clock = SYSTEM_CLOCK
    events: EventSink | None = None
    webhooks: EventDelivery | None = None
    lease: timedelta = DEFAULT_LEASE
    #: the operator's choice between connections that reach the same party (``[routing]``)
    rules: RoutingRules | None = None
    #: a CPO's calls to a Payment Terminal Provider (None: the edge wires none)
    payments: PaymentReach | None = None
