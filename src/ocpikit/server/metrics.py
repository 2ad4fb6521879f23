"""The platform's metrics in the Prometheus text format (``GET /metrics``; docs/operations.md).

Two kinds, one registry per app:

- **Traffic**, counted as it happens: every exchange the exchange log's batcher is handed
  (:meth:`PlatformMetrics.observe`: the OCPI routes' requests, direction ``in``, and the
  request driver's, direction ``out``) moves ``ocpikit_requests_total`` (by direction, module,
  role, HTTP status and partner) and ``ocpikit_request_duration_seconds`` (by direction and
  module), tallied in :mod:`ocpikit.server.traffic_tally`. The last answer of each partner to
  our calls sets its reachability.
- **State**, read from the database at scrape time only (:meth:`PlatformMetrics.refresh`, then
  a collector that yields the snapshot): the outbox depth per partner and state, the age of
  each partner's oldest waiting entry, dead letters, the lag of each pulled module (time since
  its last complete pull) and the partners' registration status. No request pays for them.

Invariants: label values are bounded: modules and roles are the spec's, statuses are HTTP
codes, partners are registered partners' ids (``-`` for a caller without one); no token, URL or
object id is ever a label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.operations.partners import SYNCED_MODULES
from ocpikit.protocol.partner_registration import PENDING_PREFIX
from ocpikit.protocol.ports import (
    Exchange,
    ExchangeDirection,
    OutboxState,
    PartnerStatus,
    Storage,
)
from ocpikit.server.traffic_tally import TrafficTally

__all__ = ["CONTENT_TYPE", "LATENCY_BUCKETS", "PlatformMetrics"]

#: ``Content-Type`` of the text format
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: seconds; from a local SQLite write to a slow partner's timeout
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: the direction label of each direction (an enum's ``value`` is a property: read once)
_DIRECTION_LABELS = {d: d.value for d in ExchangeDirection}
#: the sides of our OCPI URLs (``/ocpi/{version}/{side}/{module}``)
_SIDES = frozenset({"cpo", "emsp", "hub", "ncp", "other"})


def partner_label(e: Exchange) -> str:
    """The partner label: its id; ``-`` for a caller without one; ``pending`` for a
    registration under way (each has an id of its own: as labels they would never end)."""
    return _partner_label(e.partner_id)


def _partner_label(partner: str | None) -> str:
    if partner is None:
        return "-"
    return "pending" if partner.startswith(PENDING_PREFIX) else partner


def role_of(e: Exchange) -> str:
    """The role label: for a request to us, the side of our URL it reached (``cpo``, ``emsp``,
    ``hub``; ``-`` for versions and credentials); for our calls, ``partner``."""
    if e.direction is ExchangeDirection.OUTBOUND:
        return "partner"
    return _role_of_url(e.url)


def _role_of_url(url: str) -> str:
    """The side of our URL (or its path) a request reached; ``-`` for none."""
    parts = url.split("/ocpi/", 1)
    if len(parts) == 2:
        segments = parts[1].split("/", 2)
        if len(segments) >= 2 and segments[1] in _SIDES:
            return segments[1]
    return "-"


@dataclass(slots=True)
class _Snapshot:
    """What the last scrape read from the database."""

    at: datetime | None = None
    outbox: list[tuple[str, str, int, float]] = field(default_factory=list)
    lag: list[tuple[str, str, float]] = field(default_factory=list)
    status: list[tuple[str, str]] = field(default_factory=list)


class PlatformMetrics:
    """The registry of one app; see the module docstring."""

    def __init__(self, storage: Storage, clock: Clock = SYSTEM_CLOCK) -> None:
        self.storage = storage
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        self.traffic = TrafficTally(LATENCY_BUCKETS)
        #: partner id -> 1.0 when its last answer to our calls was an answer below 500
        self.reachable: dict[str, float] = {}
        self._snapshot = _Snapshot()
        self._labels: dict[tuple[Any, ...], tuple[str, ...]] = {}
        self.registry.register(_Collector(self.traffic.collect))
        self.registry.register(_Collector(self.state_metrics))

    def observe(self, e: Exchange) -> None:
        """Count one exchange (called for every exchange, on the hot path: the label values
        are built once per kind of exchange, then kept)."""
        self._count(e.direction, e.module, role_of(e), e.status, e.partner_id, e.duration_ms)
        if e.direction is ExchangeDirection.OUTBOUND and e.partner_id is not None:
            answered = e.status is not None and e.status < 500
            self.reachable[e.partner_id] = 1.0 if answered else 0.0

    def observe_inbound(
        self, path: str, module: str | None, status: int, partner_id: str | None, duration_ms: float
    ) -> None:
        """Count a request to us that the exchange log does not keep (a sampled-out read):
        what :meth:`observe` counts of its exchange, ``path`` the URL's path."""
        self._count(
            ExchangeDirection.INBOUND, module, _role_of_url(path), status, partner_id, duration_ms
        )

    def _count(
        self,
        direction: ExchangeDirection,
        module: str | None,
        role: str,
        status: int | None,
        partner_id: str | None,
        duration_ms: float | None,
    ) -> None:
        direction_label = _DIRECTION_LABELS[direction]
        module_label = module or "-"
        key = (direction_label, module_label, role, status, partner_id)
        labels = self._labels.get(key)
        if labels is None:
            status_label = str(status) if status is not None else "error"
            labels = self._labels[key] = (
                direction_label,
                module_label,
                role,
                status_label,
                _partner_label(partner_id),
            )
        self.traffic.count(labels)
        if duration_ms is not None:
            self.traffic.observe((direction_label, module_label), duration_ms / 1000)

    async def refresh(self) -> None:
        """Read the state gauges from the database (at scrape time)."""
        storage, now = self.storage, self.clock.now()
        snap = _Snapshot(at=now)
        for depth in await storage.outbox.depths():
            age = max(0.0, (now - depth.oldest).total_seconds())
            snap.outbox.append((depth.partner_id, depth.state.value, depth.count, age))
        for partner in await storage.partners.all():
            snap.status.append((partner.id, partner.status.value))
            if partner.status is not PartnerStatus.REGISTERED:
                continue
            for module in SYNCED_MODULES:
                mark = await storage.partners.get_sync_mark(partner.id, module)
                if mark is not None:
                    snap.lag.append((partner.id, module, (now - mark).total_seconds()))
        self._snapshot = snap

    async def render(self) -> bytes:
        """The text format, the state gauges read now."""
        await self.refresh()
        return generate_latest(self.registry)

    def state_metrics(self) -> Iterable[Metric]:
        """The gauges of the last :meth:`refresh` (the collector's ``collect``)."""
        snap = self._snapshot
        depth = GaugeMetricFamily(
            "ocpikit_outbox_entries",
            "Outbox entries by partner and state",
            labels=["partner", "state"],
        )
        oldest = GaugeMetricFamily(
            "ocpikit_outbox_oldest_age_seconds",
            "Age of the oldest entry waiting for delivery (pending or in flight), by partner",
            labels=["partner"],
        )
        dead = GaugeMetricFamily(
            "ocpikit_outbox_dead_letters", "Dead letters by partner", labels=["partner"]
        )
        ages: dict[str, float] = {}
        # every partner has a dead-letter count, 0 included (an alert on it needs the series)
        deads = dict.fromkeys((partner for partner, _ in snap.status), 0)
        for partner, state, count, age in snap.outbox:
            depth.add_metric([partner, state], count)
            if state == OutboxState.DEAD.value:
                deads[partner] = count
            else:
                ages[partner] = max(ages.get(partner, 0.0), age)
        for partner, count in sorted(deads.items()):
            dead.add_metric([partner], count)
        for partner, age in sorted(ages.items()):
            oldest.add_metric([partner], age)
        lag = GaugeMetricFamily(
            "ocpikit_pull_lag_seconds",
            "Time since the last complete pull of a partner's module",
            labels=["partner", "module"],
        )
        for partner, module, seconds in snap.lag:
            lag.add_metric([partner, module], seconds)
        status = GaugeMetricFamily(
            "ocpikit_partner_status",
            "1 for each partner's registration status",
            labels=["partner", "status"],
        )
        for partner, registration in snap.status:
            status.add_metric([partner, registration], 1)
        up = GaugeMetricFamily(
            "ocpikit_partner_reachable",
            "1 when the partner's last answer to our calls was an answer below HTTP 500",
            labels=["partner"],
        )
        for partner, reachable in sorted(self.reachable.items()):
            up.add_metric([partner], reachable)
        return [depth, oldest, dead, lag, status, up]


class _Collector(Collector):
    """A registry's collector over a function that yields metric families."""

    def __init__(self, families: Callable[[], Iterable[Metric]]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families()
